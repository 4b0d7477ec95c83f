"""python manage.py backtest --train FILE --test FILE [--auto-threshold X] | --file FILE --split-date YYYY-MM-DD

Trains on labeled history and runs the whole decision engine (promoted rules + ML, no LLM) on other labeled
rows, in a throwaway company that is rolled back afterwards; prints the scores as JSON (see mlmodels.backtest).
"""
from __future__ import annotations

import datetime
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger_site.exceptions import DomainError
from mlmodels.backtest import backtest_run, labeled_rows, split_by_date


def _threshold(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"{text} is not between 0 and 1")
    return value


class Command(BaseCommand):
    help = "Score the decision engine: train on one labeled file, decide another, compare with its labels."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--train", type=Path, help="Labeled CSV to learn from.")
        parser.add_argument("--test", type=Path, help="Labeled CSV to decide and score.")
        parser.add_argument("--file", type=Path, help="One labeled CSV, split in time with --split-date.")
        parser.add_argument("--split-date", type=datetime.date.fromisoformat,
                            help="With --file: rows before this date train, the rest test.")
        parser.add_argument("--auto-threshold", type=_threshold, default=None,
                            help="ML confidence for automatic approval (default: ML_CONFIDENCE_THRESHOLD).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["file"]:
                if not options["split_date"] or options["train"] or options["test"]:
                    raise CommandError("--file needs --split-date, and goes without --train/--test.")
                train, test = split_by_date(labeled_rows(options["file"]), options["split_date"])
            else:
                if not (options["train"] and options["test"]):
                    raise CommandError("Give --train FILE and --test FILE (or --file FILE --split-date DATE).")
                train, test = labeled_rows(options["train"]), labeled_rows(options["test"])
            result = backtest_run(train=train, test=test, auto_threshold=options["auto_threshold"])
        except DomainError as error:
            raise CommandError(error.message) from None
        except OSError as error:
            raise CommandError(f"Cannot read {error.filename}: {error.strerror}") from None
        self.stdout.write(json.dumps(result))
