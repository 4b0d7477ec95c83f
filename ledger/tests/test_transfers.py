"""Transfers between a company's own bank accounts are booked once, as a transfer - not as income and expense."""
from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from decisions.models import Decision
from decisions.services import transaction_categorize
from ledger.exceptions import LedgerConflict
from ledger.models import BankMatch, EntryKind, EntryStatus, JournalEntry, JournalLine
from ledger.services.postings import (
    _book,
    journal_entries_propose,
    journal_entry_create,
    journal_entry_post,
    journal_entry_reverse,
)
from ledger.services.reconciliation import bank_match_accept
from ledger.services.transfers import transfer_pairs, transfers_book
from transactions.models import Account, Transaction, TransactionStatus
from transactions.tests.factories import AccountFactory, BankAccountFactory

D = Decimal


@pytest.fixture
def accounts(company_a):
    return {
        "checking": Account.objects.get(company=company_a, code="1000"),
        "savings": BankAccountFactory(company=company_a, code="1010", name="Business Savings"),
        "card": BankAccountFactory(company=company_a, code="2100", name="Credit Card", type="liability"),
        "office": Account.objects.get(company=company_a, code="6100"),
        "sales": Account.objects.get(company=company_a, code="8000"),
    }


def _line(company, bank, day, description, amount, *, guess=None):
    """A bank line; `guess` = an account a machine auto-approved for it (the classifier's wrong idea)."""
    txn = Transaction.objects.create(company=company, bank_account=bank, date=datetime.date(2025, 3, day),
                                     description=description, amount=D(amount), fingerprint=uuid.uuid4())
    if guess is not None:
        Decision.objects.create(company=company, transaction=txn, method="ml", status="auto_approved", account=guess,
                                confidence=D("0.9"))
    return txn


def _balances(company):
    totals: dict[str, Decimal] = {}
    for line in JournalLine.objects.filter(entry__company=company).select_related("account"):
        totals[line.account.code] = totals.get(line.account.code, D(0)) + line.debit - line.credit
    return {code: total for code, total in totals.items() if total}


def test_checking_to_savings_is_one_transfer_entry_not_an_expense_and_an_income(company_a, accounts):
    out = _line(company_a, accounts["checking"], 3, "ONLINE TRANSFER TO SAVINGS 4521", "-500.00",
                guess=accounts["office"])
    inc = _line(company_a, accounts["savings"], 4, "TRANSFER FROM CHK 0042", "500.00", guess=accounts["sales"])
    coffee = _line(company_a, accounts["checking"], 4, "HAMILTON COFFEE", "-4.75", guess=accounts["office"])

    result = journal_entries_propose(company=company_a)

    assert (result["transfers"], result["proposed"]) == (1, 1)  # the transfer, and the coffee as before
    entry = JournalEntry.objects.get(kind=EntryKind.TRANSFER)
    assert (entry.source_transaction, entry.counter_transaction, entry.date) == (out, inc, datetime.date(2025, 3, 3))
    assert _balances(company_a) == {"1010": D("500.00"), "1000": D("-504.75"), "6100": D("4.75")}
    decisions = {d.transaction_id: d for d in Decision.objects.filter(is_current=True, method="transfer")}
    assert (decisions[out.pk].account, decisions[inc.pk].account) == (accounts["savings"], accounts["checking"])
    assert "outgoing line names 1010 ('savings')" in decisions[out.pk].explanation["reasons"]
    assert Decision.objects.get(transaction=out, method="ml").status == "rejected"
    assert JournalEntry.objects.filter(source_transaction=coffee).count() == 1
    assert journal_entries_propose(company=company_a)["transfers"] == 0  # idempotent


def test_a_card_payment_from_checking_is_a_transfer_and_posts_directly_when_allowed(company_a, accounts):
    company_a.post_automatic_decisions = True
    company_a.save()
    out = _line(company_a, accounts["checking"], 10, "PAYMENT TO CREDIT CARD", "-1200.00")
    inc = _line(company_a, accounts["card"], 11, "PAYMENT THANK YOU", "1200.00")

    assert journal_entries_propose(company=company_a)["transfers"] == 1

    entry = JournalEntry.objects.get(kind=EntryKind.TRANSFER)
    assert entry.status == EntryStatus.POSTED
    assert _balances(company_a) == {"2100": D("1200.00"), "1000": D("-1200.00")}
    assert set(Transaction.objects.filter(pk__in=[out.pk, inc.pk]).values_list("status", flat=True)) == {"posted"}


@pytest.mark.parametrize(("out_text", "in_text", "in_day", "why"), [
    ("RENT MARCH", "STRIPE PAYOUT", 4, "neither line points at the other account"),
    ("TRANSFER TO SAVINGS", "TRANSFER FROM CHECKING", 9, "six days apart (window 3)"),
])
def test_opposite_amounts_alone_are_not_a_transfer(company_a, accounts, out_text, in_text, in_day, why):
    _line(company_a, accounts["checking"], 3, out_text, "-500.00")
    _line(company_a, accounts["savings"], in_day, in_text, "500.00")
    assert transfer_pairs(company=company_a) == [], why


