"""python manage.py promote_rules --company SLUG: propose rules from the company's confirmed history (JSON summary)."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rules.services.promotion import rules_promote
from transactions.models import Company


class Command(BaseCommand):
    help = "Propose rules for vendors people categorize consistently (an admin approves them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="Company slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        company = Company.objects.filter(slug=options["company"]).first()
        if company is None:
            raise CommandError(f"No company with slug {options['company']!r}.")
        self.stdout.write(json.dumps(rules_promote(company=company), default=str))
