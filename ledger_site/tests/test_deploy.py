"""The production recipe in deploy/, run as far as this machine allows: gunicorn with its config file serving the
app and whitenoise's static files, the example environment passing `check --deploy`, the systemd units verified by
systemd-analyze, and redis-server taking deploy/redis.conf. (The units themselves are not started here.)"""
from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from jobs.tests.faults import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def example_environment(tmp_path: Path) -> dict[str, str]:
    """deploy/autoledger.env.example as a process would get it, with this machine's paths for the files."""
    values = {}
    for line in (DEPLOY / "autoledger.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    secret = tmp_path / "secret_key"
    secret.write_text("k7#Qz!p2Rv9@Lm4$Wx8^Nb3&Jt6*Hc1(Yd5)Fg0-Se7+Ua2=Vo9-example-only")
    return {**values, "SECRET_KEY_FILE": str(secret), "LEDGER_VAR_DIR": str(tmp_path / "var"),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}


def test_the_example_production_environment_passes_the_deploy_checks(tmp_path):
    env = {**os.environ, **example_environment(tmp_path), "DJANGO_SETTINGS_MODULE": "ledger_site.settings"}

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def gunicorn(transactional_db, tmp_path) -> Iterator[str]:
    """gunicorn started as autoledger-web.service starts it, on a free port, against the test database."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledger_site.settings_test",  # the production settings on the test database
        "LEDGER_WORKER_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "LEDGER_VAR_DIR": str(tmp_path / "var"),
        "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2",
    }
    collect = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert collect.returncode == 0, collect.stdout + collect.stderr
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--config", "deploy/gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while fetch(url + "/healthz")[0] is None:
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"gunicorn did not answer:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int | None, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except OSError:
        return None, {}, b""


def test_gunicorn_serves_the_app_and_its_compressed_static_files(gunicorn):
    status, _, body = fetch(gunicorn + "/healthz")
    assert status == 200, body

    status, headers, body = fetch(gunicorn + "/static/css/app.css", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == (ROOT / "static" / "css" / "app.css").read_bytes()

    status, headers, body = fetch(gunicorn + "/api/jobs/company/1")
    assert status == 401 and headers["Content-Type"] == "application/json"


def test_gunicorn_replaces_a_database_connection_the_server_ended(gunicorn):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's; CI runs this test with DATABASE_URL set")
    for _ in range(4):
        fetch(gunicorn + "/healthz")  # both gunicorn workers now hold a connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND application_name <> %s",
                       [settings.TEST_PROCESS_DB_APPLICATION_NAME])

    statuses = [fetch(gunicorn + "/healthz")[0] for _ in range(6)]
    assert statuses == [200] * 6


def test_the_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    environment = tmp_path / "autoledger.env"
    environment.write_text("")
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        # This checkout stands in for /opt/autoledger, and the current user for the autoledger account.
        text = (unit.read_text().replace("/opt/autoledger", str(ROOT))
                .replace("/etc/autoledger/autoledger.env", str(environment))
                .replace("User=autoledger", "User=root").replace("Group=autoledger", "Group=root"))
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(text)
        units.append(str(tmp_path / name))

    result = subprocess.run([analyze, "verify", *units], capture_output=True, text=True, timeout=120)

    assert len(units) == 3
    assert (result.returncode, result.stderr.strip()) == (0, ""), result.stdout + result.stderr


def unit_settings(name: str) -> dict[str, str]:
    """The [Service] lines of one unit in deploy/systemd/, as name -> value."""
    lines = (DEPLOY / "systemd" / name).read_text().split("[Service]")[1].split("[Install]")[0].splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_workers_run_below_the_web_tiers_cpu_priority():
    """An import takes every CPU cycle it can get; API requests on the same host must not queue behind it."""
    web, worker = unit_settings("autoledger-web.service"), unit_settings("autoledger-worker@.service")

    assert int(worker.get("Nice", 0)) > int(web.get("Nice", 0))
    assert int(worker.get("CPUWeight", 100)) < int(web.get("CPUWeight", 100))


def test_gunicorn_workers_import_every_view_before_serving_and_restart_seldom(tmp_path):
    """A new worker imports the URLconf (and with it pandas and scikit-learn) in post_worker_init, not in its first
    request; and workers are recycled seldom, with a jitter that keeps them from restarting together."""
    script = (
        "import runpy, sys, django\n"
        "django.setup()\n"
        "config = runpy.run_path('deploy/gunicorn.conf.py')\n"
        "assert 'decisions.api.views' not in sys.modules\n"
        "config['post_worker_init'](None)\n"
        "print('decisions.api.views' in sys.modules, config['max_requests'], config['max_requests_jitter'])\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ledger_site.settings_test", "LEDGER_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)

    assert result.returncode == 0, result.stderr
    imported, max_requests, jitter = result.stdout.split()
    assert imported == "True"
    assert int(max_requests) >= 10_000 and int(jitter) >= int(max_requests) // 5


def test_redis_server_takes_the_example_configuration(tmp_path):
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.skip("redis-server is not installed")
    import redis

    port = free_port()
    process = subprocess.Popen(
        [redis_server, str(DEPLOY / "redis.conf"), "--port", str(port), "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        client = redis.Redis(port=port, socket_timeout=5)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("redis-server refused deploy/redis.conf")
                time.sleep(0.1)
        settings = {**client.config_get("appendonly"), **client.config_get("maxmemory-policy")}
        assert settings == {"appendonly": "yes", "maxmemory-policy": "noeviction"}
    finally:
        process.kill()
        process.wait(timeout=10)
