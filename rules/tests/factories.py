"""Test data for rules: bank lines with a given vendor text, categorized and confirmed as a person would."""
from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.utils import timezone

from transactions.models import Account, Company, Transaction, TransactionStatus


def add_lines(
    company: Company,
    description: str,
    count: int,
    *,
    amount: str = "-12.50",
    account: str | None = None,
    confirmed_days_ago: int | None = 0,
    counterparty: str = "",
    start: datetime.date = datetime.date(2026, 6, 1),
) -> list[Transaction]:
    """`count` lines of one vendor; with `account` they are categorized, and confirmed `confirmed_days_ago`
    days ago (None: categorized by a machine, not confirmed)."""
    bank = company.accounts.get(code="1000")
    category = Account.objects.get(company=company, code=account) if account else None
    confirmed_at = (
        timezone.now() - datetime.timedelta(days=confirmed_days_ago)
        if category is not None and confirmed_days_ago is not None else None
    )
    return Transaction.objects.bulk_create(
        Transaction(
            company=company, bank_account=bank, date=start + datetime.timedelta(days=i % 28),
            description=f"{description} #{1000 + i}", counterparty=counterparty, amount=Decimal(amount),
            fingerprint=uuid.uuid4(), account=category,
            status=TransactionStatus.CATEGORIZED if category else TransactionStatus.UNCATEGORIZED,
            confirmed_at=confirmed_at,
        )
        for i in range(count)
    )


def vendor_rule(value: str, account: str = "6100", *, op: str = "equals", field: str = "counterparty",
                name: str | None = None, **extra: object) -> dict[str, object]:
    """Plain rule data with one text condition (plus any extra keys)."""
    return {"name": name or f"{value} rule", "conditions": [{"field": field, "op": op, "value": value}],
            "account_code": account, **extra}


def statuses(rules: Iterable[object]) -> list[str]:
    return [rule.status for rule in rules]  # type: ignore[attr-defined]
