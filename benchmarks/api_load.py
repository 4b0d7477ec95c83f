"""API under load: job-status GETs and import POSTs against gunicorn while a 10^6-row import runs.

What it measures (one command, prints a table):
  * gunicorn with deploy/gunicorn.conf.py (sync workers, GUNICORN_WORKERS default 2 x cores + 1), bound to
    127.0.0.1 on a free port, DEBUG=0, a SECRET_KEY, ALLOWED_HOSTS=127.0.0.1; one real Celery worker (solo pool)
    at the CPU priority the production unit gives workers (`nice -n 10`, and the same for its session autogroup;
    --worker-nice); PostgreSQL (a fresh bench database) and Redis (a bench db, flushed at the start).
  * Before the load: one company (hamilton-coffee and its chart), a superuser with an API token, and a
    `--rows`-row import (transactions.demo_data, the file benchmarks.e2e keeps in var/bench/) POSTed over HTTP;
    the load starts once the worker has claimed that ingest job, so the database and both cores are busy.
  * The load, open loop for `--seconds`: GET /api/jobs/{id} of the big import at `--rate` requests/s and
    POST /api/imports/ of small CSV files (`--post-rows` rows, each file different) at `--post-rate`
    requests/s, all with `Authorization: Token ...`. A request is sent at its scheduled time whatever happened
    to earlier ones (one new connection per request: gunicorn's sync workers close it after each response) and
    its latency is counted from the scheduled time to the last byte of the response, so a stalled server shows
    as latency instead of as fewer requests (no coordinated omission). A request with no answer after
    `--timeout` seconds counts as an error.
  * Reported per endpoint: requests sent, throughput achieved (responses/s), p50/p95/p99/max latency in ms,
    non-2xx and 5xx counts, errors; and the big import's rows/s during the load window. Also, before the big
    import, `--idle-requests` job-status GETs one after the other: the service time of an idle server.

The upload limits are raised for the run (UPLOADS_PER_HOUR_PER_USER and UPLOADS_PER_HOUR_PER_COMPANY = 100000):
otherwise the 121st POST of the hour is a 429 by design. The API has no other throttle.

    .venv/bin/python -m benchmarks.api_load                               # --rows 1000000 --rate 200 --seconds 30
    .venv/bin/python -m benchmarks.api_load --rows 100000 --seconds 10    # quick check

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/autoledger_api_bench; its name must contain "bench":
it is dropped and re-created, and dropped at the end unless --keep-db) and REDIS_URL (default
redis://127.0.0.1:6379/14, flushed; not db 0) are read from the environment.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.e2e import COMPANY, csv_file, flush_bench_redis, start_workers, stop_workers
from benchmarks.ingest import (
    BENCH_DIR, REPO_ROOT, drop_database, machine_lines, purge_queues, recreate_database, stop_worker,
)

RUN_VAR_DIR = BENCH_DIR / "api-run"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/autoledger_api_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
HOST = "127.0.0.1"
SERVER_READY_TIMEOUT = 60.0
JOB_START_TIMEOUT = 600.0
WORKER_NICE = 10  # as deploy/systemd/autoledger-worker@.service runs workers (Nice=10)


@dataclass
class Sample:
    scheduled: float
    latency: float  # seconds from the scheduled send time to the end of the response (or the error)
    status: int  # 0: no HTTP answer (timeout, refused, reset)
    error: str = ""


@dataclass
class Endpoint:
    name: str
    samples: list[Sample] = field(default_factory=list)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the import running underneath")
    parser.add_argument("--rate", type=float, default=200.0, help="job-status GETs per second")
    parser.add_argument("--post-rate", type=float, default=2.0, help="small import POSTs per second")
    parser.add_argument("--post-rows", type=int, default=50, help="rows per small import file")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the load window")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a request counts as an error")
    parser.add_argument("--gunicorn-workers", type=int, default=0,
                        help="GUNICORN_WORKERS (default: deploy/gunicorn.conf.py's 2 x cores + 1)")
    parser.add_argument("--worker-nice", type=int, default=WORKER_NICE,
                        help="the Celery worker's niceness (default 10: Nice= of the production worker unit; "
                             "0 runs it at the web's priority)")
    parser.add_argument("--idle-requests", type=int, default=200,
                        help="sequential job-status GETs before the import (the idle service time)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database at the end")
    args = parser.parse_args(argv)
    if args.idle_requests < 1 or args.rows < 1 or args.rate <= 0 or args.post_rate < 0 or args.seconds <= 0 or args.post_rows < 1:
        parser.error("--rows, --rate, --seconds and --post-rows must be positive, --post-rate not negative")
    return args


def configure_environment(port: int, gunicorn_workers: int) -> None:
    """What settings.py (and deploy/gunicorn.conf.py) read; the children (gunicorn, the worker) inherit it."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "ledger_site.settings",
        "SECRET_KEY": "bench-api-load-" + uuid.uuid4().hex,
        "DEBUG": "0",
        "ALLOWED_HOSTS": HOST,
        "MAX_UPLOAD_MB": "1000",
        "UPLOADS_PER_HOUR_PER_USER": "100000",
        "UPLOADS_PER_HOUR_PER_COMPANY": "100000",
        "LEDGER_VAR_DIR": str(RUN_VAR_DIR),
        "LEDGER_TASKS_EAGER": "0",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_BIND": f"{HOST}:{port}",
    })
    if gunicorn_workers:
        os.environ["GUNICORN_WORKERS"] = str(gunicorn_workers)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def setup_data() -> str:
    """The company, a superuser and its API token; returns the token key."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from transactions.demo_data import COMPANIES
    from transactions.services.companies import company_ensure_with_chart
    from transactions.services.tokens import api_token_create

    call_command("migrate", verbosity=0)
    company_ensure_with_chart(spec=next(spec for spec in COMPANIES if spec.slug == COMPANY))
    user = get_user_model().objects.create_superuser(username="bench", email="bench@example.com", password=None)
    _, key = api_token_create(user=user, name="api_load benchmark")
    return key


def start_gunicorn(port: int) -> subprocess.Popen[bytes]:
    log_path = RUN_VAR_DIR / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py"]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=dict(os.environ), stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + SERVER_READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see {log_path}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop_worker(server)
    raise RuntimeError(f"gunicorn did not answer /healthz within {SERVER_READY_TIMEOUT:.0f} s; see {log_path}")


def multipart(fields: dict[str, str], file_name: str, content: bytes) -> tuple[str, bytes]:
    """(content type, body) of a multipart/form-data upload with one file field named "file"."""
    boundary = "bench" + uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
                 f"Content-Type: text/csv\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def small_file(index: int, rows: int) -> bytes:
    """A small statement that differs from every other one (its own sha256, its own rows)."""
    lines = ["date,description,counterparty,amount,currency"]
    lines += [f"2031-01-{1 + row % 28:02d},BENCH LOAD {index} ITEM {row},,-{1 + row}.{index % 100:02d},USD"
              for row in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def post_big_import(port: int, token: str, path: Path) -> str:
    content_type, body = multipart({"company": COMPANY, "bank_account": "1000"}, path.name, path.read_bytes())
    connection = http.client.HTTPConnection(HOST, port, timeout=600)
    connection.request("POST", "/api/imports/", body=body,
                       headers={"Authorization": f"Token {token}", "Content-Type": content_type})
    response = connection.getresponse()
    payload = response.read()
    if response.status != 202:
        raise RuntimeError(f"POST /api/imports/ answered {response.status}: {payload[:500]!r}")
    return str(json.loads(payload)["job"]["job_id"])


def job_row(job_id: str) -> dict[str, Any]:
    from jobs.models import Job

    return Job.objects.filter(id=job_id).values("status", "processed_count", "started_at", "error").get()


def wait_until_started(job_id: str) -> None:
    deadline = time.monotonic() + JOB_START_TIMEOUT
    while time.monotonic() < deadline:
        job = job_row(job_id)
        if job["status"] == "started" and job["processed_count"] > 0:
            return
        if job["status"] not in ("queued", "started"):
            raise RuntimeError(f"the big import ended {job['status']} before the load: {job['error']}")
        time.sleep(0.2)
    raise RuntimeError("the worker did not start the big import in time")


def idle_service_times(port: int, token: str, *, count: int) -> str:
    """Before the big import: `count` job-status GETs one after the other (closed loop, nothing else running):
    the time the server needs for one request when it is not busy."""
    content_type, body = multipart({"company": COMPANY, "bank_account": "1000"}, "idle.csv", small_file(-1, 5))
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    connection.request("POST", "/api/imports/", body=body,
                       headers={"Authorization": f"Token {token}", "Content-Type": content_type})
    response = connection.getresponse()
    job_id = json.loads(response.read())["job"]["job_id"]
    times = []
    for _ in range(count):
        start = time.perf_counter()
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        connection.request("GET", f"/api/jobs/{job_id}", headers={"Authorization": f"Token {token}"})
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"GET /api/jobs/{job_id} answered {response.status}")
        times.append((time.perf_counter() - start) * 1000)
    return (f"{count} job-status GETs one at a time before the import: p50 {percentile(times, 0.5):.1f} ms, "
            f"p95 {percentile(times, 0.95):.1f} ms, max {max(times):.1f} ms")


# --- the load -----------------------------------------------------------------------------------------------


async def one_request(port: int, raw: bytes, scheduled: float, timeout: float) -> Sample:
    loop = asyncio.get_running_loop()

    async def exchange() -> int:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(raw)
            await writer.drain()
            status_line = await reader.readline()
            await reader.read()  # to EOF: the server closes after the response
            return int(status_line.split()[1])
        finally:
            writer.close()

    try:
        status = await asyncio.wait_for(exchange(), timeout)
        return Sample(scheduled, loop.time() - scheduled, status)
    except (OSError, asyncio.TimeoutError, ValueError, IndexError) as error:
        return Sample(scheduled, loop.time() - scheduled, 0, type(error).__name__)


async def drive(port: int, *, rate: float, seconds: float, timeout: float, endpoint: Endpoint,
                request_for: Any) -> None:
    """Open loop: request i is sent at start + i / rate, whether or not earlier ones have answered."""
    if rate <= 0:
        return
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    count = int(seconds * rate)
    tasks = []
    for index in range(count):
        scheduled = start + index / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one_request(port, request_for(index), scheduled, timeout)))
    endpoint.samples = list(await asyncio.gather(*tasks))


def get_request(job_id: str, token: str) -> bytes:
    return (f"GET /api/jobs/{job_id} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Token {token}\r\n"
            f"Accept: application/json\r\nConnection: close\r\n\r\n").encode()


def post_request(index: int, token: str, rows: int) -> bytes:
    content_type, body = multipart({"company": COMPANY, "bank_account": "1000"}, f"load-{index}.csv",
                                   small_file(index, rows))
    head = (f"POST /api/imports/ HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Token {token}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


async def run_load(port: int, *, job_id: str, token: str, args: argparse.Namespace) -> list[Endpoint]:
    gets, posts = Endpoint(f"GET /api/jobs/{{id}} @ {args.rate:g}/s"), Endpoint(f"POST /api/imports/ @ {args.post_rate:g}/s")
    get_raw = get_request(job_id, token)
    post_bodies = [post_request(index, token, args.post_rows) for index in range(int(args.seconds * args.post_rate))]
    await asyncio.gather(
        drive(port, rate=args.rate, seconds=args.seconds, timeout=args.timeout, endpoint=gets,
              request_for=lambda index: get_raw),
        drive(port, rate=args.post_rate, seconds=args.seconds, timeout=args.timeout, endpoint=posts,
              request_for=lambda index: post_bodies[index]),
    )
    return [gets, posts]


# --- the report ---------------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


def results_table(endpoints: list[Endpoint], seconds: float) -> list[str]:
    lines = ["| endpoint | sent | answered/s | p50 ms | p95 ms | p99 ms | max ms | non-2xx | 5xx | errors |",
             "|" + "---|" * 10]
    for endpoint in endpoints:
        samples = endpoint.samples
        if not samples:
            continue
        answered = [sample for sample in samples if sample.status]
        latencies = [sample.latency * 1000 for sample in samples]
        span = max(seconds, max(s.scheduled + s.latency for s in samples) - min(s.scheduled for s in samples))
        lines.append(
            f"| {endpoint.name} | {len(samples):,} | {len(answered) / span:,.1f} "
            f"| {percentile(latencies, 0.50):,.0f} | {percentile(latencies, 0.95):,.0f} "
            f"| {percentile(latencies, 0.99):,.0f} | {max(latencies):,.0f} "
            f"| {sum(1 for s in answered if not 200 <= s.status < 300)} | {sum(1 for s in answered if s.status >= 500)} "
            f"| {len(samples) - len(answered)} |"
        )
    return lines


def status_summary(endpoints: list[Endpoint]) -> list[str]:
    lines = []
    for endpoint in endpoints:
        codes: dict[str, int] = {}
        for sample in endpoint.samples:
            key = str(sample.status) if sample.status else sample.error or "error"
            codes[key] = codes.get(key, 0) + 1
        lines.append(f"  {endpoint.name}: " + ", ".join(f"{code}: {count:,}" for code, count in sorted(codes.items())))
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    port = free_port()
    configure_environment(port, args.gunicorn_workers)
    shutil.rmtree(RUN_VAR_DIR, ignore_errors=True)
    RUN_VAR_DIR.mkdir(parents=True)
    database_url = os.environ["DATABASE_URL"]
    recreate_database(database_url)
    flush_bench_redis()
    server = None
    workers: list[subprocess.Popen[bytes]] = []
    try:
        import django

        django.setup()
        path = csv_file(args.rows)
        token = setup_data()
        purge_queues()
        server = start_gunicorn(port)
        workers = start_workers(1, tag="api-load", log_dir=RUN_VAR_DIR, nice=args.worker_nice)
        idle = idle_service_times(port, token, count=args.idle_requests)
        print(f"gunicorn on {HOST}:{port}; POSTing the {args.rows:,}-row import ...", flush=True)
        started = time.monotonic()
        job_id = post_big_import(port, token, path)
        print(f"  upload answered in {time.monotonic() - started:.1f} s; waiting for the worker to start it ...",
              flush=True)
        wait_until_started(job_id)
        before = job_row(job_id)["processed_count"]
        window_start = time.monotonic()
        load_avg_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        print(f"  load for {args.seconds:g} s: {args.rate:g} GET/s + {args.post_rate:g} POST/s ...", flush=True)
        endpoints = asyncio.run(run_load(port, job_id=job_id, token=token, args=args))
        window = time.monotonic() - window_start
        after_job = job_row(job_id)
        import_note = (f"the big import: {after_job['processed_count'] - before:,} rows in the {window:.0f} s "
                       f"window ({(after_job['processed_count'] - before) / window:,.0f} rows/s), status "
                       f"{after_job['status']} at the end")
        if after_job["status"] != "started":
            import_note += " (it was not running for the whole window: read the load as partly idle)"
        from django.conf import settings

        workers_count = os.environ.get("GUNICORN_WORKERS") or "2 x cores + 1"
        print("\n".join([
            "", *machine_lines()[:5],
            f"load avg:  {load_avg_before} (1/5/15 min, before the load)",
            f"server:    gunicorn --config deploy/gunicorn.conf.py, {workers_count} sync workers, "
            f"DEBUG={settings.DEBUG}; 1 Celery worker (solo, nice {args.worker_nice}); "
            "uploads limit raised to 100000/h",
            f"import:    {import_note}",
            f"idle:      {idle}", "",
            *results_table(endpoints, args.seconds), "", "status codes:", *status_summary(endpoints),
        ]), flush=True)
        gets = endpoints[0].samples
        p95 = percentile([s.latency * 1000 for s in gets], 0.95)
        fives = sum(1 for endpoint in endpoints for s in endpoint.samples if s.status >= 500)
        print(f"\ntarget (job status p95 < 50 ms at {args.rate:g}/s, zero 5xx): "
              f"{'met' if p95 < 50 and fives == 0 else 'MISSED'} (p95 {p95:.0f} ms, {fives} 5xx)", flush=True)
    finally:
        stop_workers(workers)
        if server is not None:
            stop_worker(server)
        if not args.keep_db:
            drop_database(database_url)
        shutil.rmtree(RUN_VAR_DIR / "uploads", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
