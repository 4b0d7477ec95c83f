"""Test data for reconciliation: bank rows with running balances, rows booked the way the product books them
(decision -> post_propose -> post), and entries entered by hand. Fixed dates and exact Decimal amounts."""
from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

from decisions.models import Decision
from ledger.models import EntryKind, JournalEntry
from ledger.services.postings import journal_entries_post, journal_entries_propose, journal_entry_create
from transactions.models import Account, Company, Transaction

JUNE = (datetime.date(2026, 6, 1), datetime.date(2026, 6, 30))


def june(day: int) -> datetime.date:
    return datetime.date(2026, 6, day)


def bank_row(company: Company, date: datetime.date, description: str, amount: str, balance: str | None = None,
             *, line: int | None = None, bank: str = "1000") -> Transaction:
    return Transaction.objects.create(
        company=company, bank_account=company.accounts.get(code=bank), date=date, description=description,
        amount=Decimal(amount), balance=Decimal(balance) if balance is not None else None, line=line,
        fingerprint=uuid.uuid4(),
    )


def book(company: Company, *rows_and_accounts: tuple[Transaction, str], post: bool = True) -> None:
    """Book bank rows as the product does: an approved decision, post_propose, then (optionally) post."""
    for row, code in rows_and_accounts:
        Decision.objects.create(company=company, transaction=row, method="human", status="approved",
                                account=Account.objects.get(company=company, code=code))
    journal_entries_propose(company=company)
    if post:
        journal_entries_post(company=company, entry_ids=None, user=None)


def manual_entry(company: Company, date: datetime.date, memo: str, bank_amount: str, *, other: str = "6100",
                 bank: str = "1000", post: bool = True) -> JournalEntry:
    """An entry entered by hand that moves `bank_amount` on the bank account (positive: money in)."""
    amount = Decimal(bank_amount)
    bank_account = company.accounts.get(code=bank)
    other_account = company.accounts.get(code=other)
    zero = Decimal("0")
    lines = ([(bank_account, amount, zero), (other_account, zero, amount)] if amount > 0
             else [(other_account, -amount, zero), (bank_account, zero, -amount)])
    return journal_entry_create(company=company, date=date, memo=memo, lines=lines, kind=EntryKind.MANUAL,
                                post=post)


@dataclass
class HandCheckedStatement:
    payout: Transaction
    staples: Transaction
    rent: Transaction
    fee: Transaction
    deposit: Transaction
    rent_entry: JournalEntry
    cash_sale: JournalEntry


def hand_checked_statement(company: Company) -> HandCheckedStatement:
    """June 2026 on 1000 Checking, written out by hand:

    Statement (file with a balance column)                     Books (bank account 1000)
      opening                                     1,000.00      May 1 owner's capital (manual)     +1,000.00
      Jun  2 STRIPE PAYOUT 8841        +400.00    1,400.00      booked from the row (posted)          +400.00
      Jun  5 STAPLES 00123              -12.50    1,387.50      booked from the row (posted)           -12.50
      Jun 10 ACME PROPERTIES RENT JUNE -750.00      637.50      Jun 8 "Rent June - Acme Properties"   -750.00
      Jun 15 MONTHLY SERVICE CHARGE      -5.00      632.50      - nothing (missing from the books)
      Jun 20 CUSTOMER DEPOSIT SMITH    +250.00      882.50      booked from the row (posted)          +250.00
      closing                                       882.50      Jun 25 "Cash sale recorded by hand"   +120.00
                                                                Jul 20 "July supplies" (outside)       -99.00
    opening (from the file: 1,400.00 - 400.00)  = 1,000.00 = the books' balance before June 1
    posted movements in June = 400.00 - 12.50 - 750.00 + 250.00 + 120.00 = 7.50
    difference = 1,000.00 + 7.50 - 882.50 = 125.00 = the cash sale (+120.00) - the service charge (-5.00)
    suggested match: the rent row <-> the rent entry, 2 days apart, words shared: 0.800 - 0.200 + 0.200 = 0.800
    """
    manual_entry(company, datetime.date(2026, 5, 1), "Owner's capital", "1000.00", other="8000")
    payout = bank_row(company, june(2), "STRIPE PAYOUT 8841", "400.00", "1400.00", line=2)
    staples = bank_row(company, june(5), "STAPLES 00123", "-12.50", "1387.50", line=3)
    rent = bank_row(company, june(10), "ACME PROPERTIES RENT JUNE", "-750.00", "637.50", line=4)
    fee = bank_row(company, june(15), "MONTHLY SERVICE CHARGE", "-5.00", "632.50", line=5)
    deposit = bank_row(company, june(20), "CUSTOMER DEPOSIT SMITH", "250.00", "882.50", line=6)
    book(company, (payout, "8000"), (staples, "6100"), (deposit, "8000"))
    rent_entry = manual_entry(company, june(8), "Rent June - Acme Properties", "-750.00")
    cash_sale = manual_entry(company, june(25), "Cash sale recorded by hand", "120.00", other="8000")
    manual_entry(company, datetime.date(2026, 7, 20), "July supplies", "-99.00")
    return HandCheckedStatement(payout=payout, staples=staples, rent=rent, fee=fee, deposit=deposit,
                                rent_entry=rent_entry, cash_sale=cash_sale)
