"""End-to-end benchmark: upload -> every transaction classified -> the auto-approved ones posted, real workers.

What it measures, for each worker count in --workers (default 1 and 2), on a fresh PostgreSQL database each time:

  Set-up (not timed): one demo company (hamilton-coffee) with its chart, `--history` labeled transactions
  imported through the import pipeline (in-process), rules promoted from that history and approved
  (`rules_promote` + `rule_approve`), plus vendor rules ("counterparty equals X, money in/out -> the vendor's
  majority account", created with `rule_create`; the demo data has only ~100 consistent vendors, so the rest up
  to `--rules` active rules name vendors absent from the file: matched against, never firing), a classifier
  trained and activated (`model_train`), `Company.post_automatic_decisions = True`, and ANALYZE of
  decisions_decision (what autovacuum would have done; this server runs with autovacuum off; `--no-analyze`
  skips it). Then N Celery workers are started (`--pool solo`: the worker's main process does the work, so its
  VmHWM is the job's peak memory; no pool children to add up) on the queues high, default and low, and the Redis
  bench db is flushed.

  Timed: POST /api/imports/ of a `--rows`-row unlabeled CSV (transactions.demo_data, kept in var/bench/) with
  django.test.Client as a superuser, then the Job rows are polled (every 0.1 s) until the ingest job, every
  classify job of the import (the segments queued while the file is read, every LEDGER_CLASSIFY_SEGMENT_ROWS
  rows, and the last one, queued at the end) and every post_propose job they queued are final. Then the
  counts are checked:
  every imported transaction has exactly one current decision, and every auto-approved decision's transaction
  has a posted journal entry (and nothing else was booked).

  Reported per worker count: ingest, classify and post_propose rows/s (per kind, the first job's started_at ->
  the last one's finished_at; post_propose rows = entries booked), the waits between the stages (negative: they
  overlapped), end to end rows/s (just before the POST -> the last job's finished_at), and the peak RSS
  (VmHWM) of every worker process.

`--profile` instead runs the three stages in-process under cProfile (same set-up, same file; no workers) and
prints the functions with the most own time per stage.

`--cpu` instead runs the three stages in-process (no workers, no profiler) and reports, per stage and per
imported transaction, the CPU of this process and of the PostgreSQL server (every `postgres` process on this
machine, from /proc), with the rate the database alone would allow on all cores if Python took no time:
the ceiling of any worker count. `--without-foreign-keys` drops the foreign keys of the four written tables
first, to show what the per-row key checks cost (the product keeps them).

    .venv/bin/python -m benchmarks.e2e                          # --rows 1000000 --workers 1 2
    .venv/bin/python -m benchmarks.e2e --rows 100000 --workers 1
    .venv/bin/python -m benchmarks.e2e --rows 100000 --profile
    .venv/bin/python -m benchmarks.e2e --rows 100000 --cpu [--without-foreign-keys]

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/autoledger_e2e_bench; its name must contain "bench":
it is dropped and re-created for every worker count, and dropped at the end unless --keep-db) and REDIS_URL
(default redis://127.0.0.1:6379/14; that Redis database is flushed, so it must not be db 0) are read from the
environment.
"""
from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import os
import pstats
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from benchmarks.ingest import (
    BENCH_DIR, QUEUES, REPO_ROOT, drop_database, machine_lines, memory_mb, pipeline_hash, purge_queues,
    recreate_database,
)

RUN_VAR_DIR = BENCH_DIR / "e2e-run"  # LEDGER_VAR_DIR of this benchmark: uploads, models, worker logs
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/autoledger_e2e_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
COMPANY = "hamilton-coffee"
HISTORY_START = datetime.date(2025, 1, 1)
FILE_START = datetime.date(2029, 1, 1)  # after any history, so no uploaded row is a duplicate of one
POLL_SECONDS = 0.1
PROGRESS_SECONDS = 30.0
WORKER_READY_TIMEOUT = 120.0
VENDOR_RULE_MIN_SUPPORT = 2
VENDOR_RULE_MIN_PRECISION = 0.9


