"""python manage.py automation_report [--company SLUG] [--days N] [--json]: the automation table (company,
transactions decided, auto-approved, rate, methods) with a TOTAL row, as Markdown; or the full stats as JSON."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from decisions.stats import automation_stats, automation_table
from ledger_site.commands import company_for_command
from transactions.models import Company


class Command(BaseCommand):
    help = "Print how much of each company's categorizing is automated (all companies, or one with --company)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", default=None, help="Company slug (default: every company).")
        parser.add_argument("--json", action="store_true", help="Print the dashboard's full numbers as JSON.")
        parser.add_argument("--days", type=int, default=30, help="Window of the daily series in --json (1-366).")

    def handle(self, *args: Any, **options: Any) -> None:
        companies = [company_for_command(options["company"])] if options["company"] else list(Company.objects.all())
        if options["json"]:
            self.stdout.write(json.dumps(automation_stats(companies=companies, days=options["days"]), indent=2))
            return
        self.stdout.write(markdown_table(automation_table(companies)))


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The report's Markdown table; the TOTAL row in bold."""
    lines = ["| Company | Txns | Auto-Approved | Rate | Methods |",
             "|---------|------|---------------|------|---------|"]
    for row in rows:
        rate = "-" if row["rate"] is None else f"{row['rate'] * 100:.1f}%"
        name = row["company"].replace("|", "\\|")  # a "|" in a name would start a new column
        cells = [name, str(row["transactions"]), str(row["auto_approved"]), rate, row["methods"]]
        if row["is_total"]:
            cells = [f"**{cell}**" for cell in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
