"""Structured logs: every line written while a job runs carries the job id and the company, whichever module
writes it; JSON lines with LOG_FORMAT=json."""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import ROOT, wait_for
from jobs.models import Job, JobStatus
from jobs.services import job_run
from jobs.tests.helpers import bank_csv
from ledger_site.logs import JobContextFilter, JsonFormatter, TextFormatter, job_log_context
from transactions.models import Account, ImportBatch
from transactions.services.imports import import_batch_submit


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The root logger's records as the production handler writes them with LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(JobContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def submit(company, content: bytes) -> ImportBatch:
    return import_batch_submit(
        company=company, bank_account=Account.objects.get(company=company, code="1000"),
        upload=SimpleUploadedFile("bank.csv", content), filename="bank.csv", user=None, labeled=False, enqueue=False,
    )


def test_every_line_logged_during_a_job_names_the_job_and_its_company(company_a, json_lines):
    batch = submit(company_a, bank_csv(3))
    logging.getLogger("tests.before").info("before the job")

    job_run(job_id=batch.job_id, worker="test")
    logging.getLogger("tests.after").info("after the job")

    lines = records(json_lines)
    loggers = [line["logger"] for line in lines]
    before, after = lines[loggers.index("tests.before")], lines[loggers.index("tests.after")]
    during = lines[loggers.index("tests.before") + 1:loggers.index("tests.after")]
    assert (before["job_id"], before["company"], after["job_id"], after["company"]) == (None, None, None, None)
    assert {(line["job_id"], line["company"], line["job_kind"]) for line in during} == {
        (str(batch.job_id), "alpha-bakery", "ingest")
    }
    # The line the import service writes deep inside the job, not only the job runner's own lines:
    [finished] = [line for line in during if line["logger"] == "transactions.services.ingest"]
    assert finished["message"].startswith(f"import {batch.id} (bank.csv) finished: 3 rows, 3 imported")
    assert during[0]["message"].startswith(f"job {batch.job_id} (ingest) started")
    assert during[-1]["message"].startswith(f"job {batch.job_id} finished after")


def test_a_crashing_job_logs_its_traceback_with_the_job_and_company(company_a, json_lines):
    batch = submit(company_a, bank_csv(3))
    batch.file.storage.delete(batch.file.name)  # the stored upload vanished: a bug-shaped failure

    job_run(job_id=batch.job_id, worker="test")

    assert Job.objects.get(id=batch.job_id).status == JobStatus.FAILED
    [crash] = [line for line in records(json_lines) if line["level"] == "ERROR"]
    assert (crash["job_id"], crash["company"]) == (str(batch.job_id), "alpha-bakery")
    assert crash["message"] == f"job {batch.job_id} crashed"
    assert "Traceback" in crash["exception"] and "FileNotFoundError" in crash["exception"]


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord("decisions.llm", logging.WARNING, __file__, 1, message, (), None)
    JobContextFilter().filter(record)
    return record


def test_the_text_format_tags_job_lines_and_leaves_other_lines_alone():
    formatter = TextFormatter("%(levelname)s %(name)s %(message)s")
    outside = formatter.format(_record("no job here"))
    with job_log_context(job_id="1b6e0a36-0000-4000-8000-000000000001", company="alpha-bakery", kind="classify"):
        inside = formatter.format(_record("LLM unavailable"))

    assert outside == "WARNING decisions.llm no job here"
    assert inside == ("WARNING decisions.llm LLM unavailable "
                      "[job=1b6e0a36-0000-4000-8000-000000000001 company=alpha-bakery]")


def test_the_context_ends_with_the_job_even_when_it_raises():
    with pytest.raises(RuntimeError):
        with job_log_context(job_id="j1", company="alpha-bakery", kind="ingest"):
            raise RuntimeError("boom")

    assert _record("later").job_id is None


def test_log_format_accepts_only_text_or_json():
    result = subprocess.run(
        [sys.executable, "-c", "import ledger_site.settings"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "LOG_FORMAT": "xml", "SECRET_KEY": "x"}, timeout=60,
    )

    assert result.returncode != 0
    assert "LOG_FORMAT='xml' is not a log format; use text or json." in result.stderr


@pytest.mark.worker
def test_a_worker_writes_json_lines_naming_the_job_and_company(company_a, accountant_a, token_client_for,
                                                                worker_factory):
    response = token_client_for(accountant_a).post(
        "/api/imports/",
        {"company": company_a.slug, "bank_account": "1000", "file": SimpleUploadedFile("bank.csv", bank_csv(40))},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["job"]["job_id"]
    worker = worker_factory(LOG_FORMAT="json")

    wait_for(lambda: Job.objects.get(id=job_id).is_final, timeout=240,
             message=lambda: f"the import did not finish; worker log:\n{worker.log()}")
    # The runner logs "finished" just after it marks the job final: wait for the line, not only the row.
    wait_for(lambda: f"job {job_id} finished" in worker.log_path.read_text(), timeout=30,
             message=lambda: f"no 'finished' line in the worker log:\n{worker.log()}")

    lines = [json.loads(line) for line in worker.log_path.read_text().splitlines() if line.startswith("{")]
    of_the_job = [line for line in lines if line["job_id"] == job_id]
    assert {line["company"] for line in of_the_job} == {"alpha-bakery"}
    assert [line for line in of_the_job if line["logger"] == "transactions.services.ingest"], lines
    # Every line that mentions the job while it runs is tagged with it (the runner's started/finished lines too).
    assert [line for line in of_the_job if line["message"].startswith(f"job {job_id} (ingest) started")]
    assert [line for line in of_the_job if line["message"].startswith(f"job {job_id} finished")]
