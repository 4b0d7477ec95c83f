"""Which service does the work of each job kind, and which Celery task (and so which queue) carries it.

A handler is a service function `handler(*, job) -> JobOutcome`. It is imported lazily so that the jobs
app does not import every other app at start-up.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

from django.utils.module_loading import import_string

from jobs.exceptions import JobKindUnavailable
from jobs.models import JobKind


@dataclass(frozen=True)
class JobOutcome:
    result: dict[str, Any] = field(default_factory=dict)
    has_errors: bool = False  # finished, but some input was rejected (e.g. bad rows in an import)


HANDLERS: dict[str, str] = {
    JobKind.INGEST: "transactions.services.ingest.import_batch_ingest",
    JobKind.CLASSIFY: "decisions.services.classify_job",
    JobKind.PROMOTE_RULES: "rules.services.promotion.rules_promote_job",
    JobKind.TRAIN: "mlmodels.services.model_train_job",
    JobKind.POST_PROPOSE: "ledger.services.postings.post_propose_job",
    JobKind.RECONCILE: "ledger.services.reconciliation.reconcile_job",
    JobKind.UNDO_IMPORT: "ledger.services.undo.import_undo_job",
}

# Celery task name per kind; ledger_site/celery.py routes these names to the queues.
TASK_NAMES: dict[str, str] = {kind: f"jobs.{kind}" for kind in HANDLERS}


def handler_for(kind: str) -> Callable[..., JobOutcome]:
    try:
        return import_string(HANDLERS[kind])
    except KeyError:
        raise JobKindUnavailable(f"Jobs of kind {kind!r} are not available yet.") from None


def task_name_for(kind: str) -> str:
    try:
        return TASK_NAMES[kind]
    except KeyError:
        raise JobKindUnavailable(f"Jobs of kind {kind!r} are not available yet.") from None