@dataclass
class Stage:
    kind: str
    job_id: str
    status: str
    started: float  # epoch seconds
    finished: float
    rows: int
    result: dict[str, Any]

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class RunResult:
    workers: int
    rows: int
    upload_s: float
    stages: list[Stage]
    end_to_end_s: float
    peak_mb: list[float]
    ready_mb: list[float]
    checks: dict[str, Any] = field(default_factory=dict)
    by_method: dict[str, int] = field(default_factory=dict)
    rules: int = 0
    code: str = ""

    @property
    def end_to_end_rate(self) -> float:
        return self.rows / self.end_to_end_s


# --- set-up -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the uploaded file (default 10^6)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker process counts to run")
    parser.add_argument("--history", type=int, default=20_000, help="labeled history rows (train + rules)")
    parser.add_argument("--rules", type=int, default=300, help="active rules wanted (promoted + vendor rules)")
    parser.add_argument("--job-timeout", type=float, default=3600.0, help="seconds per job before giving up")
    parser.add_argument("--profile", action="store_true",
                        help="run the three stages in-process under cProfile instead of timing workers")
    parser.add_argument("--cpu", action="store_true",
                        help="run the three stages in-process and report the CPU per row of Python and of the "
                             "database server, instead of timing workers")
    parser.add_argument("--without-foreign-keys", action="store_true",
                        help="with --profile or --cpu: drop the foreign keys of the written tables first "
                             "(what the per-row key checks cost; the product keeps them)")
    parser.add_argument("--profile-lines", type=int, default=25, help="functions printed per stage with --profile")
    parser.add_argument("--no-analyze", action="store_true",
                        help="leave decisions_decision unanalyzed after the set-up (this server has autovacuum off)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database at the end")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.history < 100 or any(count < 1 for count in args.workers):
        parser.error("--rows and --workers must be positive, --history at least 100")
    return args


def configure_environment() -> None:
    """Everything settings.py reads at import time; must run before Django is imported."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "ledger_site.settings",
        "SECRET_KEY": "bench",
        "DEBUG": "0",  # DEBUG would keep every SQL query in memory
        "ALLOWED_HOSTS": "testserver",
        "MAX_UPLOAD_MB": "1000",
        "LEDGER_VAR_DIR": str(RUN_VAR_DIR),
        "LEDGER_TASKS_EAGER": "0",
        "LOG_LEVEL": "WARNING",
    })


def flush_bench_redis() -> None:
    """Empty the bench Redis database: queues, upload counters, caches of an earlier run's company ids."""
    import redis

    url = os.environ["REDIS_URL"]
    client = redis.Redis.from_url(url)
    if client.connection_pool.connection_kwargs.get("db", 0) == 0:
        raise SystemExit(f"refusing to flush Redis db 0 ({url}); use a database of its own, e.g. /14")
    client.flushdb()


def csv_file(rows: int) -> Path:
    """The unlabeled upload, written once and reused (dated after the history, so no row is a duplicate)."""
    from transactions.demo_data import generate_transactions, write_csv

    path = BENCH_DIR / f"e2e-{COMPANY}-{rows}.csv"
    if path.exists():
        return path
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    print(f"generating {path.relative_to(REPO_ROOT)} ...", flush=True)
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        write_csv(generate_transactions(company_slug=COMPANY, count=rows, seed=rows, start=FILE_START), handle)
    partial.replace(path)
    return path


