"""GET /metrics: who may read it, and that its numbers move with the work the test does, including work done by
a real worker process (the multiprocess proof)."""
from __future__ import annotations

import datetime
import os
import socket
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from conftest import _purge_test_queues, wait_for
from decisions.services import transactions_classify
from jobs.models import Job, JobKind, JobStatus
from jobs.services import job_claim, job_create, job_fail, job_run
from jobs.tests.helpers import bank_csv
from ledger_site.metrics import IMPORT_ROWS
from ledger_site.metrics_collector import worker_throughput
from rules.services.lifecycle import rule_create
from rules.tests.factories import add_lines, vendor_rule
from transactions.models import Account
from transactions.services.imports import import_batch_submit

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client, **headers: str) -> Samples:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return parse(response.content.decode())


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def fresh_state(settings):
    """Gauges from the database are recomputed on every scrape (the cache has its own test)."""
    settings.METRICS_CACHE_SECONDS = 0


def run_import(company, content: bytes, name: str = "bank.csv"):
    batch = import_batch_submit(
        company=company, bank_account=Account.objects.get(company=company, code="1000"),
        upload=SimpleUploadedFile(name, content), filename=name, user=None, labeled=False, enqueue=False,
    )
    job_run(job_id=batch.job_id, worker="test")
    return batch


THREE_GOOD_ONE_BAD = b"""Date,Description,Amount
2025-01-10,STAPLES 00123,-12.50
2025-01-15,SQ *HAMILTON COFFEE #1123,-4.75
2025-01-20,STRIPE PAYOUT,1500.00
2025-01-21,COMCAST CABLE,-89.999
"""


# --- access ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("allowed", "address", "status"), [
    (["127.0.0.1", "::1"], "127.0.0.1", 200),
    (["127.0.0.1", "::1"], "::1", 200),
    (["127.0.0.1", "::1"], "::ffff:127.0.0.1", 200),
    (["127.0.0.1", "::1"], "10.0.0.7", 404),
    (["127.0.0.1", "::1"], "192.0.2.10", 404),
    (["10.0.0.0/8"], "10.0.0.7", 200),
    (["10.0.0.0/8"], "127.0.0.1", 404),
])
def test_without_a_token_only_allowed_addresses_may_read_metrics(db, client, settings, allowed, address, status):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = allowed

    response = client.get("/metrics", REMOTE_ADDR=address)

    assert response.status_code == status
    if status != 200:
        assert b"jobs_in_progress" not in response.content


