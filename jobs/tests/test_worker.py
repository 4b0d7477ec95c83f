"""A real Celery worker process runs jobs end to end, and a killed worker loses nothing and doubles nothing."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import wait_for
from jobs.models import Job, JobStatus
from jobs.tests.helpers import bank_csv
from transactions.models import ImportBatch, Transaction

pytestmark = pytest.mark.worker


def submit(client, company, content: bytes) -> str:
    response = client.post(
        "/api/imports/",
        {"company": company.slug, "bank_account": "1000", "file": SimpleUploadedFile("bank.csv", content)},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return response.json()["job"]["job_id"]


def test_worker_runs_import_while_status_api_reports_started_then_finished(
    company_a, accountant_a, token_client_for, worker_factory
):
    client = token_client_for(accountant_a)
    rows = 20_000
    job_id = submit(client, company_a, bank_csv(rows))
    worker = worker_factory()
    seen: list[tuple[str, int]] = []

    def finished() -> dict | None:
        body = client.get(f"/api/jobs/{job_id}").json()
        if not seen or seen[-1] != (body["status"], body["progress"]):
            seen.append((body["status"], body["progress"]))
        return body if body["status"] in ("finished", "failed") else None

    body = wait_for(finished, timeout=120, interval=0.02, message=lambda: f"job did not finish; worker log:\n{worker.log()}")

    statuses = [status for status, _ in seen]
    assert "started" in statuses, seen
    assert statuses.index("started") < statuses.index("finished")
    assert any(status == "started" and 0 < progress < 100 for status, progress in seen), seen
    assert body["progress"] == 100
    assert body["started_at"] and body["finished_at"]
    assert body["result"]["imported"] == rows
    assert body["result"]["rows"] == rows
    assert Transaction.objects.filter(company=company_a).count() == rows


def test_killed_worker_job_completes_exactly_once_on_a_new_worker(
    company_a, accountant_a, token_client_for, worker_factory
):
    rows = 100_000
    job_id = submit(token_client_for(accountant_a), company_a, bank_csv(rows))
    fast_recovery = {"LEDGER_JOB_STALE_SECONDS": "3", "LEDGER_SWEEP_SECONDS": "1"}
    first = worker_factory(**fast_recovery)
    batch = ImportBatch.objects.get(job_id=job_id)

    wait_for(
        lambda: ImportBatch.objects.get(id=batch.id).rows_done >= 2_000,
        timeout=120,
        message=lambda: f"the import never got going; worker log:\n{first.log()}",
    )
    first.kill()
    interrupted = Job.objects.get(id=job_id)
    committed_when_killed = ImportBatch.objects.get(id=batch.id).rows_done
    assert interrupted.status == JobStatus.STARTED
    assert 0 < committed_when_killed < rows

    second = worker_factory(**fast_recovery)
    wait_for(
        lambda: Job.objects.get(id=job_id).is_final,
        timeout=180,
        message=lambda: f"the job was not recovered; worker log:\n{second.log()}",
    )

    job = Job.objects.get(id=job_id)
    batch.refresh_from_db()
    assert job.status == JobStatus.FINISHED
    assert job.attempts == 2
    assert job.result["imported"] == rows
    assert (batch.imported_count, batch.duplicate_count, batch.rejected_count) == (rows, 0, 0)
    lines = Transaction.objects.filter(import_batch=batch).values_list("line", flat=True)
    assert sorted(lines) == list(range(2, rows + 2))  # every line once: no duplicate, no gap
