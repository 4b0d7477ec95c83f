"""Books with hand-checked numbers for the report, export and browser tests (fixed dates and amounts).

Company A (the conftest's Alpha Bakery, plus three accounts) in 2025:

    #  date        memo                      debit                         credit
    1  01-05       Owner investment          1000 Checking   10,000.00     3000 Owner's Equity 10,000.00
    2  01-10       STAPLES (from a bank      6100 Office        250.40     1000 Checking          250.40
                   transaction)
    3  02-03       Catering                  1000 Checking    1,500.00     8000 Sales Revenue   1,500.00
    4  02-15       Rent February             6200 Rent        1,200.00     2000 Credit Card     1,200.00
    5  02-20       Duplicate charge          6100 Office         99.99     1000 Checking           99.99
                   (reversed by #5R on 03-02, which swaps the lines)
    6  03-10       Proposed rent             6200 Rent        5,000.00     1000 Checking        5,000.00  NOT BOOKED
    7  03-15       Split purchase            6100 Office 30.00, 6200 Rent 70.00 / 1000 Checking   100.00

Company B books 777.77 (1000 Checking / 4000 Income) on 02-01: it must never appear in company A's reports.
"""
from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from ledger.models import EntryKind, EntryStatus, JournalEntry, JournalLine
from ledger.services.postings import journal_entry_create, journal_entry_reverse
from transactions.models import Account, AccountType, Company, Transaction
from transactions.tests.factories import AccountFactory


@dataclass
class Books:
    entries: dict[str, JournalEntry]  # by the numbers in the module docstring ("5R": the reversal)
    accounts: dict[str, Account]  # company A's, by code


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def company_a_books(company_a: Company, company_b: Company, *, memos: dict[str, str] | None = None) -> Books:
    """Company A's entries above (and company B's one entry); `memos` replaces memos by entry number."""
    memos = memos or {}
    accounts = {account.code: account for account in company_a.accounts.all()}
    for code, name, kind in (("2000", "Credit Card", AccountType.LIABILITY),
                             ("3000", "Owner's Equity", AccountType.EQUITY),
                             ("6200", "Rent", AccountType.EXPENSE)):
        accounts[code] = AccountFactory(company=company_a, code=code, name=name, type=kind)
    bank, equity, office, sales, rent, card = (
        accounts[code] for code in ("1000", "3000", "6100", "8000", "6200", "2000"))

    def entry(number: str, date: str, memo: str, lines: list[tuple[Account, str, str]],
              post: bool = True) -> JournalEntry:
        return journal_entry_create(
            company=company_a, date=d(date), memo=memos.get(number, memo), post=post,
            lines=[(account, Decimal(debit), Decimal(credit)) for account, debit, credit in lines],
        )

    entries = {
        "1": entry("1", "2025-01-05", "Owner investment", [(bank, "10000.00", "0"), (equity, "0", "10000.00")]),
        "2": _bank_entry(company_a, d("2025-01-10"), memos.get("2", "STAPLES 00123"), office, bank, Decimal("250.40")),
        "3": entry("3", "2025-02-03", "Catering", [(bank, "1500.00", "0"), (sales, "0", "1500.00")]),
        "4": entry("4", "2025-02-15", "Rent February", [(rent, "1200.00", "0"), (card, "0", "1200.00")]),
        "5": entry("5", "2025-02-20", "Duplicate charge", [(office, "99.99", "0"), (bank, "0", "99.99")]),
        "6": entry("6", "2025-03-10", "Proposed rent", [(rent, "5000.00", "0"), (bank, "0", "5000.00")], post=False),
        "7": entry("7", "2025-03-15", "Split purchase",
                   [(office, "30.00", "0"), (rent, "70.00", "0"), (bank, "0", "100.00")]),
    }
    entries["5R"] = journal_entry_reverse(entry=entries["5"], user=None, date=d("2025-03-02"))
    entries["5"].refresh_from_db()
    b_income = AccountFactory(company=company_b, code="4000", name="Beta Income", type=AccountType.INCOME)
    entries["B"] = journal_entry_create(
        company=company_b, date=d("2025-02-01"), memo="BETA SECRET SALE", post=True,
        lines=[(company_b.accounts.get(code="1000"), Decimal("777.77"), Decimal("0")),
               (b_income, Decimal("0"), Decimal("777.77"))],
    )
    assert entries["5"].status == EntryStatus.REVERSED and entries["6"].status == EntryStatus.PROPOSED
    return Books(entries=entries, accounts=accounts)


def _bank_entry(company: Company, date: datetime.date, memo: str, category: Account, bank: Account,
                amount: Decimal) -> JournalEntry:
    """A posted entry booking a bank transaction (money out), the way post_propose writes one."""
    line = Transaction.objects.create(company=company, bank_account=bank, date=date, description=memo,
                                      amount=-amount, fingerprint=uuid.uuid4())
    with transaction.atomic():  # lines first, then the status: lines of a posted entry are final
        entry = JournalEntry.objects.create(company=company, date=date, memo=memo, source_transaction=line,
                                            kind=EntryKind.TRANSACTION)
        JournalLine.objects.bulk_create([
            JournalLine(entry=entry, account=category, debit=amount, credit=Decimal("0")),
            JournalLine(entry=entry, account=bank, debit=Decimal("0"), credit=amount),
        ])
        JournalEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.POSTED)
    entry.refresh_from_db()
    return entry