def setup_company(*, history: int, rules_wanted: int, analyze: bool = True) -> tuple[Any, dict[str, Any]]:
    """Fresh database content: the company, its labeled history, active rules, an active model."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from mlmodels.services import model_train
    from rules.models import Rule, RuleStatus
    from rules.services.lifecycle import rule_approve
    from rules.services.promotion import rules_promote
    from transactions.demo_data import COMPANIES, generate_transactions, write_csv
    from transactions.models import Company
    from transactions.services.companies import company_ensure_with_chart
    from transactions.services.demo import demo_history_import

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    spec = next(spec for spec in COMPANIES if spec.slug == COMPANY)
    company = company_ensure_with_chart(spec=spec)
    text = io.StringIO()
    write_csv(generate_transactions(company_slug=COMPANY, count=history, seed=42, start=HISTORY_START), text,
              labeled=True)
    imported = demo_history_import(company=company, content=text.getvalue().encode())
    promotion = rules_promote(company=company)
    rule_approve(rules=Rule.objects.filter(company=company, status=RuleStatus.PROPOSED), user=None)
    vendor_rules, padding_rules = create_vendor_rules(company=company, wanted=rules_wanted)
    version = model_train(company=company)
    version.refresh_from_db()
    if not version.is_active:
        raise SystemExit(f"the trained model was not activated: {version.activation_note}")
    Company.objects.filter(pk=company.pk).update(post_automatic_decisions=True)
    company.refresh_from_db()
    get_user_model().objects.create_superuser(username="bench", email="bench@example.com", password=None)
    # This server runs with autovacuum off; analyze the decisions as autovacuum would have. (The chunk queries
    # of classify and post_propose no longer depend on it: they walk the indexes txn_company_uncategorized and
    # decision_company_decided, whose order is the chunk order; benchmarks/RESULTS.md, 2026-11-28.) Not
    # transactions_transaction: with statistics from the history, the ingest's duplicate probe stops using its
    # index and the 10^6-row import crawls at ≈ 130 rows/s (measured; see benchmarks/RESULTS.md).
    if analyze:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE decisions_decision")
    active_rules = Rule.objects.filter(company=company, status=RuleStatus.ACTIVE).count()
    summary = {
        "history": imported, "promoted": promotion["proposed"], "vendor_rules": vendor_rules,
        "padding_rules": padding_rules,
        "active_rules": active_rules, "model": f"v{version.number} accuracy {version.metrics.get('accuracy')}",
        "setup_s": time.perf_counter() - started,
    }
    print(f"  set-up: {summary['history']}; rules: {summary['promoted']} promoted + {vendor_rules} vendor rules + "
          f"{padding_rules} rules for vendors absent from the file = "
          f"{active_rules} active; model {summary['model']}; {summary['setup_s']:.0f} s", flush=True)
    return company, summary


def create_vendor_rules(*, company: Any, wanted: int) -> tuple[int, int]:
    """Vendor rules from the labeled history until `wanted` rules are active: the most frequent vendor keys
    (counterparty text, direction) whose history agrees on one account, through the rules service."""
    from rules.engine import counterparty_text
    from rules.exceptions import RuleInvalid
    from rules.models import Rule, RuleStatus
    from rules.services.lifecycle import rule_create
    from transactions.models import Transaction

    active = Rule.objects.filter(company=company, status=RuleStatus.ACTIVE).count()
    groups: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for description, counterparty, amount, code in (Transaction.objects.filter(company=company)
                                                     .exclude(account__isnull=True)
                                                     .values_list("description", "counterparty", "amount",
                                                                  "account__code").iterator()):
        vendor = counterparty_text(counterparty, description)
        if vendor:
            groups[(vendor, "in" if amount > 0 else "out")][code] += 1
    created = 0
    for (vendor, direction), accounts in sorted(groups.items(), key=lambda item: -sum(item[1].values())):
        if active + created >= wanted:
            break
        support = sum(accounts.values())
        code, count = accounts.most_common(1)[0]
        if support < VENDOR_RULE_MIN_SUPPORT or count / support < VENDOR_RULE_MIN_PRECISION:
            continue
        raw = {
            "name": f"{vendor} ({'money in' if direction == 'in' else 'money out'})"[:200],
            "conditions": [{"field": "counterparty", "op": "equals", "value": vendor},
                           {"field": "direction", "op": direction, "value": ""}],
            "account_code": code,
        }
        try:
            rule_create(company=company, user=None, raw=raw)
        except RuleInvalid:
            continue  # a promoted rule has this name already
        created += 1
    # The demo history has fewer consistent vendors than a firm's rule book: the rest are rules for vendors that
    # do not occur in the file. They cost the matcher what any `equals` rule costs (one dictionary entry) but
    # never fire, so the rule hits measured are those of the real vendor rules.
    accounts = [code for code, _ in Counter(code for counter in groups.values() for code in counter).most_common()]
    padding = 0
    while active + created + padding < wanted and accounts:
        raw = {
            "name": f"BENCH VENDOR {padding + 1} (money out)",
            "conditions": [{"field": "counterparty", "op": "equals", "value": f"BENCH VENDOR {padding + 1}"},
                           {"field": "direction", "op": "out", "value": ""}],
            "account_code": accounts[padding % len(accounts)],
        }
        rule_create(company=company, user=None, raw=raw)
        padding += 1
    return created, padding


# --- workers ------------------------------------------------------------------------------------------------


def autogroup_nice(pid: int, nice: int) -> None:
    """Set the nice value of the session autogroup `pid` leads (no-op where autogroups are off or absent)."""
    enabled = Path("/proc/sys/kernel/sched_autogroup_enabled")
    if enabled.is_file() and enabled.read_text().strip() == "1":
        try:
            Path(f"/proc/{pid}/autogroup").write_text(str(nice))
        except OSError as error:
            print(f"warning: the worker's session keeps nice 0 ({error}): it competes with the web as an equal",
                  file=sys.stderr, flush=True)


def start_workers(
    count: int, *, tag: str, log_dir: Path = RUN_VAR_DIR, nice: int = 0
) -> list[subprocess.Popen[bytes]]:
    """`count` Celery workers (solo pool, each its own process group); returns once all logged "ready".

    `nice`: the workers' CPU priority, as deploy/systemd/autoledger-worker@.service sets it (Nice=10, CPUWeight=10).
    Each worker is a session of its own, and with the kernel's session autogroups on (a desktop default) a process's
    nice only ranks it within its session: so the session's group gets the same nice, as the unit's CPUWeight= does
    for its cgroup under systemd."""
    workers, logs = [], []
    env = {**os.environ, "LOG_LEVEL": "INFO"}
    for index in range(1, count + 1):
        log_path = log_dir / f"worker-{tag}-{index}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "ledger_site", "worker", "-Q", ",".join(QUEUES),
            "--pool", "solo", "--without-gossip", "--without-mingle", "-n", f"e2e{index}@%h", "--loglevel", "INFO",
        ]
        if nice:
            command = ["nice", "-n", str(nice), *command]
        with log_path.open("wb") as log:
            workers.append(subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True))
        if nice:
            autogroup_nice(workers[-1].pid, nice)
        logs.append(log_path)
    deadline = time.monotonic() + WORKER_READY_TIMEOUT
    pending = list(zip(workers, logs))
    while pending and time.monotonic() < deadline:
        for worker, log_path in list(pending):
            if worker.poll() is not None:
                stop_workers(workers)
                raise RuntimeError(f"a worker exited with {worker.returncode}; see {log_path}")
            if " ready." in log_path.read_text(errors="replace"):
                pending.remove((worker, log_path))
        time.sleep(0.1)
    if pending:
        stop_workers(workers)
        raise RuntimeError(f"workers not ready after {WORKER_READY_TIMEOUT:.0f} s; see {log_dir}")
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each worker's process group (warm shutdown), SIGKILL after 30 s."""
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


