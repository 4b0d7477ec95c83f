"""Transactions-list latency with 1,000,000 transactions in PostgreSQL (one command, prints a table).

    .venv/bin/python -m benchmarks.pages [--rows 1000000] [--runs 5]

Creates (and finally drops) the database `autoledger_pages_bench` (or DATABASE_URL, whose name must contain
"bench"), seeds the demo companies, inserts the rows with one INSERT ... SELECT FROM generate_series, and times
GET /transactions/ through Django's test client (the whole view: query, count, template) for common filters.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/autoledger_pages_bench"
QUERIES = [
    ("first page", {}),
    ("page 200", {"page": "200"}),
    ("status filter", {"status": "uncategorized"}),
    ("date range + amount", {"date_from": "2021-01-01", "date_to": "2021-03-01", "amount_min": "-10"}),
    ("text search", {"q": "VENDOR 42 "}),
]
INSERT_ROWS = """
INSERT INTO transactions_transaction (company_id, bank_account_id, import_batch_id, line, date, description,
    counterparty, amount, currency, balance, external_id, fingerprint, occurrence, status, account_id, created_at)
SELECT c.id, a.id, NULL, g, DATE '2020-01-01' + (g / 1000), 'VENDOR ' || (g % 5000) || ' STORE #' || g, '',
    ((g % 20000) - 10000) / 100.0, 'USD', NULL, '', md5(g::text)::uuid, 1,
    CASE WHEN g % 3 = 0 THEN 'categorized' ELSE 'uncategorized' END, NULL, now()
FROM generate_series(1, {rows}) g, transactions_company c
JOIN transactions_account a ON a.company_id = c.id AND a.code = '1000'
WHERE c.slug = 'hamilton-coffee'
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
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
        print(measure(args.rows, args.runs))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(rows: int, runs: int) -> str:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--transactions", "0", stdout=open(os.devnull, "w"))
    with connection.cursor() as cursor:
        cursor.execute(INSERT_ROWS.format(rows=int(rows)))
        cursor.execute("ANALYZE transactions_transaction")
    settings.ALLOWED_HOSTS = ["testserver"]
    client = Client()
    client.force_login(get_user_model().objects.get(username="hamilton-coffee-accountant"))
    lines = [
        f"GET /transactions/ with {rows:,} transactions of one company, median of {runs} runs",
        "",
        "| query | median ms | min ms | max ms |",
        "|---|---|---|---|",
    ]
    for label, params in QUERIES:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            response = client.get("/transactions/", params)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.status_code
        lines.append(f"| {label} | {statistics.median(times):.0f} | {min(times):.0f} | {max(times):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
