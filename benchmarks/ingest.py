"""Bank-file ingest benchmark: rows per second from upload to finished job, through the real pipeline.

What it measures, per file size (default 10^5 and 10^6 rows, 3 runs each, medians reported):
  * upload -> finished: POST /api/imports/ (in-process django.test.Client, as a superuser) until the Job is
    final, polled every 0.1 s. Includes storing the file, sha256, layout detection, the Redis round trip, the
    worker's queue wait and the ingest itself.
  * ingest only: the Job's own started_at -> finished_at (claimed by the worker -> outcome recorded).
  * peak worker memory: VmHWM of a real Celery worker (solo pool, so the main process does the work), started
    fresh for every run; its start-up time is not measured.
and, for comparison, a naive baseline: the first 100,000 rows of the 10^5 file parsed with the project's parser
and saved one by one with Transaction(...).save() inside one transaction.atomic().

Each run imports into a fresh company and bank account, so every row is new (no duplicates). The CSV files are
generated once with transactions.demo_data and kept in var/bench/ for later invocations. Every invocation uses
a fresh PostgreSQL database (dropped and re-created, then migrated) and drops it again at the end.

Run from the repository root (PostgreSQL and Redis must be running):

    .venv/bin/python -m benchmarks.ingest                       # --sizes 100000 1000000 --runs 3
    .venv/bin/python -m benchmarks.ingest --sizes 20000 --runs 1  # quick check

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/autoledger_bench; its name must contain "bench",
since the database is dropped) and REDIS_URL (default redis://127.0.0.1:6379/14) are read from the environment.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "var" / "bench"
RUN_VAR_DIR = BENCH_DIR / "run"  # LEDGER_VAR_DIR of this benchmark: uploads, worker logs
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/autoledger_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
QUEUES = ("high", "default", "low")
GENERATOR_COMPANY = "hamilton-coffee"
BASELINE_SIZE = 100_000  # the size the naive baseline and the ratio refer to
NAIVE_PROBE_ROWS = 20_000  # a naive run projected to exceed its time budget stops here
POLL_SECONDS = 0.1
WORKER_READY_TIMEOUT = 120.0
# The code a run exercises; its hash is printed per run, since the pipeline may change between two runs.
PIPELINE_SOURCES = (
    "transactions/services", "transactions/parsing", "transactions/models.py", "transactions/api",
    "jobs/services.py", "jobs/handlers.py", "jobs/tasks.py",
)
PROGRESS_SECONDS = 30.0  # while a job runs, print its progress this often


@dataclass
class RunResult:
    size: int
    run: int
    rows: int
    status: str
    upload_s: float  # the POST itself (store, hash, detect layout, enqueue)
    queue_s: float  # POST answered -> worker claimed the job
    ingest_s: float  # job started_at -> finished_at
    total_s: float  # just before the POST -> job seen final
    ready_mb: float  # worker RSS when ready, before the job
    peak_mb: float  # worker VmHWM after the job
    code: str  # hash of PIPELINE_SOURCES when the worker started
    complete: bool = True  # False: the job timed out; rows is how far it got

    @property
    def total_rate(self) -> float:
        return self.rows / self.total_s

    @property
    def ingest_rate(self) -> float:
        return self.rows / self.ingest_s


@dataclass
class NaiveResult:
    rows: int
    seconds: float
    truncated: bool  # stopped after NAIVE_PROBE_ROWS because the full run would exceed the budget

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


# --- set-up -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="rows per file")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per size (medians are reported)")
    parser.add_argument("--naive-rows", type=int, default=BASELINE_SIZE, help="rows for the per-row save() baseline")
    parser.add_argument(
        "--naive-budget", type=float, default=300.0,
        help=f"seconds; a naive baseline projected to take longer stops after {NAIVE_PROBE_ROWS:,} rows",
    )
    parser.add_argument(
        "--job-timeout", type=float, default=3600.0,
        help="seconds; a job still running after this is abandoned (its size and larger ones are skipped)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database at the end")
    args = parser.parse_args(argv)
    if args.runs < 1 or any(size < 1 for size in args.sizes):
        parser.error("--runs and --sizes must be positive")
    return args


def configure_environment() -> None:
    """Everything settings.py reads at import time; must run before Django is imported."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "ledger_site.settings",
            "SECRET_KEY": "bench",
            "DEBUG": "0",  # DEBUG would keep every SQL query in memory
            "ALLOWED_HOSTS": "testserver",  # the host name of django.test.Client
            "MAX_UPLOAD_MB": "1000",
            "LEDGER_VAR_DIR": str(RUN_VAR_DIR),
            "LEDGER_TASKS_EAGER": "0",
            "LOG_LEVEL": "WARNING",
        }
    )


