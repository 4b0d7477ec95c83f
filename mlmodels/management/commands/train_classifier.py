"""python manage.py train_classifier --company SLUG | --global: train a version in-process, print its metrics as JSON."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger_site.commands import company_for_command
from ledger_site.exceptions import DomainError
from mlmodels.services import model_train


class Command(BaseCommand):
    help = "Train a classifier version from confirmed history; it is activated only if it beats the active one."

    def add_arguments(self, parser: CommandParser) -> None:
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--company", help="Company slug.")
        scope.add_argument("--global", dest="global_model", action="store_true",
                           help="Train the global model on every company's confirmed history.")

    def handle(self, *args: Any, **options: Any) -> None:
        company = None if options["global_model"] else company_for_command(options["company"])
        try:
            version = model_train(company=company)
        except DomainError as error:
            raise CommandError(error.message) from None
        version.refresh_from_db()
        self.stdout.write(json.dumps({
            "model_version": version.pk, "scope": version.scope, "number": version.number,
            "algorithm": version.algorithm, "active": version.is_active, "note": version.activation_note,
            "training": version.training_summary, "metrics": version.metrics,
        }))