# --- one measured run ---------------------------------------------------------------------------------------


def wait_for_job(job_id: str, workers: list[subprocess.Popen[bytes]], *, timeout: float) -> dict[str, Any]:
    """Poll the Job row until it is final; raises on timeout or a dead worker."""
    from jobs.models import FINAL_STATUSES, Job

    start = last_report = time.monotonic()
    while True:
        job = Job.objects.filter(id=job_id).values(
            "kind", "status", "started_at", "finished_at", "processed_count", "total_count", "result", "error").get()
        if job["status"] in FINAL_STATUSES:
            return job
        if any(worker.poll() is not None for worker in workers):
            raise RuntimeError(f"a worker died while job {job_id} ({job['kind']}) was {job['status']}")
        now = time.monotonic()
        if now - start > timeout:
            raise RuntimeError(f"job {job_id} ({job['kind']}) still {job['status']} after {timeout:.0f} s")
        if now - last_report >= PROGRESS_SECONDS:
            print(f"    ... {job['kind']} {job['status']}: {job['processed_count']:,}/{job['total_count'] or '?'} "
                  f"after {now - start:.0f} s", flush=True)
            last_report = now
        time.sleep(POLL_SECONDS)


def stage_of(job: dict[str, Any], job_id: str) -> Stage:
    if job["status"] not in ("finished", "finished_with_errors"):
        raise RuntimeError(f"{job['kind']} job {job_id} ended {job['status']}: {job['error']}")
    result = job["result"] or {}
    return Stage(kind=job["kind"], job_id=job_id, status=job["status"], started=job["started_at"].timestamp(),
                 finished=job["finished_at"].timestamp(), rows=stage_rows(job["kind"], result), result=result)


