"""python manage.py seed_demo [--transactions N] [--seed S]: the five demo companies, idempotently."""
from __future__ import annotations

import datetime
import io
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rules.services.promotion import rules_promote
from transactions.demo_data import COMPANIES, generate_transactions, write_csv
from transactions.services.companies import company_ensure_with_chart, demo_superuser_ensure, demo_users_ensure
from transactions.services.demo import demo_history_import, demo_model_ensure, demo_recent_import


class Command(BaseCommand):
    help = "Create the demo companies, their charts of accounts, a user per role and a categorized history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--transactions", type=int, default=600, help="Categorized transactions per company.")
        parser.add_argument("--seed", type=int, default=42, help="Seed of the transaction generator.")

    def handle(self, *args: Any, transactions: int, seed: int, **options: Any) -> None:
        if transactions < 0:
            self.stderr.write("--transactions must be 0 or more.")
            raise SystemExit(2)
        logins = [demo_superuser_ensure()]
        for spec in COMPANIES:
            company = company_ensure_with_chart(spec=spec)
            logins += demo_users_ensure(company=company)
            if transactions:
                text = io.StringIO()
                write_csv(generate_transactions(company_slug=spec.slug, count=transactions, seed=seed), text, labeled=True)
                summary = demo_history_import(company=company, content=text.getvalue().encode())
                # The history is confirmed by people, so it already suggests rules for the approval queue.
                promotion = rules_promote(company=company)
                model = demo_model_ensure(company=company)
                # Then this month's statement, not categorized yet: classified at once, so the review queue and the
                # dashboard have something to show.
                history = list(generate_transactions(company_slug=spec.slug, count=transactions, seed=seed))
                recent = io.StringIO()
                write_csv(generate_transactions(company_slug=spec.slug, count=max(1, transactions // 5), seed=seed + 1,
                                                start=history[-1].date + datetime.timedelta(days=1)), recent)
                classified = demo_recent_import(company=company, content=recent.getvalue().encode())
                self.stdout.write(
                    f"{company.name}: {summary}; {promotion['proposed']} rules proposed for approval; {model}; "
                    f"this month: {classified}"
                )
        self.stdout.write("\nDemo logins (password shown is the one set when the user was created):")
        for login in logins:
            self.stdout.write(f"  {login.username:<34} {login.password:<26} {login.role} @ {login.company}")
