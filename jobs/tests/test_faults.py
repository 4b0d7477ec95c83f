"""Faults with real processes and real services, each bounded in time.

A worker SIGKILLed mid-import is covered in `test_worker.py` (a new worker finishes the job, every row once).
Here: a chunk that kills the worker every time, the broker server restarted under a running import, the
database connection of a worker terminated mid-chunk, and an upload while the broker is unreachable.
"""
from __future__ import annotations

import datetime
import re
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from conftest import ROOT, wait_for
from jobs.models import Job, JobStatus
from jobs.tests.fault_injection import POISON_MARKER
from jobs.tests.faults import RedisServer, celery_broker, free_port
from jobs.tests.helpers import bank_csv
from transactions.models import ImportBatch, Transaction

pytestmark = pytest.mark.worker

FAST_RECOVERY = {"LEDGER_JOB_STALE_SECONDS": "3", "LEDGER_SWEEP_SECONDS": "1"}


def submit(client, company, content: bytes, name: str = "bank.csv") -> tuple[str, str]:
    labeled = content.partition(b"\n")[0].endswith(b",Account")
    response = client.post(
        "/api/imports/",
        {"company": company.slug, "bank_account": "1000", "file": SimpleUploadedFile(name, content),
         "labeled": labeled},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return response.json()["job"]["job_id"], response.json()["import_id"]


def lines_of(batch_id: str) -> list[int]:
    return list(Transaction.objects.filter(import_batch_id=batch_id).order_by("line").values_list("line", flat=True))


def is_final(job_id: str) -> bool:
    return Job.objects.get(id=job_id).is_final


def test_a_chunk_that_always_kills_the_worker_is_skipped_and_the_rest_is_imported(
    company_a, accountant_a, token_client_for, worker_factory
):
    # Given a file whose third chunk (lines 1002-1501) kills the worker process every time it is written
    rows, chunk_rows = 3_000, 500
    content = bank_csv(rows).replace(b" REF1200,", f" REF1200 {POISON_MARKER},".encode())
    job_id, batch_id = submit(token_client_for(accountant_a), company_a, content)

    # When a worker with the default attempt limits runs it
    worker = worker_factory(LEDGER_TEST_FAULT_INJECTION="1", LEDGER_INGEST_CHUNK_ROWS=str(chunk_rows),
                            LEDGER_JOB_STALE_SECONDS="5", LEDGER_SWEEP_SECONDS="1")
    wait_for(lambda: is_final(job_id), timeout=300, interval=0.2,
             message=lambda: f"the job never ended\n{worker.log()}")

    # Then the chunk crashed the worker LEDGER_CHUNK_MAX_ATTEMPTS times (counted in the database), the next run
    # skipped it, and everything else is imported exactly once
    limit = settings.LEDGER_CHUNK_MAX_ATTEMPTS
    job = Job.objects.get(id=job_id)
    batch = ImportBatch.objects.get(id=batch_id)
    assert job.status == JobStatus.FINISHED_WITH_ERRORS, (job.status, job.error, worker.log())
    assert job.attempts == limit + 1
    [failure] = batch.chunk_failures.all()
    assert (failure.first_row, failure.rows, failure.attempts) == (1_000, chunk_rows, limit)
    assert lines_of(batch_id) == [*range(2, 1_002), *range(1_502, rows + 2)]
    assert (batch.rows_done, batch.imported_count, batch.duplicate_count, batch.rejected_count) == (
        rows, rows - chunk_rows, 0, chunk_rows
    )
    errors = list(batch.row_errors.values_list("line", "message"))
    assert [line for line, _ in errors] == list(range(1_002, 1_502))
    assert all("lines 1002-1501" in message and f"{limit} times" in message for _, message in errors)
    assert job.result["rejected"] == chunk_rows and job.result["rows"] == rows
    # ... the crashes were real: the pool process died by SIGKILL that many times, and the same worker went on
    crashes = worker.log_path.read_text(errors="replace").count("WorkerLostError('Worker exited prematurely: signal 9")
    assert crashes == limit
    assert worker.process.poll() is None


@pytest.mark.parametrize("persistent", [True, False], ids=["append-only-file", "no-persistence"])
def test_the_broker_restarted_mid_import_the_worker_reconnects_and_every_job_completes(
    persistent, company_a, accountant_a, token_client_for, worker_factory, tmp_path
):
    # Given a Redis server of the test's own, a worker and this process both using it as the broker
    redis = RedisServer(directory=tmp_path / "redis", persistent=persistent).start()
    worker = None
    try:
        with celery_broker(redis.url):
            worker = worker_factory(REDIS_URL=redis.url, LEDGER_TEST_REDIS_URL=redis.url,
                                    LEDGER_JOB_STALE_SECONDS="5", LEDGER_SWEEP_SECONDS="1")
            client = token_client_for(accountant_a)
            # ... a long import running, and a second one waiting in the queue behind it (labeled files: no
            # classification jobs queue up behind them)
            rows, waiting_rows = 150_000, 3_000
            running_job, running_batch = submit(client, company_a, labeled(bank_csv(rows)), "long.csv")
            waiting_job, waiting_batch = submit(
                client, company_a, labeled(bank_csv(waiting_rows, start=datetime.date(2030, 1, 1))), "short.csv"
            )
            rows_done = lambda: ImportBatch.objects.get(id=running_batch).rows_done  # noqa: E731
            wait_for(lambda: rows_done() >= 2_000, timeout=240, interval=0.05,
                     message=lambda: f"the import never got going\n{worker.log()}")

            # When the Redis server dies mid-import and comes back a few seconds later
            redis.kill()
            killed_at = rows_done()
            time.sleep(2)
            assert not is_final(running_job), "the import ended before the broker came back; use more rows"
            redis.start()

            # Then both jobs finish, with every row exactly once
            wait_for(lambda: is_final(running_job) and is_final(waiting_job), timeout=300, interval=0.2,
                     message=lambda: f"the jobs did not finish after the restart\n{worker.log()}")
            assert worker.process.poll() is None
    finally:
        if worker is not None:
            worker.stop()  # while its broker still answers: a warm shutdown, not a reconnect loop
        redis.kill()
    assert 0 < killed_at < rows
    for job_id, batch_id, count in ((running_job, running_batch, rows), (waiting_job, waiting_batch, waiting_rows)):
        job = Job.objects.get(id=job_id)
        assert job.status == JobStatus.FINISHED, (job.error, worker.log())
        assert lines_of(batch_id) == list(range(2, count + 2))
        assert job.result["imported"] == count
    log = worker.log_path.read_text(errors="replace")
    assert "Connection to broker lost" in log
    if not persistent:  # Redis came back empty: the waiting job's message was lost, and the sweep sent it again
        assert re.search(rf"re-enqueued orphaned jobs: .*{waiting_job}", log), worker.log()


def labeled(content: bytes) -> bytes:
    """The statement with an account column (company A's 6100), imported as history: no classify job follows."""
    header, _, body = content.partition(b"\n")
    return b"\n".join([header + b",Account", *(line + b",6100" for line in body.splitlines())]) + b"\n"


def test_a_terminated_database_connection_mid_chunk_rolls_back_and_the_job_is_retried(
    company_a, accountant_a, token_client_for, worker_factory
):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's; CI runs this test with DATABASE_URL set")
    # Given a worker importing a file
    client = token_client_for(accountant_a)
    rows = 60_000
    job_id, batch_id = submit(client, company_a, bank_csv(rows))
    worker = worker_factory()  # default sweep timing: the recovery must come from the task's retry
    wait_for(lambda: ImportBatch.objects.get(id=batch_id).rows_done >= 3_000, timeout=240, interval=0.05,
             message=lambda: f"the import never got going\n{worker.log()}")

    # When the database ends the worker's connection in the middle of a chunk's transaction
    terminated = wait_for(terminate_backend_in_transaction, timeout=60, interval=0.01,
                          message=lambda: f"found no worker transaction to end\n{worker.log()}")
    wait_for(lambda: is_final(job_id), timeout=240, interval=0.2,
             message=lambda: f"the job did not recover\n{worker.log()}")

    # Then the chunk rolled back, the task was retried, and every row is there exactly once
    job = Job.objects.get(id=job_id)
    batch = ImportBatch.objects.get(id=batch_id)
    assert job.status == JobStatus.FINISHED, (job.error, terminated, worker.log())
    assert job.attempts == 2
    # ("terminating connection due to administrator command", or "server closed the connection" between statements)
    assert re.search(r"retry: Retry in \d+s: OperationalError\(", worker.log_path.read_text(errors="replace"))
    assert lines_of(batch_id) == list(range(2, rows + 2))
    assert (batch.imported_count, batch.duplicate_count, batch.rejected_count) == (rows, 0, 0)
    assert (batch.chunk_failures.count(), batch.chunk_attempts) == (0, 0)

    # ... and when every connection of the worker is ended while it is idle, its next job runs at first attempt
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND application_name <> %s",
                       [settings.TEST_PROCESS_DB_APPLICATION_NAME])
    later_job, later_batch = submit(client, company_a, bank_csv(2_000, start=datetime.date(2031, 1, 1)), "later.csv")
    wait_for(lambda: is_final(later_job), timeout=120, interval=0.1,
             message=lambda: f"the later job did not finish\n{worker.log()}")
    later = Job.objects.get(id=later_job)
    assert (later.status, later.attempts) == (JobStatus.FINISHED, 1), (later.error, worker.log())
    assert lines_of(later_batch) == list(range(2, 2_002))


