"""Job lifecycle services: claim, enqueue-on-commit, orphan sweep."""
from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from jobs.models import Job, JobKind, JobStatus
from jobs.services import job_claim, job_create, job_progress, job_sweep_orphans
from transactions.tests.factories import CompanyFactory, MembershipFactory


def test_job_is_enqueued_only_after_commit(company_a, accountant_a, django_capture_on_commit_callbacks, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job, created = job_create(company=company_a, kind=JobKind.INGEST, created_by=accountant_a, params={})

    assert created
    assert len(callbacks) == 1
    assert Job.objects.get(id=job.id).status == JobStatus.QUEUED


def test_only_one_claim_wins(company_a):
    job = Job.objects.create(company=company_a, kind=JobKind.INGEST)

    first = job_claim(job_id=job.id, worker="w1")
    second = job_claim(job_id=job.id, worker="w2")

    assert first is not None and second is None
    job.refresh_from_db()
    assert (job.status, job.worker, job.attempts) == (JobStatus.STARTED, "w1", 1)


def test_progress_never_moves_back(company_a):
    # Two runs of one import estimate the percentage each from its own reading position
    job = Job.objects.create(company=company_a, kind=JobKind.INGEST, status=JobStatus.STARTED, attempts=2)

    job_progress(job=job, processed=1_000, total=None, percent=40)
    job_progress(job=job, processed=1_500, total=None, percent=35)

    job.refresh_from_db()
    assert (job.progress, job.processed_count) == (40, 1_500)
    job_progress(job=job, processed=2_000, total=None, percent=120)
    job.refresh_from_db()
    assert job.progress == 99  # 100 only when it has finished


def test_sweep_requeues_a_started_job_with_a_stale_heartbeat(company_a, settings, django_capture_on_commit_callbacks):
    settings.LEDGER_JOB_STALE_SECONDS = 60
    stale = Job.objects.create(company=company_a, kind=JobKind.INGEST, status=JobStatus.STARTED, attempts=1,
                               heartbeat_at=timezone.now() - timedelta(seconds=61))
    alive = Job.objects.create(company=company_a, kind=JobKind.INGEST, status=JobStatus.STARTED, attempts=1,
                               heartbeat_at=timezone.now())

    requeued = job_sweep_orphans()

    assert requeued == [str(stale.id)]
    stale.refresh_from_db()
    alive.refresh_from_db()
    assert stale.status == JobStatus.QUEUED
    assert alive.status == JobStatus.STARTED


def test_sweep_fails_a_job_whose_worker_died_too_often(company_a, settings):
    settings.LEDGER_JOB_STALE_SECONDS = 60
    settings.LEDGER_JOB_MAX_ATTEMPTS = 3
    job = Job.objects.create(company=company_a, kind=JobKind.INGEST, status=JobStatus.STARTED, attempts=3,
                             heartbeat_at=timezone.now() - timedelta(seconds=61))

    assert job_sweep_orphans() == []

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error_code == "worker_lost"
    assert "3 times" in job.error


def test_jobs_for_user_are_those_of_their_companies_each_once(company_a, company_b, accountant_a, superuser):
    MembershipFactory(user=accountant_a, company=company_b)  # a member of two companies
    other = CompanyFactory(slug="gamma")
    mine = [Job.objects.create(company=company, kind=JobKind.INGEST) for company in (company_a, company_b, company_b)]
    theirs = Job.objects.create(company=other, kind=JobKind.INGEST)

    assert sorted(job.id for job in Job.objects.for_user(accountant_a)) == sorted(job.id for job in mine)
    assert Job.objects.for_user(accountant_a).count() == 3
    assert set(Job.objects.for_user(superuser)) == {*mine, theirs}
    assert not Job.objects.for_user(AnonymousUser()).exists()
