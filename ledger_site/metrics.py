"""Event metrics: the counters and histograms the processes doing the work increment (web and Celery workers).

prometheus-client runs in multiprocess mode: every process writes its values to files in
PROMETHEUS_MULTIPROC_DIR, and /metrics (ledger_site/metrics_views.py) adds up the files of every process on the
host, so an import counted by a worker's pool process shows in the web's /metrics. The mode is chosen when
prometheus-client is first imported, from the environment variable that settings.py exports: so the settings
are loaded here before prometheus-client is imported.

State-like numbers (jobs in progress, queue depth, decisions by method...) are not kept here: they are read
from the database and the broker at scrape time (ledger_site/metrics_collector.py).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from time import perf_counter

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_MULTIPROC_DIR = settings.PROMETHEUS_MULTIPROC_DIR  # loads settings.py, which exports the variable

from prometheus_client import Counter, Histogram  # noqa: E402
from prometheus_client import values as _values  # noqa: E402

if not _values.ValueClass._multiprocess:  # type: ignore[attr-defined]
    raise ImproperlyConfigured(
        "prometheus_client was imported before the settings set PROMETHEUS_MULTIPROC_DIR, so this process's "
        "metrics would never reach /metrics. Import ledger_site.metrics (or the settings) first, or export "
        f"PROMETHEUS_MULTIPROC_DIR={_MULTIPROC_DIR} before starting the process."
    )

HTTP_REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route name (never the raw path) and status class.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
IMPORT_ROWS = Counter(
    "import_rows",
    "Bank-file rows written by import jobs, by outcome (imported, duplicate, rejected).",
    ["outcome"],
)
DECISIONS_MADE = Counter(
    "decisions_made",
    "Decisions written by classify jobs, by method (rule, ml, ml_suggestion, llm, review).",
    ["method"],
)
MODEL_INFERENCE_SECONDS = Histogram(
    "model_inference_seconds",
    "Time of one batched classifier call (one per classify chunk), by the model's scope (company or global).",
    ["scope"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MODEL_INFERENCE_ROWS = Counter(
    "model_inference_rows",
    "Transactions the classifier was asked about, by the model's scope.",
    ["scope"],
)
JOB_SECONDS = Histogram(
    "job_duration_seconds",
    "Run time of one job attempt on a worker, by kind and outcome (finished, finished_with_errors, failed, "
    "retried).",
    ["kind", "outcome"],
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0),
)

IMPORT_OUTCOMES = ("imported", "duplicate", "rejected")


def import_rows_record(*, imported: int, duplicates: int, rejected: int) -> None:
    """Count the rows of one committed import chunk."""
    for outcome, count in zip(IMPORT_OUTCOMES, (imported, duplicates, rejected)):
        if count:
            IMPORT_ROWS.labels(outcome=outcome).inc(count)


def decisions_record(*, by_method: Mapping[str, int]) -> None:
    """Count the decisions of one committed classify chunk ({"rule": 3, "review": 2, ...})."""
    for method, count in by_method.items():
        if count:
            DECISIONS_MADE.labels(method=method).inc(count)


@contextmanager
def model_inference_timer(*, scope: str, rows: int) -> Iterator[None]:
    """Time one batched classifier call."""
    started = perf_counter()
    try:
        yield
    finally:
        MODEL_INFERENCE_SECONDS.labels(scope=scope).observe(perf_counter() - started)
        MODEL_INFERENCE_ROWS.labels(scope=scope).inc(rows)


def job_duration_record(*, kind: str, outcome: str, seconds: float) -> None:
    JOB_SECONDS.labels(kind=kind, outcome=outcome).observe(seconds)