def terminate_backend_in_transaction() -> str | None:
    """End a worker's database session that is inside a transaction right now; its query, or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name <> %s AND xact_start IS NOT NULL AND state IN ('active', 'idle in transaction')",
            [settings.TEST_PROCESS_DB_APPLICATION_NAME],
        )
        for pid, query in cursor.fetchall():
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            if cursor.fetchone()[0]:
                return query
    return None


def test_an_upload_while_the_broker_is_down_is_accepted_and_sent_when_it_is_back(
    company_a, accountant_a, token_client_for, worker_factory
):
    # Given a broker nobody answers at
    client = token_client_for(accountant_a)
    with celery_broker(f"redis://127.0.0.1:{free_port()}/0"):
        # When a file is uploaded
        job_id, batch_id = submit(client, company_a, bank_csv(1_500))

    # Then it is accepted (submit checked the 202) and stored, its job queued but marked as not sent (no heartbeat)
    job = Job.objects.get(id=job_id)
    assert (job.status, job.heartbeat_at) == (JobStatus.QUEUED, None)
    batch = ImportBatch.objects.get(id=batch_id)
    assert batch.status == "queued" and batch.file.storage.exists(batch.file.name)

    # ... and once the broker is back, the sweep sends it and a worker imports it
    worker = worker_factory(**FAST_RECOVERY)
    wait_for(lambda: is_final(job_id), timeout=120, interval=0.1,
             message=lambda: f"the job was never sent\n{worker.log()}")
    job.refresh_from_db()
    assert job.status == JobStatus.FINISHED, job.error
    assert lines_of(batch_id) == list(range(2, 1_502))


def test_settings_refuse_a_job_attempt_limit_that_leaves_no_run_to_skip_a_bad_chunk():
    # The run that skips a chunk which crashed the worker N times is the job's attempt N + 1.
    environment = {"SECRET_KEY": "x", "LEDGER_JOB_MAX_ATTEMPTS": "3", "LEDGER_CHUNK_MAX_ATTEMPTS": "3",
                   "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "import ledger_site.settings"], cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "LEDGER_JOB_MAX_ATTEMPTS (3) must be above LEDGER_CHUNK_MAX_ATTEMPTS (3)" in result.stderr
