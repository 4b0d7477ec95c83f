"""Shared fixtures: two companies, a user per role in company A, an outsider from company B, a superuser,
API clients, and a real Celery worker process for the tests that need one."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Iterator

import pytest
from django.db import connection
from rest_framework.test import APIClient

from transactions.models import Role
from transactions.tests.factories import (
    AccountFactory,
    BankAccountFactory,
    CompanyFactory,
    MembershipFactory,
    UserFactory,
)

ROOT = Path(__file__).resolve().parent


@pytest.fixture
def company_a(db):
    company = CompanyFactory(name="Alpha Bakery", slug="alpha-bakery")
    BankAccountFactory(company=company)
    AccountFactory(company=company, code="6100", name="Office Supplies")
    AccountFactory(company=company, code="8000", name="Sales Revenue", type="income")
    return company


@pytest.fixture
def company_b(db):
    company = CompanyFactory(name="Beta Builders", slug="beta-builders")
    BankAccountFactory(company=company)
    return company


@pytest.fixture
def accountant_a(company_a):
    return MembershipFactory(user=UserFactory(username="accountant_a"), company=company_a, role=Role.ACCOUNTANT).user


@pytest.fixture
def reviewer_a(company_a):
    return MembershipFactory(user=UserFactory(username="reviewer_a"), company=company_a, role=Role.REVIEWER).user


@pytest.fixture
def admin_a(company_a):
    return MembershipFactory(user=UserFactory(username="admin_a"), company=company_a, role=Role.ADMIN).user


@pytest.fixture
def outsider(company_b):
    """A user of company B who must never see anything of company A."""
    return MembershipFactory(user=UserFactory(username="outsider_b"), company=company_b, role=Role.ADMIN).user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for() -> Callable[..., APIClient]:
    """An API client logged in (session) as the given user, enforcing CSRF like a browser."""

    def make(user) -> APIClient:
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def token_client_for() -> Callable[..., APIClient]:
    """An API client authenticating with a new API token of the user's, as scripts do."""
    from transactions.services.tokens import api_token_create

    def make(user) -> APIClient:
        client = APIClient()
        _, key = api_token_create(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@dataclass
class WorkerProcess:
    """A real `celery worker` (with embedded beat for the orphan sweep) running against the test database."""

    log_path: Path
    extra_env: dict[str, str]
    queues: str = "high,default,low"
    process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ledger_site.settings_test",
            "LEDGER_WORKER_DATABASE_NAME": str(connection.settings_dict["NAME"]),
            "PYTHONUNBUFFERED": "1",  # the log is what a failing test shows: write it as it happens
            **self.extra_env,
        }
        schedule = self.log_path.with_suffix(".beat")
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ledger_site", "worker", "-B", "-s", str(schedule),
             "-Q", self.queues, "--concurrency", "1", "-n", f"test-{uuid.uuid4().hex[:8]}@%h",
             "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once: no chance to clean up, like a lost machine."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture
def worker_factory(transactional_db, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real worker processes; every one is stopped at the end of the test."""
    _purge_test_queues()
    workers: list[WorkerProcess] = []

    def start(*, queues: str = "high,default,low", **extra_env: str) -> WorkerProcess:
        worker = WorkerProcess(log_path=tmp_path / f"worker{len(workers)}.log", extra_env=extra_env, queues=queues)
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def _purge_test_queues() -> None:
    """Drop messages a previous test run left behind, so they cannot reach this test's worker."""
    from ledger_site.celery import app

    with app.connection_for_write() as conn:
        for queue in ("high", "default", "low"):
            conn.default_channel.queue_purge(queue)


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.05,
             message: str | Callable[[], str] = "") -> object:
    """Poll until predicate() is truthy; fail the test with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    # A callable message is built at the failure, so it can show the worker's log as it is then.
    text = message() if callable(message) else message
    pytest.fail(text or f"condition not met within {timeout} s")



@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters and login lockouts live in the cache: every test starts without any."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _models_in_tmp(settings, tmp_path):
    """Model artifacts of a test go to its own folder, and no loaded model outlives the test."""
    from mlmodels.inference import forget_loaded_models

    settings.LEDGER_MODELS_DIR = tmp_path / "models"
    forget_loaded_models()
    yield
    forget_loaded_models()


@pytest.fixture
def page(live_server, monkeypatch):
    """A headless Chromium page on the live server (see ledger_site/tests/browser.py)."""
    from ledger_site.tests.browser import chromium_page

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    yield from chromium_page(live_server.url)
