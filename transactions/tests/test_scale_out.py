"""Scale-out: two worker processes on one 200,000-row import, both writing it at the same time.

One import is one job and one task, and its chunks must commit in file order (a row's occurrence number counts
the identical rows before it). So "two workers on one import" happens when the job is handed to a second worker
while the first is still at it: a broker redelivery, or the orphan sweep taking a slow worker for a dead one.
The test makes the second case happen for certain: it ages the job's heartbeat and runs the real sweep, which
re-enqueues the job; the idle second worker claims it and imports alongside the first. The checkpoint, taken
under a row lock before each chunk, must keep every row exactly once and the progress moving only forward.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from conftest import wait_for
from jobs.models import Job, JobKind, JobStatus
from jobs.services import job_sweep_orphans
from jobs.tests.helpers import bank_csv
from transactions.models import AuditEvent, ImportBatch, Transaction

pytestmark = pytest.mark.worker

ROWS = 200_000


def test_two_workers_on_one_import_write_every_row_exactly_once(
    company_a, accountant_a, token_client_for, worker_factory, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("scale-out means PostgreSQL: SQLite has one writer for the whole file, and two importing workers "
                    "starve this test's own writes; CI runs this test with DATABASE_URL set")
    # Given a 200,000-row statement and two workers consuming the same queues
    statement = tmp_path / "statement.csv"
    statement.write_bytes(bank_csv(ROWS))
    # (the ingest queue only: the classify jobs the import queues as it goes must not keep the second one busy)
    workers = [worker_factory(queues="high"), worker_factory(queues="high")]
    client = token_client_for(accountant_a)
    with statement.open("rb") as handle:
        upload = SimpleUploadedFile("statement.csv", handle.read())
    response = client.post(
        "/api/imports/", {"company": company_a.slug, "bank_account": "1000", "file": upload}, format="multipart"
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["job"]["job_id"]
    batch_id = response.json()["import_id"]
    logs = lambda: "\n".join(f"--- worker {n}\n{worker.log()}" for n, worker in enumerate(workers))  # noqa: E731
    progress = ProgressWatch(job_id=job_id, batch_id=batch_id)

    wait_for(lambda: progress.sample().rows_done >= 20_000, timeout=240, interval=0.1,
             message=lambda: f"the import never got going\n{logs()}")
    first_worker = Job.objects.get(id=job_id).worker

    # When the job is handed to the second worker while the first is still importing
    def hand_over() -> bool:
        Job.objects.filter(id=job_id).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
        return job_id in job_sweep_orphans()  # the first worker's own heartbeat may win the race: try again

    wait_for(hand_over, timeout=60, interval=0.2, message=lambda: f"the sweep never re-enqueued the job\n{logs()}")
    wait_for(lambda: Job.objects.get(id=job_id).worker not in ("", first_worker), timeout=120, interval=0.05,
             message=lambda: f"the second worker never claimed the job\n{logs()}")
    handed_over_at = progress.sample().rows_done
    assert handed_over_at < ROWS, "the first worker had already finished: nothing ran side by side"
    assert not succeeded(workers), "the first worker had already finished: nothing ran side by side"

    wait_for(lambda: progress.sample().status in (JobStatus.FINISHED, JobStatus.FAILED), timeout=600, interval=0.1,
             message=lambda: f"the job did not finish\n{logs()}")
    # Both runs end: the one that did not write the last chunk finds the checkpoint at the end and stops.
    wait_for(lambda: succeeded(workers) == 2, timeout=120, interval=0.2,
             message=lambda: f"both workers should report the task as done\n{logs()}")

    # Then every line of the file is in the books once, and the counts add up
    job = Job.objects.get(id=job_id)
    batch = ImportBatch.objects.get(id=batch_id)
    assert job.status == JobStatus.FINISHED, job.error
    assert job.attempts == 2
    lines = list(Transaction.objects.filter(import_batch=batch).order_by("line").values_list("line", flat=True))
    assert len(lines) == ROWS
    assert lines == list(range(2, ROWS + 2))
    assert (batch.rows_done, batch.imported_count, batch.duplicate_count, batch.rejected_count) == (ROWS, ROWS, 0, 0)
    assert batch.duplicates.count() == 0 and batch.row_errors.count() == 0
    result = job.result
    assert (result["rows"], result["imported"], result["duplicates"], result["rejected"]) == (ROWS, ROWS, 0, 0)
    assert result["rows"] == result["imported"] + result["duplicates"] + result["rejected"]
    # ... the import finished once: one audit entry, one classification job at the end, and one per segment of
    # LEDGER_CLASSIFY_SEGMENT_ROWS queued while it was read - each once, by the run that wrote the chunk crossing it
    assert AuditEvent.objects.filter(action="import.finish", object_id=str(batch.id)).count() == 1
    classify = Job.objects.filter(kind=JobKind.CLASSIFY, params__import_batch=str(batch.id))
    assert classify.exclude(params__has_key="through_line").count() == 1
    segments = [job.params["through_line"] for job in classify.filter(params__has_key="through_line")]
    assert sorted(segments) == sorted(set(segments)) and len(segments) == ROWS // settings.LEDGER_CLASSIFY_SEGMENT_ROWS
    assert (batch.chunk_failures.count(), batch.chunk_attempts) == (0, 0)  # no chunk failed, none in flight
    # ... the two runs did take turns: a run found chunks written by the other one and caught up with them
    assert "another run wrote the rows" in "".join(w.log_path.read_text(errors="replace") for w in workers), logs()
    # ... and the progress only ever moved forward, to the end
    progress.assert_monotonic()
    assert (job.progress, job.processed_count) == (100, ROWS)
    assert len(progress.samples) > 20


def succeeded(workers) -> int:
    """How many import tasks the workers logged as done (this test runs one import)."""
    pattern = re.compile(r"Task jobs\.ingest\[[^\]]+\] succeeded")
    return sum(
        1 for worker in workers for line in worker.log_path.read_text(errors="replace").splitlines()
        if pattern.search(line)
    )


class ProgressWatch:
    """Samples what the status page shows (job progress and count) and the checkpoint behind it."""

    def __init__(self, *, job_id: str, batch_id: str) -> None:
        self.job_id, self.batch_id = job_id, batch_id
        self.samples: list[Sample] = []

    def sample(self) -> Sample:
        job = Job.objects.values("status", "progress", "processed_count").get(id=self.job_id)
        rows_done = ImportBatch.objects.values_list("rows_done", flat=True).get(id=self.batch_id)
        self.samples.append(Sample(job["status"], job["progress"], job["processed_count"], rows_done))
        return self.samples[-1]

    def assert_monotonic(self) -> None:
        for before, after in zip(self.samples, self.samples[1:]):
            assert after.progress >= before.progress, (before, after)
            assert after.processed_count >= before.processed_count, (before, after)
            assert after.rows_done >= before.rows_done, (before, after)
        assert self.samples[-1].rows_done == ROWS


@dataclass(frozen=True)
class Sample:
    status: str
    progress: int
    processed_count: int
    rows_done: int
