"""python manage.py export_rules (--company SLUG | --global) [--output FILE]

Writes the rules as YAML (see rules.services.transfer for the shape) to stdout or FILE; `import_rules` reads
the file back.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger_site.commands import company_for_command
from rules.services.transfer import rules_export_yaml


class Command(BaseCommand):
    help = "Export a company's rules (or the global rules) as YAML."

    def add_arguments(self, parser: CommandParser) -> None:
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--company", help="Company slug.")
        scope.add_argument("--global", dest="global_rules", action="store_true",
                           help="Export the global rules (used by every company) instead.")
        parser.add_argument("--output", type=Path, metavar="FILE", help="Write to FILE instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        company = None if options["global_rules"] else company_for_command(options["company"])
        text = rules_export_yaml(company=company)
        if options["output"] is None:
            self.stdout.write(text, ending="")
            return
        try:
            options["output"].write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot write {options['output']}: {error}") from None
