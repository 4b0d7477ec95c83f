"""Chunk attempts, in-process: a chunk that crashed the worker too often is skipped, one that raised is not counted,
and a run that arrives after another one finished the import changes nothing. (The crashes themselves are real in
jobs/tests/test_faults.py; here the database state they leave is set up directly.)"""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError

from jobs.models import Job, JobKind, JobStatus
from jobs.services import job_run
from jobs.tests.helpers import bank_csv
from transactions.models import Account, AuditEvent, ImportBatch, Transaction
from transactions.services import ingest
from transactions.services.imports import import_batch_submit


@pytest.fixture(autouse=True)
def _small_chunks(settings):
    settings.LEDGER_INGEST_CHUNK_ROWS = 500
    settings.LEDGER_CHUNK_MAX_ATTEMPTS = 3


def submit(company, rows: int) -> ImportBatch:
    return import_batch_submit(
        company=company, bank_account=Account.objects.get(company=company, code="1000"),
        upload=SimpleUploadedFile("bank.csv", bank_csv(rows)), filename="bank.csv", user=None, enqueue=False,
    )


def lines_of(batch: ImportBatch) -> list[int]:
    return list(Transaction.objects.filter(import_batch=batch).order_by("line").values_list("line", flat=True))


def test_a_chunk_that_crashed_the_worker_too_often_is_rejected_with_the_reason_and_the_rest_imported(company_a):
    # Given an import whose second chunk (rows 500-999, lines 502-1001) killed three workers
    batch = submit(company_a, 1_500)
    # as if chunk one had committed, and chunk two then crashed a worker three times
    ImportBatch.objects.filter(id=batch.id).update(rows_done=500, chunk_attempts=3)

    # When the next run gets to it
    job_run(job_id=batch.job_id, worker="after-three-crashes")

    # Then its rows are rejected with the reason, and the run goes on past it
    batch.refresh_from_db()
    job = Job.objects.get(id=batch.job_id)
    assert job.status == JobStatus.FINISHED_WITH_ERRORS
    assert lines_of(batch) == list(range(1_002, 1_502))
    assert (batch.rows_done, batch.imported_count, batch.rejected_count) == (1_500, 500, 500)
    errors = list(batch.row_errors.values_list("line", "column", "message"))
    assert [line for line, _, _ in errors] == list(range(502, 1_002))
    assert errors[0][2] == (
        "Not imported: lines 502-1001 are one chunk of this file, and it crashed the import worker 3 times, "
        "so it was skipped. Nothing else in the file was affected."
    )
    [failed] = batch.chunk_failures.all()
    assert (failed.first_row, failed.rows, failed.attempts) == (500, 500, 3)
    assert batch.chunk_attempts == 0


def test_a_chunk_below_the_limit_is_tried_again_and_its_attempt_counted_before_the_work(company_a, monkeypatch):
    batch = submit(company_a, 1_000)
    ImportBatch.objects.filter(id=batch.id).update(chunk_attempts=2)  # chunk one crashed two workers
    seen: list[int] = []
    write = ingest._write_chunk

    def spy(**kwargs):
        seen.append(ImportBatch.objects.values_list("chunk_attempts", flat=True).get(id=batch.id))
        return write(**kwargs)

    monkeypatch.setattr(ingest, "_write_chunk", spy)

    job_run(job_id=batch.job_id, worker="third-try")

    assert seen == [3, 1]  # the third attempt at chunk one was on record while it ran; chunk two's first
    assert Job.objects.get(id=batch.job_id).status == JobStatus.FINISHED
    assert lines_of(batch) == list(range(2, 1_002))
    batch.refresh_from_db()
    assert (batch.chunk_attempts, batch.chunk_failures.count()) == (0, 0)


@pytest.mark.parametrize(
    ("error", "status"),
    [(OperationalError("server closed the connection"), JobStatus.QUEUED), (ValueError("a bug"), JobStatus.FAILED)],
    ids=["lost-connection-retried", "bug-fails-the-job"],
)
def test_a_chunk_that_raises_gives_its_attempt_back(company_a, monkeypatch, error, status):
    # Given a chunk that raises instead of killing the worker
    batch = submit(company_a, 1_000)

    def fail(**kwargs):
        raise error

    monkeypatch.setattr(ingest, "_write_chunk", fail)

    # When the job runs
    try:
        job_run(job_id=batch.job_id, worker="w")
    except OperationalError:
        pass  # a transient error goes back to Celery, which retries the task

    # Then the job is retried or failed as before, and the attempt is not counted as a crash
    assert Job.objects.get(id=batch.job_id).status == status
    batch.refresh_from_db()
    assert (batch.rows_done, batch.chunk_attempts) == (0, 0)
    assert not Transaction.objects.filter(import_batch=batch).exists()


def test_a_late_duplicate_run_writes_nothing_and_does_not_finish_the_import_twice(company_a):
    # Given an import finished by one run
    batch = submit(company_a, 1_200)
    job_run(job_id=batch.job_id, worker="first")
    job = Job.objects.get(id=batch.job_id)
    first_result = job.result

    # When a second run of the same job arrives (a redelivered message, a sweep that took the first for dead)
    result = ingest.import_batch_ingest(job=job).result

    # Then it reports the same import and changes nothing
    assert result == first_result
    assert lines_of(batch) == list(range(2, 1_202))
    assert AuditEvent.objects.filter(action="import.finish", object_id=str(batch.id)).count() == 1
    assert Job.objects.filter(kind=JobKind.CLASSIFY, params__import_batch=str(batch.id)).count() == 1
    batch.refresh_from_db()
    assert (batch.status, batch.rows_done, batch.imported_count) == ("imported", 1_200, 1_200)
