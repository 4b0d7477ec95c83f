"""python manage.py promote_rules --company SLUG: propose rules from the company's confirmed history (JSON summary)."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ledger_site.commands import company_for_command
from rules.services.promotion import rules_promote


class Command(BaseCommand):
    help = "Propose rules for vendors people categorize consistently (an admin approves them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="Company slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        company = company_for_command(options["company"])
        self.stdout.write(json.dumps(rules_promote(company=company), default=str))