def recreate_database(database_url: str) -> None:
    """DROP ... WITH (FORCE) and CREATE the bench database, connecting to the server's `postgres` database."""
    import dj_database_url
    from psycopg import sql

    config = dj_database_url.parse(database_url)
    name = config["NAME"]
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit(f"DATABASE_URL must point to PostgreSQL, not {config['ENGINE']}")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    with _admin_connection(config) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(database_url: str) -> None:
    import dj_database_url
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    config = dj_database_url.parse(database_url)
    with _admin_connection(config) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(config["NAME"])))


def _admin_connection(config: dict[str, Any]) -> Any:
    import psycopg

    return psycopg.connect(
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )


def setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def csv_file(size: int) -> Path:
    """The generated bank export with `size` rows; written once, reused by later invocations."""
    from transactions.demo_data import generate_transactions, write_csv

    path = BENCH_DIR / f"{GENERATOR_COMPANY}-{size}.csv"
    if path.exists():
        return path
    print(f"generating {path.relative_to(REPO_ROOT)} ...", flush=True)
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        write_csv(generate_transactions(company_slug=GENERATOR_COMPANY, count=size, seed=size), handle)
    partial.replace(path)
    return path


def bench_user() -> Any:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user, _ = User.objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True, "email": "bench@example.com"}
    )
    return user


def fresh_company(slug: str) -> tuple[Any, Any]:
    """A new company with its bank account 1000, so every imported row is new."""
    from transactions.models import Account, Company

    company = Company.objects.create(name=slug, slug=slug)
    account = Account.objects.create(company=company, code="1000", name="Checking", type="asset", is_bank=True)
    return company, account


# --- the worker ---------------------------------------------------------------------------------------------


def purge_queues() -> None:
    from ledger_site.celery import app

    with app.connection_for_write() as connection:
        for queue in QUEUES:
            connection.default_channel.queue_purge(queue)


