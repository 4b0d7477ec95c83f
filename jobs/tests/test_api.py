"""Job status API and Idempotency-Key semantics, at the HTTP level."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from jobs.models import IdempotencyKey, Job, JobKind, JobStatus
from jobs.tests.helpers import bank_csv


def upload(client: APIClient, company, *, content: bytes, key: str | None = None, name: str = "bank.csv"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/api/imports/",
        {"company": company.slug, "bank_account": "1000", "file": SimpleUploadedFile(name, content)},
        format="multipart",
        **headers,
    )


def test_job_detail_has_the_original_shape(company_a, accountant_a, token_client_for):
    job = Job.objects.create(company=company_a, kind=JobKind.INGEST, status=JobStatus.FINISHED, progress=100,
                             result={"imported": 3})

    response = token_client_for(accountant_a).get(f"/api/jobs/{job.id}")

    assert response.status_code == 200
    body = response.json()
    assert body["job_id"] == str(job.id)
    assert body["status"] == "finished"
    assert body["progress"] == 100
    assert body["result"] == {"imported": 3}
    assert body["kind"] == "ingest"
    assert body["company"] == "alpha-bakery"
    assert {"started_at", "finished_at", "error"} <= body.keys()


def test_job_detail_serializes_every_field(company_a, accountant_a, token_client_for):
    started = timezone.now() - timedelta(minutes=2)
    job = Job.objects.create(company=company_a, kind=JobKind.CLASSIFY, status=JobStatus.FINISHED_WITH_ERRORS,
                             progress=100, processed_count=7, total_count=8, result={"rejected": 1},
                             error="1 row rejected", error_code="rows_rejected", started_at=started,
                             finished_at=started + timedelta(seconds=90), params={"secret": "not shown"})

    body = token_client_for(accountant_a).get(f"/api/jobs/{job.id}").json()

    job.refresh_from_db()
    assert body == {
        "job_id": str(job.id), "status": "finished_with_errors", "progress": 100,
        "started_at": started.isoformat().replace("+00:00", "Z"),
        "finished_at": (started + timedelta(seconds=90)).isoformat().replace("+00:00", "Z"),
        "result": {"rejected": 1}, "error": "1 row rejected", "error_code": "rows_rejected", "kind": "classify",
        "company": "alpha-bakery", "processed_count": 7, "total_count": 8,
        "created_at": job.created_at.isoformat().replace("+00:00", "Z"),
    }


@pytest.fixture(params=["postgresql", "orm"])
def job_status_path(request, monkeypatch):
    """The job-status poll's two implementations: its PostgreSQL query, and the ORM everywhere else."""
    if request.param == "postgresql" and connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL query needs DATABASE_URL=postgres://...")
    if request.param == "orm" and connection.vendor == "postgresql":
        monkeypatch.setattr(connection, "vendor", "orm-fallback")
    return request.param


@pytest.mark.parametrize("who", ["accountant", "superuser"])
def test_job_status_poll_is_two_lookups(who, job_status_path, company_a, accountant_a, superuser, token_client_for,
                                        django_assert_num_queries):
    """Clients poll the job status while an import runs: the token and the job (with the membership check in the
    same query), each by a unique key, without a DISTINCT subquery or an ORDER BY to plan."""
    job = Job.objects.create(company=company_a, kind=JobKind.INGEST, status=JobStatus.STARTED)
    client = token_client_for(accountant_a if who == "accountant" else superuser)
    assert client.get(f"/api/jobs/{job.id}").status_code == 200  # the first use records last_used_at

    with django_assert_num_queries(2), CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/jobs/{job.id}")

    assert response.status_code == 200
    token_sql, job_sql = (query["sql"].upper() for query in queries.captured_queries)
    assert "TRANSACTIONS_APITOKEN" in token_sql and "JOBS_JOB" in job_sql
    for sql in (token_sql, job_sql):
        assert "ORDER BY" not in sql and "DISTINCT" not in sql


def test_job_status_poll_answers_what_the_serializer_does_to_members_and_superusers_only(
    job_status_path, company_a, company_b, accountant_a, outsider, superuser, token_client_for
):
    started = timezone.now() - timedelta(hours=1)
    jobs = [
        Job.objects.create(company=company_a, kind=JobKind.INGEST),
        Job.objects.create(company=company_a, kind=JobKind.CLASSIFY, status=JobStatus.STARTED, progress=40,
                           processed_count=400, total_count=1000, started_at=started),
        Job.objects.create(company=company_a, kind=JobKind.RECONCILE, status=JobStatus.FAILED, progress=100,
                           error="Der Kontoauszug ist leer", error_code="empty_file", started_at=started,
                           finished_at=started + timedelta(microseconds=1), result=[{"line": 1, "€": None}]),
    ]
    other = Job.objects.create(company=company_b, kind=JobKind.INGEST, result={"imported": 0})
    member, stranger, root = (token_client_for(user) for user in (accountant_a, outsider, superuser))
    # The company list serializes model instances with the same JobSerializer.
    listed = {item["job_id"]: item for item in member.get(f"/api/jobs/company/{company_a.id}").json()}

    for job in jobs:
        assert member.get(f"/api/jobs/{job.id}").json() == listed[str(job.id)]
        assert root.get(f"/api/jobs/{job.id}").json() == listed[str(job.id)]
        assert stranger.get(f"/api/jobs/{job.id}").status_code == 404
    assert member.get(f"/api/jobs/{other.id}").status_code == 404
    assert root.get(f"/api/jobs/{other.id}").json()["result"] == {"imported": 0}
    assert member.get("/api/jobs/00000000-0000-0000-0000-000000000000").status_code == 404


