"""Writes to Job rows: create (with idempotency keys), claim, progress, finish, fail, and the orphan sweep."""
from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from jobs.exceptions import IdempotencyKeyReused
from jobs.handlers import JobOutcome, handler_for, task_name_for
from jobs.models import IdempotencyKey, Job, JobStatus
from ledger_site.exceptions import DomainError
from ledger_site.logs import job_log_context
from ledger_site.metrics import job_duration_record

logger = logging.getLogger(__name__)


def job_create(
    *,
    company: Any,
    kind: str,
    created_by: Any,
    params: dict[str, Any],
    idempotency_key: str = "",
    request_hash: str = "",
    enqueue: bool = True,
) -> tuple[Job, bool]:
    """Create a queued job and enqueue it after commit; returns (job, created).

    With an idempotency key, a repeat of the same request within the TTL returns the first job
    (created=False); the same key with a different request raises IdempotencyKeyReused.
    `enqueue=False` is for callers that run the job in-process with `job_run` (e.g. `--sync` commands).
    """
    task_name_for(kind)  # fail fast on a kind with no worker behind it
    insert = {"company": company, "kind": kind, "created_by": created_by, "params": params, "enqueue": enqueue}
    if not idempotency_key:
        return _job_insert(**insert), True

    now = timezone.now()
    expired_before = now - timedelta(hours=settings.LEDGER_IDEMPOTENCY_TTL_HOURS)
    scope = {"company": company, "user": created_by, "key": idempotency_key}
    with transaction.atomic():
        IdempotencyKey.objects.filter(**scope, created_at__lt=expired_before).delete()
        record = IdempotencyKey.objects.filter(**scope).select_related("job").first()
        if record is None:
            try:
                with transaction.atomic():
                    job = _job_insert(**insert, key=idempotency_key)
                    IdempotencyKey.objects.create(**scope, request_hash=request_hash, job=job, created_at=now)
                return job, True
            except IntegrityError:
                # A concurrent request with the same key won the race; answer with its job.
                record = IdempotencyKey.objects.select_related("job").get(**scope)
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {idempotency_key!r} was already used for a different request "
            f"(job {record.job_id}); use a new key for a new request.",
            extra={"job_id": str(record.job_id)},
        )
    return record.job, False


def _job_insert(
    *, company: Any, kind: str, created_by: Any, params: dict[str, Any], enqueue: bool, key: str = ""
) -> Job:
    job = Job.objects.create(
        company=company, kind=kind, created_by=created_by, params=params, idempotency_key=key,
        heartbeat_at=timezone.now(),
    )
    if enqueue:
        transaction.on_commit(lambda: job_enqueue(job_id=job.id, kind=kind))
    return job


def job_enqueue(*, job_id: UUID, kind: str) -> bool:
    """Send the job's task to the broker (call after commit, so the worker finds the row); False if it could not.

    A broker that cannot be reached does not fail the request that created the job: the job stays queued without
    a heartbeat, which marks it as never sent, and the orphan sweep sends it once the broker answers again.
    """
    from kombu.exceptions import OperationalError as BrokerError

    from ledger_site.celery import app

    Job.objects.filter(id=job_id).update(heartbeat_at=timezone.now())
    try:
        app.send_task(task_name_for(kind), args=[str(job_id)])
    except BrokerError:
        logger.warning("job %s could not be sent to the broker; the sweep will send it later", job_id, exc_info=True)
        Job.objects.filter(id=job_id, status=JobStatus.QUEUED).update(heartbeat_at=None)
        return False
    return True