def start_worker(log_path: Path) -> subprocess.Popen[bytes]:
    """A real Celery worker in its own process group; returns once it logged that it is ready."""
    command = [
        sys.executable, "-m", "celery", "-A", "ledger_site", "worker", "-Q", ",".join(QUEUES),
        "--pool", "solo", "--without-gossip", "--without-mingle", "-n", "bench@%h",
        "--loglevel", "INFO",  # the "ready." line is logged at INFO
    ]
    env = {**os.environ, "LOG_LEVEL": "INFO"}
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + WORKER_READY_TIMEOUT
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}; see {log_path}")
        if " ready." in log_path.read_text(errors="replace"):
            return worker
        time.sleep(0.1)
    stop_worker(worker)
    raise RuntimeError(f"the worker was not ready after {WORKER_READY_TIMEOUT:.0f} s; see {log_path}")


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM the worker's process group (warm shutdown), SIGKILL if it does not exit in 30 s."""
    if worker.poll() is not None:
        return
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def memory_mb(pid: int, field: str) -> float:
    """VmHWM (peak resident set) or VmRSS of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not found for pid {pid}")


def pipeline_hash() -> str:
    digest = hashlib.sha256()
    for source in PIPELINE_SOURCES:
        root = REPO_ROOT / source
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            if "tests" in path.parts:
                continue
            digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


# --- one measured run ---------------------------------------------------------------------------------------


def submit(client: Any, *, slug: str, path: Path) -> str:
    """POST the file to the real API; returns the job id."""
    with path.open("rb") as handle:
        response = client.post("/api/imports/", {"company": slug, "bank_account": "1000", "file": handle})
    if response.status_code != 202:
        raise RuntimeError(f"POST /api/imports/ answered {response.status_code}: {response.content[:500]!r}")
    return response.json()["job"]["job_id"]


def wait_for_job(job_id: str, worker: subprocess.Popen[bytes], *, timeout: float) -> dict[str, Any]:
    """Poll the Job row until it is final; returns its status, timestamps, counts, result and error.

    After `timeout` seconds the last row read is returned with status "timeout".
    """
    from jobs.models import FINAL_STATUSES, Job

    fields = ("status", "started_at", "finished_at", "processed_count", "result", "error")
    start = last_report = time.monotonic()
    reported_rows = 0
    while True:
        job = Job.objects.filter(id=job_id).values(*fields).get()
        if job["status"] in FINAL_STATUSES:
            return job
        if worker.poll() is not None:
            raise RuntimeError(f"the worker died (exit {worker.returncode}) while job {job_id} was {job['status']}")
        now = time.monotonic()
        if now - start > timeout:
            return {**job, "status": "timeout"}
        if now - last_report >= PROGRESS_SECONDS:
            rate = (job["processed_count"] - reported_rows) / (now - last_report)
            print(
                f"    ... {job['processed_count']:,} rows after {now - start:.0f} s "
                f"(last {now - last_report:.0f} s: {rate:,.0f} rows/s)",
                flush=True,
            )
            last_report, reported_rows = now, job["processed_count"]
        time.sleep(POLL_SECONDS)


def measure_run(client: Any, *, size: int, run: int, path: Path, timeout: float) -> RunResult:
    slug = f"bench-{size}-{run}-{int(time.time())}"
    fresh_company(slug)
    purge_queues()
    code = pipeline_hash()
    worker = start_worker(RUN_VAR_DIR / f"worker-{size}-{run}.log")
    try:
        ready_mb = memory_mb(worker.pid, "VmRSS")
        t0 = time.time()
        job_id = submit(client, slug=slug, path=path)
        t_accepted = time.time()
        job = wait_for_job(job_id, worker, timeout=timeout)
        t1 = time.time()
        peak_mb = memory_mb(worker.pid, "VmHWM")
    finally:
        stop_worker(worker)
    result = job["result"] or {}
    complete = job["status"] != "timeout"
    if job["status"] != "finished" or result.get("imported") != size:
        print(f"  !! job {job_id}: {job['status']} {job['error']!r} result={_short(result)}", flush=True)
    started = job["started_at"].timestamp() if job["started_at"] else t1
    finished = job["finished_at"].timestamp() if complete else t1
    return RunResult(
        size=size, run=run, rows=int(result.get("imported") or 0) if complete else job["processed_count"],
        status=job["status"], upload_s=t_accepted - t0, queue_s=started - t_accepted, ingest_s=finished - started,
        total_s=t1 - t0, ready_mb=ready_mb, peak_mb=peak_mb, code=code, complete=complete,
    )


def _short(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if key != "errors"}


# --- the naive baseline -------------------------------------------------------------------------------------


def measure_naive(path: Path, *, limit: int, budget_s: float) -> NaiveResult:
    """Parse with the project's parser, Transaction(...).save() per row, all in one transaction.atomic()."""
    from django.db import transaction

    from transactions.models import Transaction
    from transactions.parsing import RowError, detect_layout, iter_rows
    from transactions.services.ingest import transaction_fingerprint

    company, account = fresh_company(f"bench-naive-{int(time.time())}")
    occurrences: dict[Any, int] = {}
    saved = 0
    truncated = False
    with path.open("rb") as handle:
        layout = detect_layout(handle, filename=path.name)
        start = time.perf_counter()
        with transaction.atomic():
            for row in islice(iter_rows(handle, layout), limit):
                if isinstance(row, RowError):
                    continue
                fingerprint = transaction_fingerprint(bank_account_id=account.id, row=row)
                occurrences[fingerprint] = occurrences.get(fingerprint, 0) + 1
                Transaction(
                    company=company, bank_account=account, import_batch=None, line=row.line, date=row.date,
                    description=row.description, counterparty=row.counterparty, amount=row.amount,
                    currency=row.currency or "", fingerprint=fingerprint, occurrence=occurrences[fingerprint],
                ).save()
                saved += 1
                if saved == NAIVE_PROBE_ROWS < limit:
                    projected = (time.perf_counter() - start) * limit / saved
                    if projected > budget_s:
                        truncated = True
                        break
        seconds = time.perf_counter() - start  # includes the commit
    return NaiveResult(rows=saved, seconds=seconds, truncated=truncated)


# --- the report ---------------------------------------------------------------------------------------------


def machine_lines() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), current_setting('autovacuum'), current_setting('shared_buffers')")
        postgres, autovacuum, shared_buffers = cursor.fetchone()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "?",
    )
    memory_gb = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    from django.conf import settings

    return [
        f"date:      {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"machine:   nproc={len(os.sched_getaffinity(0))}, {cpu}, {memory_gb:.1f} GB RAM, {platform.platform()}",
        f"python:    {platform.python_version()} ({sys.executable})",
        f"postgres:  {postgres}; autovacuum={autovacuum}, shared_buffers={shared_buffers}",
        f"load avg:  {' '.join(Path('/proc/loadavg').read_text().split()[:3])} (1/5/15 min, at the end)",
        f"ingest:    LEDGER_INGEST_CHUNK_ROWS={settings.LEDGER_INGEST_CHUNK_ROWS}, worker --pool solo, broker Redis",
    ]


