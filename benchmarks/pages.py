"""Page latency with 1,000,000 transactions in PostgreSQL (one command, prints a table).

    .venv/bin/python -m benchmarks.pages [--rows 1000000] [--runs 20] [--review-share 0.05]

Creates (and finally drops) the database `autoledger_pages_bench` (or DATABASE_URL, whose name must contain
"bench"), seeds the demo companies, inserts the rows with one INSERT ... SELECT FROM generate_series - a share of
them (`--review-share`) waiting in the review queue with a classifier suggestion, the rest decided - and times
through Django's test client (the whole view: queries, count, template): the transactions list with common
filters, the first page of the review queue, and the journal. Reports median and p95 of `--runs` requests each,
and the number of SQL queries of each page (constant whatever the data: no N+1).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/autoledger_pages_bench"
PAGES = [  # (label, url, query parameters)
    ("transactions: first page", "/transactions/", {}),
    ("transactions: page 200", "/transactions/", {"page": "200"}),
    ("transactions: status filter", "/transactions/", {"status": "needs_review"}),
    ("transactions: date range + amount", "/transactions/",
     {"date_from": "2021-01-01", "date_to": "2021-03-01", "amount_min": "-10"}),
    ("transactions: text search", "/transactions/", {"q": "VENDOR 42 "}),
    ("review queue: first page", "/review/hamilton-coffee/", {}),
    ("review queue: min amount filter", "/review/hamilton-coffee/", {"min_amount": "50"}),
    ("journal: first page", "/ledger/hamilton-coffee/journal/", {}),
]
INSERT_ROWS = """
INSERT INTO transactions_transaction (company_id, bank_account_id, import_batch_id, line, date, description,
    counterparty, amount, currency, balance, external_id, fingerprint, occurrence, status, account_id, created_at)
SELECT c.id, a.id, NULL, g, DATE '2020-01-01' + (g / 1000), 'VENDOR ' || (g % 5000) || ' STORE #' || g, '',
    ((g % 20000) - 10000) / 100.0, 'USD', NULL, '', md5(g::text)::uuid, 1,
    CASE WHEN g % {review_every} = 0 THEN 'needs_review' ELSE 'categorized' END, NULL, now()
FROM generate_series(1, {rows}) g, transactions_company c
JOIN transactions_account a ON a.company_id = c.id AND a.is_bank
WHERE c.slug = 'hamilton-coffee' AND a.code = (SELECT min(code) FROM transactions_account b
                                               WHERE b.company_id = c.id AND b.is_bank)
"""
# One current decision per new transaction: a suggestion waiting for review, or an automatic decision.
INSERT_DECISIONS = """
INSERT INTO decisions_decision (company_id, transaction_id, method, account_id, confidence, alternatives,
    explanation, status, is_current, created_at)
SELECT t.company_id, t.id, CASE WHEN t.status = 'needs_review' THEN 'ml_suggestion' ELSE 'ml' END,
    (SELECT min(id) FROM transactions_account x WHERE x.company_id = t.company_id AND NOT x.is_bank),
    0.5 + (t.id % 50) / 100.0, '[]', '{}',
    CASE WHEN t.status = 'needs_review' THEN 'needs_review' ELSE 'auto_approved' END, true, now()
FROM transactions_transaction t
WHERE t.company_id = (SELECT id FROM transactions_company WHERE slug = 'hamilton-coffee')
  AND NOT EXISTS (SELECT 1 FROM decisions_decision d WHERE d.transaction_id = t.id)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--review-share", type=float, default=0.05,
                        help="share of the rows waiting for review (default 5 %%: 50,000 of a million)")
    args = parser.parse_args()
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the benchmark database name must contain 'bench'")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledger_site.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"

    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        print(measure(args.rows, args.runs, args.review_share))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(rows: int, runs: int, review_share: float) -> str:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--transactions", "0", stdout=open(os.devnull, "w"))
    review_every = max(1, round(1 / review_share)) if review_share > 0 else rows + 1
    with connection.cursor() as cursor:
        cursor.execute(INSERT_ROWS.format(rows=int(rows), review_every=int(review_every)))
        cursor.execute(INSERT_DECISIONS)
        cursor.execute("ANALYZE")
    settings.ALLOWED_HOSTS = ["testserver"]
    client = Client()
    client.force_login(get_user_model().objects.get(username="hamilton-coffee-reviewer"))
    waiting = rows // review_every
    lines = [
        f"{rows:,} transactions of one company ({waiting:,} waiting for review), {runs} requests per page",
        "",
        "| page | median ms | p95 ms | max ms | SQL queries |",
        "|---|---|---|---|---|",
    ]
    for label, url, params in PAGES:
        times, queries = [], []
        # Counted with an execute wrapper: the test client's request_started signal resets connection.queries.
        with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
            response = client.get(url, params)
        assert response.status_code == 200, (url, response.status_code)
        for _ in range(runs):
            start = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.status_code
        p95 = statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) >= 2 else times[0]
        lines.append(f"| {label} | {statistics.median(times):.0f} | {p95:.0f} | {max(times):.0f} | "
                     f"{len(queries)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
