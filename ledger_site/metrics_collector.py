"""State metrics, read at scrape time from the database and the broker (not counted by any process).

A job in progress, a failed job, a message waiting in a queue, a company's automation rate: the database and the
broker already know them, and they stay right whichever process did the work and however often processes
restart. A few grouped aggregates (each one query, on indexed columns where the tables are big) and one queue
length per queue, computed at most once per METRICS_CACHE_SECONDS through the shared cache, so many web
processes and a scrape storm still cost the database one round of queries per interval.

Definitions:
- `jobs_in_progress{kind}`: jobs `started` (a worker claimed them); `jobs_queued{kind}`: jobs waiting for one.
- `jobs_failed_total{kind}`: jobs whose status is `failed` (a DB count: deleting jobs lowers it, which Prometheus
  treats as a counter reset).
- `worker_throughput_txn_per_min{kind}`: bank lines processed per minute over the last THROUGHPUT_WINDOW_MINUTES by
  ingest (rows read) and classify (transactions decided) jobs, estimated from the job rows: each job's
  processed count spread evenly over its run time, the part inside the window counted.
- `queue_depth{queue}`: messages waiting in the broker's high, default and low queues (Redis list lengths, or the
  message files of the embedded broker); messages a worker has taken but not finished are not counted.
- `decisions_current{company,method}`: current decisions by method, as the dashboard counts them (decisions/stats.py:
  rule, ml, ml_suggestion, llm, transfer, review, human); `automation_rate{company}`: automated / decided, the
  dashboard's rate (omitted for a company with nothing decided).
- `metrics_source_up{source}`: 1 when the database / broker answered this scrape's queries, 0 otherwise (the other
  numbers of that source are then missing, not zero).
"""
from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

QUEUES = ("high", "default", "low")  # ledger_site/celery.py
THROUGHPUT_WINDOW_MINUTES = 5
THROUGHPUT_KINDS = ("ingest", "classify")
CACHE_KEY = "metrics:state:v1"
BROKER_TIMEOUT_SECONDS = 2.0


def state_snapshot() -> dict[str, Any]:
    """The numbers behind the state metrics: from the shared cache when fresh, else read now (and cached)."""
    ttl = settings.METRICS_CACHE_SECONDS
    if ttl:
        cached = _cache_call(cache.get, CACHE_KEY)
        if cached is not None:
            return cached
    snapshot = {"database": _database_numbers(), "broker": _queue_depths()}
    if ttl:
        _cache_call(cache.set, CACHE_KEY, snapshot, ttl)
    return snapshot


def _cache_call(method: Any, *args: Any) -> Any:
    """The cache is Redis in production: when it is down, scrapes still answer (uncached)."""
    try:
        return method(*args)
    except Exception:
        logger.warning("metrics: cache unavailable", exc_info=True)
        return None


def _database_numbers() -> dict[str, Any] | None:
    try:
        return {
            "jobs": _job_counts(),
            "throughput": worker_throughput(now=timezone.now()),
            "decisions": _decision_counts(),
        }
    except Exception:  # a scrape must answer even when the database does not; the log says why
        logger.warning("metrics: database numbers unavailable", exc_info=True)
        return None


def _job_counts() -> dict[str, list[tuple[str, str, int]]]:
    from jobs.models import Job, JobStatus

    rows = (
        Job.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.STARTED, JobStatus.FAILED))
        .values_list("status", "kind").order_by().annotate(count=Count("id"))
    )
    return {"by_status": [(status, kind, count) for status, kind, count in rows]}


def worker_throughput(*, now: datetime.datetime) -> dict[str, float]:
    """Lines per minute per job kind over the last THROUGHPUT_WINDOW_MINUTES (see the module docstring).

    Reads the jobs that were alive in the window: started ones, and finished or failed ones whose last heartbeat
    is recent enough (the (status, heartbeat_at) index). A job's end is its finish, or its last heartbeat while it
    runs (its processed count is as of that heartbeat).
    """
    from jobs.models import FINAL_STATUSES, Job, JobStatus

    window_start = now - datetime.timedelta(minutes=THROUGHPUT_WINDOW_MINUTES)
    # A job finishing inside the window reported its last progress at most one chunk earlier (the stale limit).
    heartbeat_after = window_start - datetime.timedelta(seconds=settings.LEDGER_JOB_STALE_SECONDS)
    jobs = Job.objects.filter(kind__in=THROUGHPUT_KINDS, started_at__isnull=False).filter(
        Q(status=JobStatus.STARTED) | Q(status__in=FINAL_STATUSES, heartbeat_at__gte=heartbeat_after)
    ).values_list("kind", "status", "processed_count", "started_at", "heartbeat_at", "finished_at")
    rows: dict[str, float] = dict.fromkeys(THROUGHPUT_KINDS, 0.0)
    for kind, status, processed, started_at, heartbeat_at, finished_at in jobs:
        end = heartbeat_at if status == JobStatus.STARTED else (finished_at or heartbeat_at)
        if end is None or end < window_start or not processed:
            continue
        run_seconds = (end - started_at).total_seconds()
        inside_seconds = (end - max(started_at, window_start)).total_seconds()
        share = 1.0 if run_seconds <= 0 else max(0.0, min(1.0, inside_seconds / run_seconds))
        rows[kind] += processed * share
    return {kind: count / THROUGHPUT_WINDOW_MINUTES for kind, count in rows.items()}