def stage_rows(kind: str, result: dict[str, Any]) -> int:
    """A job's own rows: transactions imported, transactions decided, or entries booked."""
    if kind == "ingest":
        return int(result.get("imported", 0))
    if kind == "classify":
        return int(result.get("transactions", 0))
    return int(result.get("posted", 0)) + int(result.get("proposed", 0))


def import_job_ids(import_id: str, kind: str) -> list[str]:
    """The import's jobs of one kind: the classify segments queued while it was read and the last one, and the
    post_propose job each of them queued."""
    from jobs.models import Job

    return [str(job_id) for job_id in Job.objects.filter(kind=kind, params__import_batch=import_id)
            .order_by("created_at").values_list("id", flat=True)]


def merged_stage(kind: str, stages: list[Stage]) -> Stage:
    """One stage from several jobs of a kind: the first start to the last finish, rows and counts added up."""
    result: dict[str, Any] = {"jobs": len(stages), "by_method": Counter()}
    for stage in stages:
        for key in ("posted", "proposed", "transactions"):
            result[key] = result.get(key, 0) + int(stage.result.get(key, 0))
        result["by_method"].update(stage.result.get("by_method", {}))
    result["by_method"] = dict(result["by_method"])
    return Stage(kind=kind, job_id=",".join(stage.job_id for stage in stages), status="finished",
                 started=min(stage.started for stage in stages), finished=max(stage.finished for stage in stages),
                 rows=sum(stage.rows for stage in stages), result=result)


def submit(client: Any, path: Path) -> str:
    with path.open("rb") as handle:
        response = client.post("/api/imports/", {"company": COMPANY, "bank_account": "1000", "file": handle})
    if response.status_code != 202:
        raise RuntimeError(f"POST /api/imports/ answered {response.status_code}: {response.content[:500]!r}")
    return response.json()["job"]["job_id"]


def check_counts(*, company: Any, import_id: str) -> dict[str, Any]:
    """Every imported transaction has one current decision; every auto-approved one has a posted entry."""
    from decisions.models import Decision, DecisionStatus
    from ledger.models import EntryStatus, JournalEntry
    from transactions.models import Transaction, TransactionStatus

    batch_txns = Transaction.objects.filter(import_batch_id=import_id)
    current = Decision.objects.filter(transaction__import_batch_id=import_id, is_current=True)
    auto = current.filter(status=DecisionStatus.AUTO_APPROVED)
    entries = JournalEntry.objects.filter(source_transaction__import_batch_id=import_id)
    checks = {
        "transactions": batch_txns.count(),
        "current_decisions": current.count(),
        "transactions_with_current_decision": batch_txns.filter(decisions__is_current=True).distinct().count(),
        "auto_approved": auto.count(),
        "auto_approved_posted": auto.filter(transaction__journal_entries__status=EntryStatus.POSTED).count(),
        "entries": entries.count(),
        "posted_entries": entries.filter(status=EntryStatus.POSTED).count(),
        "transactions_posted": batch_txns.filter(status=TransactionStatus.POSTED).count(),
    }
    checks["ok"] = (checks["transactions"] == checks["current_decisions"] == checks["transactions_with_current_decision"]
                    and checks["auto_approved"] == checks["auto_approved_posted"] == checks["posted_entries"]
                    == checks["entries"] == checks["transactions_posted"])
    return checks


