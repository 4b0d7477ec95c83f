"""Structured logs: every line written while a job runs names the job and its company.

`jobs.services.job_run` wraps the job's handler in `job_log_context`; the `JobContextFilter` on the console
handler (settings.LOGGING) copies the context into each record, whichever logger wrote it (a service deep in
another app, Django, a library). A context variable, not a thread-local: it follows the code into threads
started with `contextvars.copy_context()` and stays correct if a worker ever runs jobs concurrently.

Only the standard library here: settings.LOGGING loads this module before Django is ready.
"""
from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class JobLogContext:
    job_id: str
    company: str  # the company's slug
    kind: str


_current_job: ContextVar[JobLogContext | None] = ContextVar("ledger_current_job", default=None)


@contextmanager
def job_log_context(*, job_id: object, company: str, kind: str) -> Iterator[None]:
    """Within the block, every log record carries `job_id`, `company` and `job_kind`."""
    token = _current_job.set(JobLogContext(job_id=str(job_id), company=company, kind=kind))
    try:
        yield
    finally:
        _current_job.reset(token)


def current_job() -> JobLogContext | None:
    return _current_job.get()


class JobContextFilter(logging.Filter):
    """Adds `job_id`, `company` and `job_kind` to every record (None outside a job); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current_job.get()
        # A value passed explicitly with `extra=` wins over the context.
        if getattr(record, "job_id", None) is None:
            record.job_id = context.job_id if context else None
        if getattr(record, "company", None) is None:
            record.company = context.company if context else None
        if getattr(record, "job_kind", None) is None:
            record.job_kind = context.kind if context else None
        return True


class TextFormatter(logging.Formatter):
    """The usual one-line format, followed by `[job=<id> company=<slug>]` while a job runs."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        job_id = getattr(record, "job_id", None)
        if not job_id:
            return line
        first, newline, rest = line.partition("\n")  # keep a traceback below the tagged first line
        return f"{first} [job={job_id} company={getattr(record, 'company', None)}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, job_id, company, job_kind, and
    the traceback as `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "job_id": getattr(record, "job_id", None),
            "company": getattr(record, "company", None),
            "job_kind": getattr(record, "job_kind", None),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