def job_claim(*, job_id: UUID | str, worker: str) -> Job | None:
    """Move a queued job to started (a conditional UPDATE, so only one worker wins); None if not claimable."""
    now = timezone.now()
    claimed = Job.objects.filter(id=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.STARTED, started_at=now, heartbeat_at=now, worker=worker[:255], error="", error_code="",
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    return Job.objects.select_related("company").get(id=job_id)


def job_progress(*, job: Job, processed: int, total: int | None, percent: int | None = None) -> None:
    """Record progress and a heartbeat; call it inside the chunk's transaction so both commit together.

    `percent` defaults to processed/total; give it when the total is unknown (e.g. bytes read of a stream).
    """
    if percent is None:
        percent = processed * 100 // total if total else 0
    percent = max(0, min(99, percent))  # 100 is reserved for "finished"
    # Never backwards: two runs of one import (a redelivery) estimate the percentage from how far each has read
    # its own copy of the file, and the reader runs ahead of the committed rows by its read-ahead buffer.
    Job.objects.filter(id=job.id, status=JobStatus.STARTED).update(
        processed_count=processed, total_count=total, progress=Greatest(F("progress"), Value(percent)),
        heartbeat_at=timezone.now(),
    )


def job_finish(*, job: Job, outcome: JobOutcome) -> None:
    status = JobStatus.FINISHED_WITH_ERRORS if outcome.has_errors else JobStatus.FINISHED
    Job.objects.filter(id=job.id, status=JobStatus.STARTED).update(
        status=status, progress=100, result=outcome.result, finished_at=timezone.now()
    )


def job_fail(*, job_id: UUID | str, code: str, message: str) -> None:
    Job.objects.filter(id=job_id).exclude(status__in=[JobStatus.FINISHED, JobStatus.FINISHED_WITH_ERRORS]).update(
        status=JobStatus.FAILED, error_code=code[:50], error=message, finished_at=timezone.now()
    )


def job_release(*, job_id: UUID | str) -> None:
    """Give a started job back to the queue (its task is about to be retried after a transient error)."""
    Job.objects.filter(id=job_id, status=JobStatus.STARTED).update(status=JobStatus.QUEUED)


def job_run(*, job_id: UUID | str, worker: str) -> None:
    """Claim the job, run its handler, and record the outcome. Domain errors fail the job; they never retry.

    Every line logged meanwhile, by any module, carries the job id and company (ledger_site/logs.py); the
    attempt's run time and outcome go to `job_duration_seconds` (ledger_site/metrics.py).
    """
    job = job_claim(job_id=job_id, worker=worker)
    if job is None:
        logger.info("job %s is not queued any more; nothing to do", job_id)
        return
    started, result = time.monotonic(), "interrupted"
    with job_log_context(job_id=job.id, company=job.company.slug, kind=job.kind):
        logger.info("job %s (%s) started, attempt %s, on %s", job.id, job.kind, job.attempts, worker)
        try:
            result = _job_execute(job=job)
        except TRANSIENT_ERRORS:
            result = "retried"
            raise
        finally:
            seconds = time.monotonic() - started
            job_duration_record(kind=job.kind, outcome=result, seconds=seconds)
            logger.info("job %s %s after %.1f s", job.id, result, seconds)


def _job_execute(*, job: Job) -> str:
    """Run the claimed job's handler and record its outcome on the row; returns the final status."""
    try:
        outcome = handler_for(job.kind)(job=job)
    except DomainError as error:
        job_fail(job_id=job.id, code=error.code, message=error.message)
        return JobStatus.FAILED
    except TRANSIENT_ERRORS:
        job_release(job_id=job.id)
        raise
    except Exception as error:  # a bug: record it readably instead of leaving the job "started"
        logger.exception("job %s crashed", job.id)
        job_fail(job_id=job.id, code="internal_error", message=f"Internal error: {type(error).__name__}: {error}")
        return JobStatus.FAILED
    job_finish(job=job, outcome=outcome)
    return JobStatus.FINISHED_WITH_ERRORS if outcome.has_errors else JobStatus.FINISHED


def job_sweep_orphans() -> list[str]:
    """Re-enqueue jobs whose worker vanished (stale heartbeat), or fail them after too many attempts.

    Also re-sends queued jobs whose message was never sent (the broker was down when they were created: no
    heartbeat) or never reached a worker in time. A duplicate message is harmless: only one worker can claim a
    queued job.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.LEDGER_JOB_STALE_SECONDS)
    requeued: list[str] = []
    for job in Job.objects.orphaned(heartbeat_before=cutoff):
        stale = Job.objects.filter(id=job.id, status=JobStatus.STARTED, heartbeat_at=job.heartbeat_at)
        if job.attempts >= settings.LEDGER_JOB_MAX_ATTEMPTS:
            stale.update(
                status=JobStatus.FAILED,
                error_code="worker_lost",
                error=f"The worker running this job stopped responding {job.attempts} times; giving up.",
                finished_at=timezone.now(),
            )
            continue
        if stale.update(status=JobStatus.QUEUED) and job_enqueue(job_id=job.id, kind=job.kind):
            requeued.append(str(job.id))
    unsent = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff)
    for job in Job.objects.filter(unsent, status=JobStatus.QUEUED):
        if job_enqueue(job_id=job.id, kind=job.kind):
            requeued.append(str(job.id))
    if requeued:
        logger.warning("re-enqueued orphaned jobs: %s", ", ".join(requeued))
    return requeued


def _transient_errors() -> tuple[type[BaseException], ...]:
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError

    return (OperationalError, InterfaceError, BrokerError)


# Errors that can fix themselves (a dropped connection, a restarting broker): retried with backoff.
TRANSIENT_ERRORS = _transient_errors()
