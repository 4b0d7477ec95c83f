"""python manage.py import_rules (--company SLUG | --global) FILE [--proposed]

Imports a YAML rules file (the shape `export_rules` writes, or the original rules report) all or nothing.
Prints the summary as one JSON object; on an invalid file prints every "path: message" to stderr, imports
nothing and exits non-zero.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger_site.commands import company_for_command
from ledger_site.exceptions import DomainError
from rules.exceptions import RuleInvalid
from rules.services.transfer import MAX_FILE_BYTES, rules_import_yaml


class Command(BaseCommand):
    help = "Import rules from a YAML file into a company (or as global rules); an invalid file imports nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, metavar="FILE")
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--company", help="Company slug.")
        scope.add_argument("--global", dest="global_rules", action="store_true",
                           help="Import global rules (used by every company) instead.")
        parser.add_argument("--proposed", action="store_true",
                            help="Create the new rules as proposed, for an admin to approve.")

    def handle(self, *args: Any, **options: Any) -> None:
        company = None if options["global_rules"] else company_for_command(options["company"])
        text = self._read(options["file"])
        try:
            summary = rules_import_yaml(company=company, text=text, user=None,
                                        activate=False if options["proposed"] else None)
        except RuleInvalid as error:
            for path, messages in error.extra.get("fields", {}).items():
                for message in messages:
                    self.stderr.write(f"{path}: {message}")
            raise CommandError(error.message) from None
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(json.dumps(summary))

    def _read(self, path: Path) -> str:
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)  # never more than the limit (plus one byte to notice it)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        if len(data) > MAX_FILE_BYTES:
            raise CommandError(f"{path} is larger than {MAX_FILE_BYTES} bytes (5 MB); split it into several files.")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} is not UTF-8 text (byte {error.start}).") from None