def _decision_counts() -> list[dict[str, Any]]:
    """One grouped aggregate over current decisions, with the dashboard's definitions of automated and methods."""
    from decisions.models import Decision
    from decisions.stats import AUTOMATED, METHOD_FILTERS
    from transactions.models import Company

    counts = {
        "decided": Count("id"),
        "automated": Count("id", filter=AUTOMATED),
        **{f"method_{method}": Count("id", filter=condition) for method, condition in METHOD_FILTERS.items()},
    }
    rows = list(Decision.objects.filter(is_current=True).values("company_id").order_by("company_id")
                .annotate(**counts))
    slugs = dict(Company.objects.filter(id__in=[row["company_id"] for row in rows]).values_list("id", "slug"))
    return [
        {
            "company": slugs.get(row["company_id"], str(row["company_id"])),
            "decided": row["decided"],
            "automated": row["automated"],
            "by_method": {method: row[f"method_{method}"] for method in METHOD_FILTERS},
        }
        for row in rows
    ]


def _queue_depths() -> dict[str, int] | None:
    """Messages waiting per queue, asked of the broker Celery uses (Redis LLEN per priority list, or files)."""
    from ledger_site.celery import app

    try:
        with app.connection_for_read(connect_timeout=BROKER_TIMEOUT_SECONDS) as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
            channel = connection.default_channel
            # A non-passive declare only registers the name with kombu; it answers the size for an empty queue
            # too, where a passive one would raise "not found" on Redis.
            return {queue: channel.queue_declare(queue=queue, passive=False).message_count for queue in QUEUES}
    except Exception:
        logger.warning("metrics: broker queue lengths unavailable", exc_info=True)
        return None


class StateCollector(Collector):
    """Turns the snapshot into metric families for one scrape."""

    def collect(self) -> Iterator[Any]:
        snapshot = state_snapshot()
        database, broker = snapshot["database"], snapshot["broker"]
        up = GaugeMetricFamily("metrics_source_up", "1 when the source answered the scrape's queries.",
                               labels=["source"])
        up.add_metric(["database"], 1.0 if database is not None else 0.0)
        up.add_metric(["broker"], 1.0 if broker is not None else 0.0)
        yield up
        if database is not None:
            yield from _job_families(database["jobs"], database["throughput"])
            yield from _decision_families(database["decisions"])
        if broker is not None:
            depth = GaugeMetricFamily("queue_depth", "Messages waiting in the broker, per Celery queue.",
                                      labels=["queue"])
            for queue in QUEUES:
                depth.add_metric([queue], float(broker[queue]))
            yield depth


def _job_families(jobs: dict[str, Any], throughput: dict[str, float]) -> Iterator[Any]:
    from jobs.models import JobKind, JobStatus

    by_status: dict[tuple[str, str], int] = {(status, kind): count for status, kind, count in jobs["by_status"]}
    in_progress = GaugeMetricFamily("jobs_in_progress", "Jobs a worker is running (status started), per kind.",
                                    labels=["kind"])
    queued = GaugeMetricFamily("jobs_queued", "Jobs waiting for a worker (status queued), per kind.",
                               labels=["kind"])
    failed = CounterMetricFamily("jobs_failed", "Jobs that failed (status failed), per kind.", labels=["kind"])
    for kind in JobKind.values:  # every kind, zeros included: a missing series is not the same as none running
        in_progress.add_metric([kind], float(by_status.get((JobStatus.STARTED, kind), 0)))
        queued.add_metric([kind], float(by_status.get((JobStatus.QUEUED, kind), 0)))
        failed.add_metric([kind], float(by_status.get((JobStatus.FAILED, kind), 0)))
    yield from (in_progress, queued, failed)
    rate = GaugeMetricFamily(
        "worker_throughput_txn_per_min",
        f"Bank lines processed per minute over the last {THROUGHPUT_WINDOW_MINUTES} minutes, per job kind "
        "(estimated from job progress).",
        labels=["kind"],
    )
    for kind, value in throughput.items():
        rate.add_metric([kind], value)
    yield rate


def _decision_families(companies: list[dict[str, Any]]) -> Iterator[Any]:
    by_method = GaugeMetricFamily("decisions_current", "Current decisions per company and method.",
                                  labels=["company", "method"])
    automation = GaugeMetricFamily("automation_rate", "Automated / decided current decisions per company.",
                                   labels=["company"])
    for row in companies:
        for method, count in row["by_method"].items():
            by_method.add_metric([row["company"], method], float(count))
        if row["decided"]:
            automation.add_metric([row["company"]], row["automated"] / row["decided"])
    yield from (by_method, automation)