def measure_run(*, workers_count: int, path: Path, rows: int, args: argparse.Namespace) -> RunResult:
    from django.test import Client

    from rules.models import Rule, RuleStatus

    company, _ = setup_company(history=args.history, rules_wanted=args.rules, analyze=not args.no_analyze)
    purge_queues()
    code = pipeline_hash()
    workers = start_workers(workers_count, tag=f"{rows}-w{workers_count}")
    try:
        ready_mb = [memory_mb(worker.pid, "VmRSS") for worker in workers]
        client = Client()
        from django.contrib.auth import get_user_model

        client.force_login(get_user_model().objects.get(username="bench"))
        t0 = time.time()
        ingest_id = submit(client, path)
        upload_s = time.time() - t0
        ingest = stage_of(wait_for_job(ingest_id, workers, timeout=args.job_timeout), ingest_id)
        classify_id = ingest.result["classify_job_id"]
        last_classify = stage_of(wait_for_job(classify_id, workers, timeout=args.job_timeout), classify_id)
        post_id = last_classify.result["post_propose_job_id"]
        wait_for_job(post_id, workers, timeout=args.job_timeout)
        # The segments classified while the file was read, and their post_propose jobs, may still be running.
        classify, post = (merged_stage(kind, [
            stage_of(wait_for_job(job_id, workers, timeout=args.job_timeout), job_id)
            for job_id in import_job_ids(ingest.result["import_id"], kind)]) for kind in ("classify", "post_propose"))
        peak_mb = [memory_mb(worker.pid, "VmHWM") for worker in workers]
    finally:
        stop_workers(workers)
    checks = check_counts(company=company, import_id=ingest.result["import_id"])
    result = RunResult(
        workers=workers_count, rows=ingest.rows, upload_s=upload_s, stages=[ingest, classify, post],
        end_to_end_s=max(stage.finished for stage in (ingest, classify, post)) - t0, peak_mb=peak_mb,
        ready_mb=ready_mb, checks=checks,
        by_method=classify.result.get("by_method", {}),
        rules=Rule.objects.filter(company=company, status=RuleStatus.ACTIVE).count(), code=code,
    )
    if result.rows != rows:
        print(f"  !! imported {result.rows:,} of {rows:,} rows: {ingest.result}", flush=True)
    return result


def run_line(result: RunResult) -> str:
    ingest, classify, post = result.stages
    return (
        f"  {result.workers} worker(s): {result.rows:,} rows; upload {result.upload_s:.1f} s; "
        f"ingest {ingest.seconds:.1f} s; wait {classify.started - ingest.finished:.1f} s; "
        f"classify {classify.seconds:.1f} s in {classify.result['jobs']} job(s) ({_methods(result.by_method)}); "
        f"wait {post.started - classify.finished:.1f} s; post_propose {post.seconds:.1f} s in {post.result['jobs']} "
        f"job(s) ({post.result.get('posted')} posted, {post.result.get('proposed')} "
        f"proposed); end to end {result.end_to_end_s:.1f} s; workers {', '.join(f'{mb:.0f}' for mb in result.ready_mb)} "
        f"MB ready, {', '.join(f'{mb:.0f}' for mb in result.peak_mb)} MB peak; checks "
        f"{'OK' if result.checks['ok'] else 'FAILED'} {result.checks}; code {result.code}"
    )


def _methods(by_method: dict[str, int]) -> str:
    return ", ".join(f"{method} {count:,}" for method, count in by_method.items())


def results_table(results: list[RunResult]) -> list[str]:
    lines = [
        "| workers | rows | ingest rows/s | classify rows/s | post_propose rows/s (posted) | waits between jobs s "
        "| end to end s | end to end rows/s | peak RSS per worker MB | counts add up |",
        "|" + "---|" * 10,
    ]
    for result in results:
        ingest, classify, post = result.stages
        waits = f"{classify.started - ingest.finished:.1f} / {post.started - classify.finished:.1f}"
        lines.append(
            f"| {result.workers} | {result.rows:,} | {ingest.rate:,.0f} | {classify.rate:,.0f} "
            f"| {post.rate:,.0f} ({post.result.get('posted', 0):,}) | {waits} | {result.end_to_end_s:,.1f} "
            f"| {result.end_to_end_rate:,.0f} | {' + '.join(f'{mb:.0f}' for mb in result.peak_mb)} "
            f"| {'yes' if result.checks['ok'] else 'NO'} |"
        )
    return lines


# --- profile ------------------------------------------------------------------------------------------------


