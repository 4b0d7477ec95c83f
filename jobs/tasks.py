"""Celery entry points: each takes a job id, and `job_run` claims the job and calls the kind's service."""
from __future__ import annotations

from celery import shared_task

from jobs.services import TRANSIENT_ERRORS, job_run, job_sweep_orphans

RETRY = {"autoretry_for": TRANSIENT_ERRORS, "retry_backoff": True, "retry_backoff_max": 300, "max_retries": 5}


@shared_task(name="jobs.ingest", bind=True, **RETRY)
def ingest_task(self, job_id: str) -> None:  # type: ignore[no-untyped-def]
    job_run(job_id=job_id, worker=self.request.hostname or "")


@shared_task(name="jobs.classify", bind=True, **RETRY)
def classify_task(self, job_id: str) -> None:  # type: ignore[no-untyped-def]
    job_run(job_id=job_id, worker=self.request.hostname or "")


@shared_task(name="jobs.promote_rules", bind=True, **RETRY)
def promote_rules_task(self, job_id: str) -> None:  # type: ignore[no-untyped-def]
    job_run(job_id=job_id, worker=self.request.hostname or "")


@shared_task(name="jobs.promote_rules_all", **RETRY)
def promote_rules_all_task() -> int:
    """Scheduled: one promote_rules job per company (each runs on the low queue)."""
    from rules.services.promotion import rules_promote_schedule

    return rules_promote_schedule()


@shared_task(name="jobs.sweep_orphans", **RETRY)
def sweep_orphans_task() -> list[str]:
    return job_sweep_orphans()
