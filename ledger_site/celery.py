"""The Celery app: three queues, routing by job kind, and reliability settings chosen on purpose."""
from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledger_site.settings")

app = Celery("ledger_site")
app.config_from_object("django.conf:settings", namespace="CELERY")

HOUR = 3600
app.conf.update(
    task_queues=(Queue("high"), Queue("default"), Queue("low")),
    task_default_queue="default",
    # Imports land first (a user is watching the progress bar); training and rule mining may wait.
    task_routes={
        "jobs.ingest": {"queue": "high"},
        "jobs.classify": {"queue": "default"},
        "jobs.post_propose": {"queue": "default"},
        "jobs.reconcile": {"queue": "default"},
        "jobs.undo_import": {"queue": "default"},
        "jobs.train": {"queue": "low"},
        "jobs.promote_rules": {"queue": "low"},
        "jobs.promote_rules_all": {"queue": "low"},
        "jobs.sweep_orphans": {"queue": "high"},
    },
    # Ack only after the task has run, and put the message back if the worker process dies mid-task:
    # together with the Job claim (queued -> started, one winner) a crash never loses work or doubles it.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    # Take one message at a time: a long import must not sit on messages another worker could run.
    worker_prefetch_multiplier=1,
    # An import of a million rows takes well under a minute; these bounds catch a task that hangs.
    # Redis' visibility timeout (settings.py) stays above the hard limit so a running task is never redelivered.
    task_soft_time_limit=HOUR - 300,
    task_time_limit=HOUR,
    task_track_started=True,
    broker_connection_retry_on_startup=True,
    # When the broker connection drops (a Redis restart), a running import keeps going rather than being
    # cancelled: it writes to the database, not the broker. Its message can no longer be acknowledged; if Redis
    # kept it, it comes back after the visibility timeout and finds the job finished (the claim is a no-op).
    worker_cancel_long_running_tasks_on_connection_loss=False,
    result_expires=7 * 24 * HOUR,
    worker_hijack_root_logger=False,
    beat_schedule={
        "sweep-orphaned-jobs": {
            "task": "jobs.sweep_orphans",
            "schedule": float(os.environ.get("LEDGER_SWEEP_SECONDS", "60")),
        },
        # Rule promotion reads 90 days of history per company: once a night is plenty.
        "promote-rules-nightly": {
            "task": "jobs.promote_rules_all",
            "schedule": crontab(hour=int(os.environ.get("RULE_PROMOTION_HOUR", "3")), minute=17),
        },
    },
)
app.autodiscover_tasks()


@worker_ready.connect
def sweep_orphans_on_start(**_: Any) -> None:
    """A worker that starts after a crash picks up the jobs the dead worker left behind."""
    from jobs.services import job_sweep_orphans

    job_sweep_orphans()


@worker_ready.connect
def metrics_exporter_on_start(**_: Any) -> None:
    """On a host without a web process, the worker serves this host's counters itself (README: Metrics)."""
    from django.conf import settings

    if settings.LEDGER_WORKER_METRICS_PORT:
        from ledger_site.metrics_views import worker_exporter_start

        worker_exporter_start(address=settings.LEDGER_WORKER_METRICS_ADDRESS, port=settings.LEDGER_WORKER_METRICS_PORT)
