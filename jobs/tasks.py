"""Celery entry points: each takes a job id, and `job_run` claims the job and calls the kind's service."""
from __future__ import annotations

from typing import Any

from celery import shared_task

from jobs.handlers import TASK_NAMES
from jobs.services import TRANSIENT_ERRORS, job_run, job_sweep_orphans

RETRY = {"autoretry_for": TRANSIENT_ERRORS, "retry_backoff": True, "retry_backoff_max": 300, "max_retries": 5}


def _job_task(name: str) -> Any:
    """One task per job kind (`jobs.ingest`, `jobs.classify`, ...): the name decides the queue (celery.py)."""

    @shared_task(name=name, bind=True, **RETRY)
    def run_job(self, job_id: str) -> None:  # type: ignore[no-untyped-def]
        job_run(job_id=job_id, worker=self.request.hostname or "")

    return run_job


JOB_TASKS = {kind: _job_task(name) for kind, name in TASK_NAMES.items()}


@shared_task(name="jobs.promote_rules_all", **RETRY)
def promote_rules_all_task() -> int:
    """Scheduled: one promote_rules job per company (each runs on the low queue)."""
    from rules.services.promotion import rules_promote_schedule

    return rules_promote_schedule()


@shared_task(name="jobs.sweep_orphans", **RETRY)
def sweep_orphans_task() -> list[str]:
    return job_sweep_orphans()
