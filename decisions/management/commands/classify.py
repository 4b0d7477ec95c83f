"""python manage.py classify --company SLUG [--import ID]: decide uncategorized transactions; counts by method as JSON."""
from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger_site.commands import company_for_command
from decisions.services import transactions_classify


class Command(BaseCommand):
    help = "Classify the company's uncategorized transactions in-process (the classify job does the same on a worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="Company slug.")
        parser.add_argument("--import", dest="import_batch", default=None, help="Only this import's transactions.")

    def handle(self, *args: Any, **options: Any) -> None:
        company = company_for_command(options["company"])
        try:
            result = transactions_classify(company=company, import_batch_id=options["import_batch"])
        except ValidationError as error:  # a malformed import id
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(json.dumps(result))