@pytest.mark.parametrize(("authorization", "status"), [
    (None, 401),
    ("Bearer wrong-token", 401),
    ("Token s3cret-scrape-token", 401),
    ("Bearer s3cret-scrape-token-and-more", 401),
    ("Bearer s3cret-scrape-token", 200),
    ("bearer s3cret-scrape-token", 200),
])
def test_with_a_token_only_the_bearer_token_opens_metrics_from_anywhere(db, client, settings, authorization, status):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    loopback = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **headers)
    outside = client.get("/metrics", REMOTE_ADDR="203.0.113.9", **headers)

    assert (loopback.status_code, outside.status_code) == (status, status)
    if status == 401:
        assert loopback["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"jobs_in_progress" not in loopback.content


def test_a_logged_in_superuser_is_not_let_in_by_the_session(client, superuser, settings):
    settings.METRICS_TOKEN = ""
    client.force_login(superuser)

    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401


def test_an_outsider_cannot_tell_metrics_from_a_missing_page_with_other_methods(db, client, settings):
    settings.METRICS_TOKEN = ""

    outsider = client.post("/metrics", REMOTE_ADDR="203.0.113.9")
    insider = client.post("/metrics", REMOTE_ADDR="127.0.0.1")

    assert (outsider.status_code, insider.status_code) == (404, 405)


def test_metrics_are_not_in_the_api_schema(db, superuser, client):
    client.force_login(superuser)
    schema = client.get("/api/schema/?format=json").json()

    assert not [path for path in schema["paths"] if path.rstrip("/") in ("/metrics", "/healthz", "/readyz")]


# --- state metrics (database and broker) ------------------------------------------------------------------------

def test_job_gauges_and_failures_follow_the_job_table(company_a, client, fresh_state):
    def new_job(kind: str) -> Job:
        return job_create(company=company_a, kind=kind, created_by=None, params={}, enqueue=False)[0]

    before = scrape(client)
    running = [new_job(JobKind.INGEST) for _ in range(2)]
    for job in running:
        job_claim(job_id=job.id, worker="w1")
    new_job(JobKind.CLASSIFY)  # stays queued
    failed = new_job(JobKind.TRAIN)
    job_claim(job_id=failed.id, worker="w1")
    job_fail(job_id=failed.id, code="boom", message="failed on purpose")

    after = scrape(client)

    assert value(before, "jobs_in_progress", kind="ingest") == 0
    assert value(after, "jobs_in_progress", kind="ingest") == 2
    assert value(after, "jobs_in_progress", kind="train") == 0  # failed is not in progress
    assert value(after, "jobs_queued", kind="classify") == 1
    assert value(after, "jobs_failed_total", kind="train") == 1
    assert value(after, "jobs_failed_total", kind="ingest") == 0
    assert value(after, "metrics_source_up", source="database") == 1


def test_an_import_counts_its_rows_by_outcome_its_duration_and_the_throughput(company_a, client, fresh_state):
    before = scrape(client)

    run_import(company_a, THREE_GOOD_ONE_BAD)
    run_import(company_a, THREE_GOOD_ONE_BAD, name="again.csv")  # the same lines again: duplicates

    after = scrape(client)
    for outcome, added in (("imported", 3), ("duplicate", 3), ("rejected", 2)):
        assert value(after, "import_rows_total", outcome=outcome) - value(before, "import_rows_total",
                                                                          outcome=outcome) == added, outcome
    durations = ("job_duration_seconds_count", {"kind": "ingest", "outcome": "finished_with_errors"})
    assert value(after, durations[0], **durations[1]) - value(before, durations[0], **durations[1]) == 2
    # Both jobs read 4 lines inside the 5-minute window: 8 lines / 5 minutes.
    assert value(after, "worker_throughput_txn_per_min", kind="ingest") == pytest.approx(1.6)


def test_classification_counts_decisions_by_method_and_the_automation_rate_per_company(
    company_a, admin_a, client, fresh_state
):
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    add_lines(company_a, "STAPLES STORE", 3)
    add_lines(company_a, "OFFICE DEPOT", 1)
    before = scrape(client)

    transactions_classify(company=company_a)

    after = scrape(client)
    assert value(after, "decisions_current", company="alpha-bakery", method="rule") == 3
    assert value(after, "decisions_current", company="alpha-bakery", method="review") == 1
    assert value(after, "decisions_current", company="alpha-bakery", method="ml") == 0
    assert value(after, "automation_rate", company="alpha-bakery") == pytest.approx(0.75)
    assert ("automation_rate", (("company", "alpha-bakery"),)) not in before  # nothing decided yet
    assert value(after, "decisions_made_total", method="rule") - value(before, "decisions_made_total",
                                                                       method="rule") == 3
    assert value(after, "decisions_made_total", method="review") - value(before, "decisions_made_total",
                                                                         method="review") == 1


def test_each_batched_classifier_call_is_timed(db, client, fresh_state):
    from mlmodels.services import model_train
    from mlmodels.tests.factories import demo_company_with_history, uncategorized_lines

    company = demo_company_with_history(300)
    model_train(company=company)
    uncategorized_lines(company, 12)
    before = scrape(client)

    transactions_classify(company=company)

    after = scrape(client)
    calls = ("model_inference_seconds_count", {"scope": "company"})
    assert value(after, calls[0], **calls[1]) - value(before, calls[0], **calls[1]) == 1
    assert value(after, "model_inference_rows_total", scope="company") - value(
        before, "model_inference_rows_total", scope="company") == 12
    assert value(after, "model_inference_seconds_sum", scope="company") > value(
        before, "model_inference_seconds_sum", scope="company")


def test_queue_depth_counts_the_messages_waiting_in_each_queue(db, client, fresh_state):
    from ledger_site.celery import app

    _purge_test_queues()
    before = scrape(client)
    try:
        for _ in range(2):
            app.send_task("jobs.train", args=[str(uuid.uuid4())])  # routed to "low"; no worker is running

        after = scrape(client)
    finally:
        _purge_test_queues()

    assert value(after, "metrics_source_up", source="broker") == 1
    assert value(after, "queue_depth", queue="low") - value(before, "queue_depth", queue="low") == 2
    assert value(after, "queue_depth", queue="high") == value(before, "queue_depth", queue="high")
    assert ("queue_depth", (("queue", "default"),)) in after


def test_an_unreachable_broker_drops_queue_depth_and_says_so(db, client, fresh_state, monkeypatch):
    from ledger_site import celery as celery_module

    monkeypatch.setattr(celery_module.app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setattr(celery_module.app.conf, "broker_read_url", None)

    samples = scrape(client)

    assert value(samples, "metrics_source_up", source="broker") == 0
    assert not [key for key in samples if key[0] == "queue_depth"]
    assert value(samples, "metrics_source_up", source="database") == 1


def test_state_is_read_once_per_cache_interval(company_a, client, settings, django_assert_num_queries):
    settings.METRICS_CACHE_SECONDS = 60
    scrape(client)
    job_create(company=company_a, kind=JobKind.INGEST, created_by=None, params={}, enqueue=False)

    with django_assert_num_queries(0):
        cached = scrape(client)
    cache.clear()
    fresh = scrape(client)

    assert value(cached, "jobs_queued", kind="ingest") == 0
    assert value(fresh, "jobs_queued", kind="ingest") == 1


def test_throughput_counts_the_part_of_each_job_inside_the_window(company_a):
    now = timezone.now()
    minutes = lambda n: now - datetime.timedelta(minutes=n)  # noqa: E731

    def job(kind: str, status: str, processed: int, started: int, end: int | None) -> None:
        created = job_create(company=company_a, kind=kind, created_by=None, params={}, enqueue=False)[0]
        Job.objects.filter(id=created.id).update(
            status=status, processed_count=processed, started_at=minutes(started), heartbeat_at=minutes(end or 0),
            finished_at=minutes(end) if status != JobStatus.STARTED else None,
        )

    job(JobKind.INGEST, JobStatus.FINISHED, 600, started=8, end=2)  # 6 minutes, 3 of them in the window: 300
    job(JobKind.INGEST, JobStatus.STARTED, 100, started=1, end=None)  # all inside: 100
    job(JobKind.CLASSIFY, JobStatus.FINISHED, 900, started=12, end=10)  # before the window: 0
    job(JobKind.CLASSIFY, JobStatus.FAILED, 50, started=3, end=1)  # failed, but worked inside it: 50

    rates = worker_throughput(now=now)

    assert rates["ingest"] == pytest.approx(400 / 5)
    assert rates["classify"] == pytest.approx(50 / 5)


# --- event metrics from the web process itself -----------------------------------------------------------------

def test_request_latency_is_labelled_by_route_name_and_status_class_never_by_path(db, client):
    job_id = uuid.uuid4()
    before = scrape(client)

    client.get("/healthz")
    client.get("/healthz")
    client.get(f"/api/jobs/{job_id}")  # anonymous: 401
    client.get("/no/such/page/42")

    after = scrape(client)

    def added(**labels: str) -> float:
        name = "http_request_duration_seconds_count"
        return value(after, name, **labels) - value(before, name, **labels)

    assert added(method="GET", route="healthz", status="2xx") == 2
    assert added(method="GET", route="api-job-detail", status="4xx") == 1
    assert added(method="GET", route="<unmatched>", status="4xx") == 1
    assert added(method="GET", route="metrics", status="2xx") == 1  # the first scrape
    routes = {dict(labels).get("route") for name, labels in after if name.startswith("http_request_duration")}
    assert not [route for route in routes if str(job_id) in route or "42" in route]


# --- event metrics from a real worker process -------------------------------------------------------------------

def _submit(client, company, content: bytes) -> str:
    response = client.post(
        "/api/imports/",
        {"company": company.slug, "bank_account": "1000", "file": SimpleUploadedFile("bank.csv", content)},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return response.json()["job"]["job_id"]


@pytest.mark.worker
def test_rows_a_worker_process_imports_show_in_the_web_process_metrics(
    company_a, accountant_a, token_client_for, worker_factory, client, fresh_state
):
    rows = 1_200
    before = scrape(client)
    counted_here_before = IMPORT_ROWS.labels(outcome="imported")._value.get()
    job_id = _submit(token_client_for(accountant_a), company_a, bank_csv(rows))

    worker = worker_factory()
    wait_for(lambda: Job.objects.get(id=job_id).is_final, timeout=240,
             message=lambda: f"the import did not finish; worker log:\n{worker.log()}")

    after = scrape(client)
    assert Job.objects.get(id=job_id).status == JobStatus.FINISHED
    assert value(after, "import_rows_total", outcome="imported") - value(
        before, "import_rows_total", outcome="imported") == rows
    duration = ("job_duration_seconds_count", {"kind": "ingest", "outcome": "finished"})
    assert value(after, duration[0], **duration[1]) - value(before, duration[0], **duration[1]) == 1
    # Counted by the worker's pool process, in its own file: this (web) process counted nothing.
    assert IMPORT_ROWS.labels(outcome="imported")._value.get() == counted_here_before
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert [path for path in folder.glob("counter_*.db") if path.stem != f"counter_{os.getpid()}"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


@pytest.mark.worker
def test_a_worker_can_serve_this_hosts_counters_itself_behind_the_token(company_a, worker_factory, settings):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    run_import(company_a, THREE_GOOD_ONE_BAD)  # counted by this process, in the shared folder
    worker = worker_factory(LEDGER_WORKER_METRICS_PORT=str(port), METRICS_TOKEN="worker-scrape-token")

    def answered() -> tuple[int, str] | None:
        try:
            return _get(url, "worker-scrape-token")
        except OSError:
            return None  # not listening yet

    status, body = wait_for(answered, timeout=120, interval=0.5,
                            message=lambda: f"the exporter never answered; worker log:\n{worker.log()}")

    assert status == 200
    samples = parse(body)
    assert value(samples, "import_rows_total", outcome="imported") >= 3
    assert not [key for key in samples if key[0] == "jobs_in_progress"]  # state metrics stay with the web
    assert _get(url)[0] == 401
    assert _get(url, "wrong")[0] == 401
