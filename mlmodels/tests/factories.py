"""A demo company with confirmed history, for training tests."""
from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from transactions.demo_data import COMPANIES, generate_transactions
from transactions.models import Account, Company, Transaction, TransactionStatus
from transactions.services.companies import company_ensure_with_chart


def demo_company_with_history(count: int, *, slug: str = "hamilton-coffee", seed: int = 1,
                              confirmed: bool = True, start: datetime.date | None = None) -> Company:
    """The demo company `slug` with `count` generated lines, categorized (and confirmed by a person)."""
    company = company_ensure_with_chart(spec=next(spec for spec in COMPANIES if spec.slug == slug))
    accounts = dict(Account.objects.filter(company=company).values_list("code", "id"))
    bank = accounts["1000"]
    now = timezone.now()
    Transaction.objects.bulk_create(
        Transaction(
            company=company, bank_account_id=bank, date=row.date, description=row.description,
            counterparty=row.counterparty, amount=row.amount, fingerprint=uuid.uuid4(),
            account_id=accounts[row.account_code], status=TransactionStatus.CATEGORIZED,
            confirmed_at=now if confirmed else None,
        )
        for row in generate_transactions(company_slug=slug, count=count, seed=seed,
                                         **({"start": start} if start else {}))
    )
    return company


def uncategorized_lines(company: Company, count: int, *, seed: int = 99) -> list[Transaction]:
    """New, uncategorized lines of the same demo company (another seed: not the training rows)."""
    bank = company.accounts.get(code="1000")
    return Transaction.objects.bulk_create(
        Transaction(company=company, bank_account=bank, date=row.date, description=row.description,
                    counterparty=row.counterparty, amount=row.amount, fingerprint=uuid.uuid4())
        for row in generate_transactions(company_slug=company.slug, count=count, seed=seed)
    )