def run_line(result: RunResult) -> str:
    return (
        f"  size {result.size:>9,} run {result.run}: {result.status}, {result.rows:,} rows, "
        f"upload {result.upload_s:6.2f} s, queue wait {result.queue_s:5.2f} s, ingest {result.ingest_s:7.2f} s, "
        f"total {result.total_s:7.2f} s -> {result.total_rate:8,.0f} rows/s (ingest {result.ingest_rate:8,.0f}); "
        f"worker {result.ready_mb:.0f} MB ready, {result.peak_mb:.0f} MB peak; code {result.code}"
    )


def results_table(results: list[RunResult], naive: NaiveResult) -> list[str]:
    header = (
        "| size | runs | median rows/s (upload→finished) | min | max | median ingest-only rows/s "
        "| peak worker MB (max over runs) |"
    )
    lines = [header, "|" + "---|" * 7]
    ingest_medians: dict[int, float] = {}
    for size in sorted({result.size for result in results}):
        runs = [result for result in results if result.size == size]
        totals = [result.total_rate for result in runs]
        ingest_median = statistics.median(result.ingest_rate for result in runs)
        label = f"{size:,}"
        if all(result.complete for result in runs):
            ingest_medians[size] = ingest_median
        else:
            stuck = next(result for result in runs if not result.complete)
            label += f" (TIMED OUT: {stuck.rows:,} rows after {stuck.total_s:,.0f} s; rates are partial)"
        lines.append(
            f"| {label} | {len(runs)} | {statistics.median(totals):,.0f} | {min(totals):,.0f} | {max(totals):,.0f} "
            f"| {ingest_median:,.0f} | {max(result.peak_mb for result in runs):,.0f} |"
        )
    note = ""
    if naive.truncated:
        note = f" (first {naive.rows:,} rows only: the full run would exceed the time budget)"
    lines.append("")
    codes = sorted({result.code for result in results})
    if len(codes) > 1:
        lines.append(f"WARNING: the ingest code changed during the benchmark (versions {', '.join(codes)}).")
    lines.append(
        f"naive per-row save(): {naive.rate:,.0f} rows/s ({naive.rows:,} rows of the {BASELINE_SIZE:,}-row file "
        f"in {naive.seconds:.1f} s, one transaction.atomic()){note}"
    )
    if not ingest_medians:
        lines.append("ratio: no size completed, so no ratio")
        return lines
    reference = BASELINE_SIZE if BASELINE_SIZE in ingest_medians else min(ingest_medians)
    label = f"{reference:,}" + ("" if reference == BASELINE_SIZE else f" (no {BASELINE_SIZE:,} run; smallest size)")
    lines.append(
        f"ratio: median ingest-only rows/s at {label} ÷ naive rows/s = "
        f"{ingest_medians[reference]:,.0f} / {naive.rate:,.0f} = {ingest_medians[reference] / naive.rate:.1f}x"
    )
    return lines


# --- main ---------------------------------------------------------------------------------------------------


def measure_sizes(
    client: Any, *, files: dict[int, Path], sizes: list[int], args: argparse.Namespace
) -> list[RunResult]:
    """`args.runs` runs per size, smallest first; a timed-out run ends the measurements (larger sizes would too)."""
    results: list[RunResult] = []
    for size in sizes:
        for run in range(1, args.runs + 1):
            results.append(measure_run(client, size=size, run=run, path=files[size], timeout=args.job_timeout))
            print(run_line(results[-1]), flush=True)
            if not results[-1].complete:
                skipped = ", ".join(f"{other:,}" for other in sizes if other > size)
                print(f"  !! timed out: skipping the remaining runs{' and sizes ' + skipped if skipped else ''}")
                return results
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_environment()
    shutil.rmtree(RUN_VAR_DIR, ignore_errors=True)
    RUN_VAR_DIR.mkdir(parents=True)
    database_url = os.environ["DATABASE_URL"]
    recreate_database(database_url)
    try:
        setup_django()
        from django.test import Client

        files = {size: csv_file(size) for size in sorted(set(args.sizes) | {BASELINE_SIZE})}
        client = Client()
        client.force_login(bench_user())
        # A running server has its URLconf and views imported; without this the first upload pays ~2 s for it.
        client.get("/")
        results = measure_sizes(client, files=files, sizes=sorted(set(args.sizes)), args=args)
        print(f"naive baseline: saving up to {args.naive_rows:,} rows one by one ...", flush=True)
        naive = measure_naive(files[BASELINE_SIZE], limit=args.naive_rows, budget_s=args.naive_budget)
        print("\n".join(["", *machine_lines(), "", *results_table(results, naive)]), flush=True)
    finally:
        if not args.keep_db:
            drop_database(database_url)
        shutil.rmtree(RUN_VAR_DIR / "uploads", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