def run_stages_in_process(*, path: Path, args: argparse.Namespace,
                          measure: Callable[[str, Callable[[], None]], Any]) -> list[tuple[str, Any, Any]]:
    """Set up, then run the import's three jobs one after the other in this process, each through
    `measure(kind, run)`. Returns (kind, finished Job, what `measure` returned) per stage."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.LEDGER_CLASSIFY_SEGMENT_ROWS = 0  # one chain, ingest -> classify -> post_propose, one job each

    from jobs.models import Job
    from jobs.services import job_run
    from transactions.models import Account
    from transactions.services.imports import import_batch_submit

    company, _ = setup_company(history=args.history, rules_wanted=args.rules, analyze=not args.no_analyze)
    if args.without_foreign_keys:
        foreign_keys_drop()
    user = get_user_model().objects.get(username="bench")
    bank_account = Account.objects.get(company=company, is_bank=True, code="1000")
    with path.open("rb") as handle:
        batch = import_batch_submit(company=company, bank_account=bank_account,
                                    upload=SimpleUploadedFile(path.name, handle.read()), filename=path.name,
                                    user=user, labeled=False, enqueue=False)
    stages: list[tuple[str, Any, Any]] = []
    job_id = str(batch.job_id)
    for kind, next_key in (("ingest", "classify_job_id"), ("classify", "post_propose_job_id"), ("post_propose", "")):
        measured = measure(kind, lambda: job_run(job_id=job_id, worker="in-process"))
        job = Job.objects.get(id=job_id)
        if job.status not in ("finished", "finished_with_errors"):
            raise RuntimeError(f"{kind} job ended {job.status}: {job.error}")
        stages.append((kind, job, measured))
        if next_key:
            job_id = (job.result or {})[next_key]
    return stages


def profile_stages(*, path: Path, args: argparse.Namespace) -> list[str]:
    """The three stages in-process, each under cProfile; returns the report lines."""
    from django.db import connection

    def profiled(kind: str, run: Callable[[], None]) -> tuple[float, Counter[str], Counter[str], pstats.Stats]:
        profiler = cProfile.Profile()
        sql_seconds: Counter[str] = Counter()
        sql_calls: Counter[str] = Counter()

        def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                key = " ".join(sql.split())[:160]
                sql_seconds[key] += time.perf_counter() - start
                sql_calls[key] += 1

        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            profiler.enable()
            run()
            profiler.disable()
        return time.perf_counter() - started, sql_seconds, sql_calls, pstats.Stats(profiler)

    lines: list[str] = []
    for kind, job, (seconds, sql_seconds, sql_calls, stats) in run_stages_in_process(
            path=path, args=args, measure=profiled):
        report = io.StringIO()
        stats.stream = report  # type: ignore[attr-defined]
        total = sum(entry[2] for entry in stats.stats.values())  # type: ignore[attr-defined]
        stats.sort_stats("tottime").print_stats(args.profile_lines)
        lines += ["", f"### {kind}: {seconds:.1f} s wall under cProfile ({total:.1f} s profiled own time); "
                  f"result {_short(job.result or {})}",
                  f"SQL: {sum(sql_calls.values())} statements, {sum(sql_seconds.values()):.1f} s; the slowest kinds:",
                  *(f"  {sql_seconds[key]:7.2f} s {sql_calls[key]:5d}x  {key}" for key, _ in sql_seconds.most_common(6)),
                  *_trim(report.getvalue())]
    return lines


# --- where the CPU goes: this process and the database server ----------------------------------------------


@dataclass
class CpuStage:
    kind: str
    rows: int  # the stage's own rows: imported transactions, decisions, or entries booked
    wall_s: float
    python_cpu_s: float  # this process, every thread (the ingest's read-ahead thread included)
    database_cpu_s: float  # every PostgreSQL server process: the backends, WAL writer, checkpointer, ...


def postgres_cpu_seconds() -> float:
    """User + system CPU seconds of every process named `postgres` on this machine (the server runs here)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        if name == "postgres":
            ticks += int(rest[11]) + int(rest[12])  # utime, stime: fields 14 and 15 of proc(5)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_stages(*, path: Path, args: argparse.Namespace) -> list[CpuStage]:
    """The three stages in-process, each with its wall time, this process's CPU and the database server's CPU."""
    def timed(kind: str, run: Callable[[], None]) -> tuple[float, float, float]:
        wall, python, database = time.perf_counter(), time.process_time(), postgres_cpu_seconds()
        run()
        return (time.perf_counter() - wall, time.process_time() - python, postgres_cpu_seconds() - database)

    stages = []
    for kind, job, (wall, python, database) in run_stages_in_process(path=path, args=args, measure=timed):
        stages.append(CpuStage(kind=kind, rows=stage_rows(kind, job.result or {}), wall_s=wall,
                               python_cpu_s=python, database_cpu_s=database))
    return stages


