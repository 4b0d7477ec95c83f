"""On a real worker: an upload's ingest job queues a classify job whose rules decide the new lines, and a
promote_rules job proposes rules from confirmed history."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import wait_for
from decisions.models import Decision, DecisionMethod
from jobs.models import Job, JobKind, JobStatus
from jobs.services import job_create
from jobs.tests.helpers import bank_csv
from rules.models import Rule, RuleStatus
from rules.services.lifecycle import rule_create
from rules.tests.factories import add_lines, vendor_rule
from transactions.models import Transaction, TransactionStatus

pytestmark = pytest.mark.worker


def test_an_upload_is_ingested_then_classified_by_the_companys_rules(
    company_a, admin_a, accountant_a, token_client_for, worker_factory
):
    rule = rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    client = token_client_for(accountant_a)
    response = client.post(
        "/api/imports/",
        {"company": company_a.slug, "bank_account": "1000", "file": SimpleUploadedFile("bank.csv", bank_csv(500))},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    worker = worker_factory()

    def classified() -> Job | None:
        job = Job.objects.filter(company=company_a, kind=JobKind.CLASSIFY).first()
        return job if job and job.status in (JobStatus.FINISHED, JobStatus.FAILED) else None

    job = wait_for(classified, timeout=120, message=lambda: f"no finished classify job; worker log:\n{worker.log()}")

    assert job.status == JobStatus.FINISHED, job.error
    staples = Transaction.objects.filter(company=company_a, description__startswith="STAPLES")
    assert job.result["by_method"] == {"rule": 100, "review": 400}
    assert set(staples.values_list("status", "account__code")) == {(TransactionStatus.CATEGORIZED, "6100")}
    assert Decision.objects.filter(method=DecisionMethod.RULE, rule=rule, rule_version=1).count() == 100
    assert Rule.objects.get(pk=rule.pk).hit_count == 100


def test_a_promote_rules_job_runs_on_a_worker(company_a, worker_factory):
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100")
    job, _ = job_create(company=company_a, kind=JobKind.PROMOTE_RULES, created_by=None, params={})
    worker = worker_factory()

    def finished() -> Job | None:
        job.refresh_from_db()
        return job if job.status in (JobStatus.FINISHED, JobStatus.FAILED) else None

    wait_for(finished, timeout=60, message=lambda: f"promote_rules job did not finish; worker log:\n{worker.log()}")

    assert job.status == JobStatus.FINISHED, job.error
    assert job.result["proposed"] == 1
    assert Rule.objects.get().status == RuleStatus.PROPOSED
    assert "jobs.promote_rules" in worker.log()


def test_a_train_job_runs_on_a_worker_and_activates_the_first_version(transactional_db, worker_factory, tmp_path):
    from mlmodels.models import ModelVersion
    from mlmodels.tests.factories import demo_company_with_history

    company = demo_company_with_history(800)
    job, _ = job_create(company=company, kind=JobKind.TRAIN, created_by=None, params={"scope": "company"})
    worker = worker_factory(LEDGER_MODELS_DIR=str(tmp_path / "worker-models"))

    def finished() -> Job | None:
        job.refresh_from_db()
        return job if job.status in (JobStatus.FINISHED, JobStatus.FAILED) else None

    # Generous: training competes for the 2 cores with the rest of a CI run.
    wait_for(finished, timeout=300, message=lambda: f"train job did not finish; worker log:\n{worker.log()}")

    assert job.status == JobStatus.FINISHED, job.error
    version = ModelVersion.objects.get(company=company)
    assert (job.result["number"], job.result["active"], version.is_active) == (1, True, True)
    assert (tmp_path / "worker-models" / version.artifact).exists()


@pytest.mark.parametrize(("task", "queue"), [("jobs.classify", "default"), ("jobs.promote_rules", "low"),
                                             ("jobs.promote_rules_all", "low"), ("jobs.train", "low")])
def test_rule_work_is_routed_to_its_queue(task, queue):
    from ledger_site.celery import app

    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_promotion_is_scheduled_nightly():
    from ledger_site.celery import app

    [entry] = [entry for entry in app.conf.beat_schedule.values() if entry["task"] == "jobs.promote_rules_all"]
    assert entry["schedule"].hour == {3}