def test_company_job_list_is_newest_first_and_capped_at_50(company_a, accountant_a, token_client_for):
    jobs = [Job.objects.create(company=company_a, kind=JobKind.INGEST) for _ in range(55)]
    base = timezone.now()
    for age, job in enumerate(reversed(jobs)):
        Job.objects.filter(id=job.id).update(created_at=base - timedelta(minutes=age))

    response = token_client_for(accountant_a).get(f"/api/jobs/company/{company_a.id}")

    assert response.status_code == 200
    listed = [item["job_id"] for item in response.json()]
    assert listed == [str(job.id) for job in reversed(jobs)][:50]


def test_company_job_list_accepts_the_slug(company_a, accountant_a, token_client_for):
    job = Job.objects.create(company=company_a, kind=JobKind.INGEST)

    response = token_client_for(accountant_a).get("/api/jobs/company/alpha-bakery")

    assert [item["job_id"] for item in response.json()] == [str(job.id)]


def test_user_of_another_company_gets_404_for_job_and_list(company_a, outsider, token_client_for):
    job = Job.objects.create(company=company_a, kind=JobKind.INGEST)
    client = token_client_for(outsider)

    assert client.get(f"/api/jobs/{job.id}").status_code == 404
    assert client.get(f"/api/jobs/company/{company_a.id}").status_code == 404
    assert client.get("/api/jobs/company/alpha-bakery").status_code == 404


def test_user_never_sees_other_companies_jobs_in_own_list(company_a, company_b, outsider, token_client_for):
    Job.objects.create(company=company_a, kind=JobKind.INGEST)
    own = Job.objects.create(company=company_b, kind=JobKind.INGEST)

    response = token_client_for(outsider).get(f"/api/jobs/company/{company_b.id}")

    assert [item["job_id"] for item in response.json()] == [str(own.id)]


@pytest.mark.parametrize("path", ["/api/jobs/00000000-0000-0000-0000-000000000000", "/api/jobs/company/1"])
def test_anonymous_requests_get_401(db, api_client, path):
    response = api_client.get(path)

    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_bad_token_gets_401(db, api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert api_client.get("/api/jobs/company/1").status_code == 401


def test_same_idempotency_key_and_payload_returns_the_same_job(company_a, accountant_a, token_client_for):
    client = token_client_for(accountant_a)
    content = bank_csv(3)

    first = upload(client, company_a, content=content, key="k-1")
    second = upload(client, company_a, content=content, key="k-1")

    assert first.status_code == second.status_code == 202
    assert first.json()["job"]["job_id"] == second.json()["job"]["job_id"]
    assert Job.objects.count() == 1


def test_same_idempotency_key_with_other_payload_is_422(company_a, accountant_a, token_client_for):
    client = token_client_for(accountant_a)
    upload(client, company_a, content=bank_csv(3), key="k-1")

    response = upload(client, company_a, content=bank_csv(4), key="k-1")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "different request" in response.json()["message"]
    assert Job.objects.count() == 1


def test_idempotency_key_is_free_again_after_24_hours(company_a, accountant_a, token_client_for):
    client = token_client_for(accountant_a)
    content = bank_csv(3)
    first = upload(client, company_a, content=content, key="k-1")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))

    second = upload(client, company_a, content=content, key="k-1")

    assert second.status_code == 202
    assert second.json()["job"]["job_id"] != first.json()["job"]["job_id"]
    assert Job.objects.count() == 2


def test_idempotency_keys_are_scoped_per_user(company_a, accountant_a, reviewer_a, token_client_for):
    content = bank_csv(3)

    first = upload(token_client_for(accountant_a), company_a, content=content, key="shared")
    second = upload(token_client_for(reviewer_a), company_a, content=content, key="shared")

    assert first.json()["job"]["job_id"] != second.json()["job"]["job_id"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_job(company_a, accountant_a, token_client_for):
    content = bank_csv(3)
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    responses = []
    errors = []

    def send() -> None:
        try:
            client = token_client_for(accountant_a)
            barrier.wait(timeout=10)
            responses.append(upload(client, company_a, content=content, key="race"))
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert [r.status_code for r in responses] == [202] * threads_count
    assert len({r.json()["job"]["job_id"] for r in responses}) == 1
    assert Job.objects.count() == 1