def test_the_closest_candidate_wins_and_each_line_is_used_once(company_a, accounts):
    out = _line(company_a, accounts["checking"], 3, "TRANSFER TO SAVINGS", "-100.00")
    far = _line(company_a, accounts["savings"], 5, "DEPOSIT", "100.00")
    near = _line(company_a, accounts["savings"], 3, "DEPOSIT", "100.00")

    [pair] = transfer_pairs(company=company_a)

    assert (pair.outgoing, pair.incoming, pair.score) == (out, near, D("1.0"))
    assert far.pk not in {pair.outgoing.pk, pair.incoming.pk}


def test_a_persons_decision_wins_over_a_detected_transfer(company_a, accounts, reviewer_a):
    out = _line(company_a, accounts["checking"], 3, "TRANSFER TO SAVINGS", "-500.00")
    _line(company_a, accounts["savings"], 3, "TRANSFER FROM CHECKING", "500.00")
    transaction_categorize(transaction_id=out.pk, user=reviewer_a, account=accounts["office"])

    assert journal_entries_propose(company=company_a)["transfers"] == 0
    assert not JournalEntry.objects.filter(kind=EntryKind.TRANSFER).exists()


def test_reversing_a_transfer_releases_both_lines(company_a, accounts, reviewer_a):
    out = _line(company_a, accounts["checking"], 3, "TRANSFER TO SAVINGS", "-500.00")
    inc = _line(company_a, accounts["savings"], 3, "TRANSFER FROM CHECKING", "500.00")
    journal_entries_propose(company=company_a)
    entry = JournalEntry.objects.get(kind=EntryKind.TRANSFER)
    journal_entry_post(entry=entry, user=reviewer_a)

    journal_entry_reverse(entry=entry, user=reviewer_a)

    assert _balances(company_a) == {}
    assert set(Transaction.objects.filter(pk__in=[out.pk, inc.pk]).values_list("status", flat=True)) == {
        TransactionStatus.NEEDS_REVIEW}
    assert not JournalEntry.objects.filter(counter_transaction=inc).exclude(status="reversed").exists()


def test_other_companies_bank_lines_are_never_paired(company_a, company_b, accounts):
    other_savings = BankAccountFactory(company=company_b, code="1010", name="Savings")
    AccountFactory(company=company_b, code="6100")
    _line(company_a, accounts["checking"], 3, "TRANSFER TO SAVINGS", "-500.00")
    _line(company_b, other_savings, 3, "TRANSFER FROM CHECKING", "500.00")

    assert transfer_pairs(company=company_a) == [] and transfer_pairs(company=company_b) == []


def test_a_booking_from_a_stale_read_skips_a_line_a_transfer_took_meanwhile(company_a, accounts):
    """Two post_propose runs racing: the second read the decisions before the first paired the lines."""
    out = _line(company_a, accounts["checking"], 3, "TRANSFER TO SAVINGS", "-500.00", guess=accounts["office"])
    inc = _line(company_a, accounts["savings"], 3, "TRANSFER FROM CHECKING", "500.00", guess=accounts["sales"])
    stale = list(Decision.objects.filter(transaction__in=[out, inc], is_current=True).select_related("transaction"))
    assert transfers_book(company=company_a) == 1

    with transaction.atomic():
        written = _book(company=company_a, decisions=stale)

    assert written == {"proposed": 0, "posted": 0}
    assert JournalEntry.objects.exclude(status="reversed").count() == 1
    assert _balances(company_a) == {"1010": D("500.00"), "1000": D("-500.00")}


def test_a_match_cannot_take_one_side_of_a_proposed_transfer(company_a, accounts, reviewer_a):
    out = _line(company_a, accounts["checking"], 3, "TRANSFER TO SAVINGS", "-500.00")
    _line(company_a, accounts["savings"], 3, "TRANSFER FROM CHECKING", "500.00")
    journal_entries_propose(company=company_a)
    by_hand = journal_entry_create(company=company_a, date=out.date, memo="Savings by hand", post=True, lines=[
        (accounts["office"], D("500.00"), D(0)), (accounts["checking"], D(0), D("500.00"))])
    match = BankMatch.objects.create(company=company_a, transaction=out, entry=by_hand, score=D("0.8"))

    with pytest.raises(LedgerConflict, match="one side of the proposed transfer"):
        bank_match_accept(match=match, user=reviewer_a)

    assert JournalEntry.objects.filter(kind=EntryKind.TRANSFER, status="proposed").count() == 1
    assert BankMatch.objects.get(pk=match.pk).status == "suggested"
