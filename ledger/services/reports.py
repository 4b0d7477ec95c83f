"""The books as reports: a trial balance and a profit & loss statement for one company and period.

What counts is what is in the books (`BOOKED_STATUSES`): posted entries, and reversed ones together with their
posted reversals (each pair nets to zero). Proposed entries do not count. Each report is one grouped query
(lines summed per account in the database) and `Decimal` throughout.

Signs: an account's `balance` is debits - credits (a positive balance is a debit balance: assets and expenses
normally; liabilities, equity and income normally have negative, i.e. credit, balances). The profit & loss
statement shows both sides as positive amounts: income is credits - debits, expenses are debits - credits, and
net income = income - expenses.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ledger.exceptions import LedgerInvalid
from ledger.models import BOOKED_STATUSES, JournalLine
from transactions.models import AccountType, Company

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class AccountTotal:
    """One account's debits and credits over a period."""

    code: str
    name: str
    type: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Debits - credits: positive is a debit balance, negative a credit balance."""
        return self.debit - self.credit

    @property
    def balance_side(self) -> str:
        """How an accountant writes the balance: "Dr" (debit balance), "Cr" (credit balance) or "" (zero)."""
        return "Dr" if self.balance > 0 else "Cr" if self.balance < 0 else ""

    @property
    def balance_amount(self) -> Decimal:
        """The balance without its sign (the side says which)."""
        return abs(self.balance)


@dataclass(frozen=True)
class TrialBalance:
    company: Company
    date_from: datetime.date | None  # None: from the first entry on (balances as of date_to)
    date_to: datetime.date
    accounts: list[AccountTotal]
    currency: str

    @property
    def total_debit(self) -> Decimal:
        return sum((row.debit for row in self.accounts), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((row.credit for row in self.accounts), ZERO)

    @property
    def is_balanced(self) -> bool:
        """Every booked entry balances, so the totals must; False would mean books damaged outside the services."""
        return self.total_debit == self.total_credit


@dataclass(frozen=True)
class ProfitAndLossLine:
    code: str
    name: str
    amount: Decimal  # positive for normal activity: income earned, expense incurred


@dataclass(frozen=True)
class ProfitAndLoss:
    company: Company
    date_from: datetime.date
    date_to: datetime.date
    income: list[ProfitAndLossLine]
    expenses: list[ProfitAndLossLine]
    currency: str

    @property
    def total_income(self) -> Decimal:
        return sum((line.amount for line in self.income), ZERO)

    @property
    def total_expenses(self) -> Decimal:
        return sum((line.amount for line in self.expenses), ZERO)

    @property
    def net_income(self) -> Decimal:
        """Income - expenses; negative is a loss."""
        return self.total_income - self.total_expenses


def period_validate(*, date_from: datetime.date | None, date_to: datetime.date | None) -> None:
    """Refuse a period that ends before it starts (LedgerInvalid, a 400 through the API)."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise LedgerInvalid(
            f"The period ends before it starts: date_from {date_from.isoformat()} is after date_to "
            f"{date_to.isoformat()}.",
            extra={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        )


def booked_lines_in_period(
    *, company: Company, date_from: datetime.date | None, date_to: datetime.date | None
) -> QuerySet[JournalLine]:
    """The lines of the company's booked entries dated within the period (either end may be open)."""
    lines = JournalLine.objects.filter(entry__company=company, entry__status__in=BOOKED_STATUSES)
    if date_from is not None:
        lines = lines.filter(entry__date__gte=date_from)
    if date_to is not None:
        lines = lines.filter(entry__date__lte=date_to)
    return lines


def account_totals(
    *, company: Company, date_from: datetime.date | None, date_to: datetime.date | None,
    types: tuple[str, ...] | None = None,
) -> list[AccountTotal]:
    """Debits and credits per account of the company's booked entries in the period, by account code.

    One grouped query. Accounts without booked lines in the period are left out. `types` keeps only accounts of
    those types (AccountType values).
    """
    lines = booked_lines_in_period(company=company, date_from=date_from, date_to=date_to)
    if types is not None:
        lines = lines.filter(account__type__in=types)
    money = DecimalField(max_digits=20, decimal_places=2)
    rows = (
        lines.values("account_id", "account__code", "account__name", "account__type")
        .annotate(debit_total=Coalesce(Sum("debit"), Value(ZERO), output_field=money),
                  credit_total=Coalesce(Sum("credit"), Value(ZERO), output_field=money))
        .order_by("account__code", "account_id")
    )
    return [
        AccountTotal(code=row["account__code"], name=row["account__name"], type=row["account__type"],
                     debit=_cents(row["debit_total"]), credit=_cents(row["credit_total"]))
        for row in rows
    ]


def _cents(value: Decimal | int | None) -> Decimal:
    # SQLite sums DECIMAL columns as floating point; PostgreSQL's numeric is exact. Cents are what the books hold.
    return Decimal(value or 0).quantize(Decimal("0.01"))


def trial_balance(
    *, company: Company, date_to: datetime.date | None = None, date_from: datetime.date | None = None
) -> TrialBalance:
    """Debits, credits and balance of every account with booked entries, up to `date_to` (default: today).

    Parameters:
        date_to: last day included (the company's books as of that day); today when None.
        date_from: first day included; None for everything up to date_to (the usual trial balance). Given, the
            report shows the period's movements only, without opening balances.
    Returns:
        TrialBalance: rows by account code; its total debits equal its total credits.
    Raises:
        LedgerInvalid: date_from after date_to.
    """
    date_to = date_to or timezone.localdate()
    period_validate(date_from=date_from, date_to=date_to)
    return TrialBalance(company=company, date_from=date_from, date_to=date_to,
                        accounts=account_totals(company=company, date_from=date_from, date_to=date_to),
                        currency=settings.LEDGER_CURRENCY)


def profit_and_loss(
    *, company: Company, date_from: datetime.date | None = None, date_to: datetime.date | None = None
) -> ProfitAndLoss:
    """Income and expense accounts over the period, their totals and the net income.

    Parameters:
        date_from: first day included; January 1 of date_to's year when None (year to date).
        date_to: last day included; today when None.
    Returns:
        ProfitAndLoss: income and expense lines by account code, amounts positive for normal activity.
    Raises:
        LedgerInvalid: date_from after date_to.
    """
    date_to = date_to or timezone.localdate()
    date_from = date_from or datetime.date(date_to.year, 1, 1)
    period_validate(date_from=date_from, date_to=date_to)
    totals = account_totals(company=company, date_from=date_from, date_to=date_to,
                            types=(AccountType.INCOME, AccountType.EXPENSE))
    return ProfitAndLoss(
        company=company, date_from=date_from, date_to=date_to,
        income=[ProfitAndLossLine(code=row.code, name=row.name, amount=-row.balance)
                for row in totals if row.type == AccountType.INCOME],
        expenses=[ProfitAndLossLine(code=row.code, name=row.name, amount=row.balance)
                  for row in totals if row.type == AccountType.EXPENSE],
        currency=settings.LEDGER_CURRENCY,
    )