def cpu_table(stages: list[CpuStage], *, transactions: int, cores: int) -> list[str]:
    """Per stage and for a whole transaction: µs of CPU per row, and the rate the database alone would allow
    if Python took no time at all and the work spread perfectly over every core."""
    lines = [f"| stage | rows | wall s | rows/s | Python CPU µs/row | database CPU µs/row | database-only ceiling "
             f"on {cores} cores, rows/s |", "|---|---|---|---|---|---|---|"]
    for stage in stages:
        database_us = stage.database_cpu_s / stage.rows * 1e6
        lines.append(f"| {stage.kind} | {stage.rows:,} | {stage.wall_s:.1f} | {stage.rows / stage.wall_s:,.0f} | "
                     f"{stage.python_cpu_s / stage.rows * 1e6:.1f} | {database_us:.1f} | "
                     f"{cores * 1e6 / database_us:,.0f} |")
    wall = sum(stage.wall_s for stage in stages)
    python = sum(stage.python_cpu_s for stage in stages) / transactions * 1e6
    database = sum(stage.database_cpu_s for stage in stages) / transactions * 1e6
    lines.append(f"| **per imported transaction, all three** | {transactions:,} | {wall:.1f} | "
                 f"{transactions / wall:,.0f} | {python:.1f} | {database:.1f} | **{cores * 1e6 / database:,.0f}** |")
    return lines


def foreign_keys_drop() -> None:
    """Drop the foreign-key constraints of the tables the three stages write (this bench database only):
    measures what the per-row key checks cost. The product keeps them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', c.conrelid::regclass::text, c.conname)
            FROM pg_constraint c
            WHERE c.contype = 'f' AND c.conrelid::regclass::text IN (
                'transactions_transaction', 'decisions_decision', 'ledger_journalentry', 'ledger_journalline')
        """)
        for (statement,) in cursor.fetchall():
            cursor.execute(statement)


def _short(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if key not in ("errors", "duplicate_rows")}


def _trim(text: str) -> list[str]:
    """pstats output without its preamble, paths relative to the repository."""
    keep, started = [], False
    for line in text.splitlines():
        if line.strip().startswith("ncalls"):
            started = True
        if started and line.strip():
            keep.append(line.replace(str(REPO_ROOT) + "/", "").replace(sys.prefix + "/", ""))
    return keep


# --- main ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_environment()
    shutil.rmtree(RUN_VAR_DIR, ignore_errors=True)
    RUN_VAR_DIR.mkdir(parents=True)
    database_url = os.environ["DATABASE_URL"]
    import django

    path = None
    results: list[RunResult] = []
    try:
        for index, workers_count in enumerate([0] if args.profile or args.cpu else args.workers):
            if index:
                from django.db import connections

                connections.close_all()
            recreate_database(database_url)
            flush_bench_redis()
            if index == 0:
                django.setup()
                path = csv_file(args.rows)
            assert path is not None
            if args.profile:
                print(f"profiling {args.rows:,} rows in-process ...", flush=True)
                report = profile_stages(path=path, args=args)
                print("\n".join(["", *machine_lines()[:5], *report]), flush=True)
                return 0
            if args.cpu:
                print(f"{args.rows:,} rows in-process, CPU per stage"
                      f"{' (foreign keys dropped)' if args.without_foreign_keys else ''} ...", flush=True)
                stages = cpu_stages(path=path, args=args)
                print("\n".join(["", *machine_lines()[:5], "", *cpu_table(
                    stages, transactions=stages[0].rows, cores=len(os.sched_getaffinity(0)))]), flush=True)
                return 0
            print(f"{workers_count} worker(s), {args.rows:,} rows ...", flush=True)
            results.append(measure_run(workers_count=workers_count, path=path, rows=args.rows, args=args))
            print(run_line(results[-1]), flush=True)
        print("\n".join(["", *machine_lines()[:5],
                         f"pipeline:  {results[0].rules} active rules, model trained on {args.history:,} labeled "
                         f"rows, post_automatic_decisions on, workers --pool solo, broker Redis", "",
                         *results_table(results)]), flush=True)
    finally:
        if not args.keep_db:
            drop_database(database_url)
        shutil.rmtree(RUN_VAR_DIR / "uploads", ignore_errors=True)
    return 0 if all(result.checks.get("ok") for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
