"""Entries by hand, posting, reversing (unpost) and undoing a whole import - with the audit trail, and on
PostgreSQL with the triggers watching."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef
from django.utils import timezone

from decisions.models import Decision, DecisionStatus
from decisions.services import transaction_categorize
from ledger.exceptions import LedgerConflict, LedgerInvalid
from ledger.models import BankMatch, EntryKind, EntryStatus, JournalEntry, JournalLine
from ledger.selectors import booked
from ledger.services.postings import (
    journal_entries_post,
    journal_entries_propose,
    journal_entry_create,
    journal_entry_post,
    journal_entry_reverse,
)
from ledger.services.undo import import_undo
from ledger.tests.test_postings import _decide, _lines
from rules.tests.factories import add_lines
from transactions.models import Account, AuditEvent, ImportStatus, Transaction, TransactionStatus
from transactions.tests.factories import AccountFactory
from transactions.tests.test_ingest import JANUARY, run_import

D = Decimal


def _account(company, code):
    return Account.objects.get(company=company, code=code)


def _balances(company):
    """Σ debit - credit per account code over what is in the books (posted and reversed entries)."""
    totals: dict[str, Decimal] = {}
    for line in JournalLine.objects.filter(entry__company=company, entry__status__in=["posted", "reversed"]) \
            .select_related("account"):
        totals[line.account.code] = totals.get(line.account.code, D(0)) + line.debit - line.credit
    return {code: total for code, total in totals.items() if total}


def test_an_entry_by_hand_is_proposed_then_posted(company_a, reviewer_a):
    entry = journal_entry_create(
        company=company_a, date=datetime.date(2025, 3, 1), memo="Owner's loan", user=reviewer_a,
        lines=[(_account(company_a, "1000"), D("500.00"), D(0)), (_account(company_a, "8000"), D(0), D("500.00"))],
    )
    assert (entry.kind, entry.status, _balances(company_a)) == (EntryKind.MANUAL, EntryStatus.PROPOSED, {})

    journal_entry_post(entry=entry, user=reviewer_a)

    entry.refresh_from_db()
    assert (entry.status, entry.posted_by, entry.posted_at is not None) == (EntryStatus.POSTED, reviewer_a, True)
    assert _balances(company_a) == {"1000": D("500.00"), "8000": D("-500.00")}
    with pytest.raises(LedgerConflict, match="only a proposed entry"):
        journal_entry_post(entry=entry, user=reviewer_a)
    assert AuditEvent.objects.filter(action="ledger.post", company=company_a).count() == 1


@pytest.mark.parametrize(("lines", "message"), [
    ([("1000", "10.00", "0"), ("8000", "0", "9.99")], "debits (10.00) must equal credits (9.99)"),
    ([("1000", "10.00", "0")], "at least two lines"),
    ([("1000", "10.00", "10.00"), ("8000", "0", "0")], "lines[0]: expected exactly one of debit and credit"),
    ([("1000", "10.001", "0"), ("8000", "0", "10.001")], "lines[0].debit: expected at most 2 decimal places"),
    ([("1000", "5.00", "0"), ("B-1000", "0", "5.00")], "lines[1].account: 1000 is not an active account"),
])
def test_an_entry_by_hand_must_be_balanced_and_on_the_companys_accounts(company_a, company_b, lines, message):
    def account(code):
        return _account(company_b, code[2:]) if code.startswith("B-") else _account(company_a, code)

    with pytest.raises(LedgerInvalid) as error:
        journal_entry_create(company=company_a, date=datetime.date(2025, 3, 1), memo="x",
                             lines=[(account(code), D(debit), D(credit)) for code, debit, credit in lines])
    assert message in error.value.message
    assert not JournalEntry.objects.exists()


def test_posting_in_bulk_touches_only_the_companys_proposed_entries(company_a, company_b, reviewer_a):
    AccountFactory(company=company_b, code="6100", name="Materials")
    mine = _decide(company_a, "STAPLES", "-12.50", "6100")
    theirs = _decide(company_b, "LUMBER", "-80.00", "6100")
    journal_entries_propose(company=company_a)
    journal_entries_propose(company=company_b)
    foreign_entry = JournalEntry.objects.get(source_transaction=theirs)

    assert journal_entries_post(company=company_a, entry_ids=[foreign_entry.pk], user=reviewer_a) == 0
    assert journal_entries_post(company=company_a, entry_ids=None, user=reviewer_a) == 1

    assert JournalEntry.objects.get(source_transaction=mine).status == EntryStatus.POSTED
    assert Transaction.objects.get(pk=mine.pk).status == TransactionStatus.POSTED
    assert JournalEntry.objects.get(source_transaction=theirs).status == EntryStatus.PROPOSED


def test_reversing_an_entry_nets_it_to_zero_and_sends_the_transaction_back_to_review(company_a, reviewer_a):
    line = _decide(company_a, "STAPLES", "-12.50", "6100")
    journal_entries_propose(company=company_a)
    entry = JournalEntry.objects.get(source_transaction=line)
    journal_entry_post(entry=entry, user=reviewer_a)
    assert _balances(company_a) == {"6100": D("12.50"), "1000": D("-12.50")}

    reversal = journal_entry_reverse(entry=entry, user=reviewer_a, date=datetime.date(2025, 4, 1))

    entry.refresh_from_db()
    assert (entry.status, reversal.status, reversal.kind, reversal.reverses_id, reversal.date) == (
        EntryStatus.REVERSED, EntryStatus.POSTED, EntryKind.REVERSAL, entry.pk, datetime.date(2025, 4, 1))
    assert _lines(reversal) == [("6100", 0, D("12.50")), ("1000", D("12.50"), 0)]
    assert _balances(company_a) == {}
    assert Transaction.objects.get(pk=line.pk).status == TransactionStatus.NEEDS_REVIEW
    assert Decision.objects.get(transaction=line, is_current=True).status == DecisionStatus.NEEDS_REVIEW
    # Not booked again by the next job; a person's new decision proposes a fresh entry.
    assert journal_entries_propose(company=company_a)["proposed"] == 0
    transaction_categorize(transaction_id=line.pk, user=reviewer_a, account=_account(company_a, "8000"))
    fresh = JournalEntry.objects.get(source_transaction=line, status=EntryStatus.PROPOSED)
    assert _lines(fresh) == [("8000", D("12.50"), 0), ("1000", 0, D("12.50"))]
    with pytest.raises(LedgerConflict, match="reversed"):
        journal_entry_reverse(entry=entry, user=reviewer_a)
    with pytest.raises(LedgerConflict, match="a reversal itself"):
        journal_entry_reverse(entry=reversal, user=reviewer_a)
    assert AuditEvent.objects.filter(action="ledger.reverse", object_id=str(entry.pk)).count() == 1


def test_reversing_a_matched_entry_releases_the_bank_line(company_a, reviewer_a):
    [line] = add_lines(company_a, "ACME PROPERTIES RENT", 1, amount="-750.00")
    entry = journal_entry_create(
        company=company_a, date=line.date, memo="Rent by hand", user=reviewer_a, post=True,
        lines=[(_account(company_a, "6100"), D("750.00"), D(0)), (_account(company_a, "1000"), D(0), D("750.00"))],
    )
    BankMatch.objects.create(company=company_a, transaction=line, entry=entry, score=D("0.8"), status="accepted")
    Transaction.objects.filter(pk=line.pk).update(reconciled_at=timezone.now())
    assert Transaction.objects.filter(pk=line.pk).filter(booked(OuterRef("pk"))).exists()

    journal_entry_reverse(entry=entry, user=reviewer_a)

    assert BankMatch.objects.get(transaction=line).status == "rejected"
    line.refresh_from_db()
    assert (line.reconciled_at, line.status) == (None, TransactionStatus.NEEDS_REVIEW)
    assert not Transaction.objects.filter(pk=line.pk).filter(booked(OuterRef("pk"))).exists()


def _import_and_decide(company, reviewer):
    batch = run_import(company, JANUARY)
    for txn in Transaction.objects.filter(import_batch=batch):
        account = "8000" if txn.amount > 0 else "6100"
        transaction_categorize(transaction_id=txn.pk, user=reviewer, account=_account(company, account))
    return batch


def test_undoing_an_import_before_posting_removes_its_transactions_decisions_and_proposals(company_a, reviewer_a):
    batch = _import_and_decide(company_a, reviewer_a)
    assert JournalEntry.objects.filter(company=company_a, status=EntryStatus.PROPOSED).count() == 4

    result = import_undo(batch=batch, user=reviewer_a)

    assert result == {"import_id": str(batch.pk), "transactions_removed": 4, "entries_withdrawn": 4, "entries_reversed": 0}
    assert not Transaction.objects.filter(company=company_a).exists()
    assert not Decision.objects.filter(company=company_a).exists()
    assert not JournalEntry.objects.filter(company=company_a).exists()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.UNDONE
    event = AuditEvent.objects.get(action="import.undo")
    assert (event.actor, event.after["transactions_removed"]) == (reviewer_a, "4")
    with pytest.raises(LedgerConflict, match="already been undone"):
        import_undo(batch=batch, user=reviewer_a)


def test_undoing_an_import_after_posting_reverses_the_entries_and_the_file_can_come_back(company_a, reviewer_a):
    batch = _import_and_decide(company_a, reviewer_a)
    posted = JournalEntry.objects.filter(company=company_a).order_by("id")[:2]
    journal_entries_post(company=company_a, entry_ids=[entry.pk for entry in posted], user=reviewer_a)
    before = _balances(company_a)
    assert before  # two entries are in the books

    result = import_undo(batch=batch, user=reviewer_a)

    assert (result["entries_withdrawn"], result["entries_reversed"], result["transactions_removed"]) == (2, 2, 4)
    assert _balances(company_a) == {}
    kept = JournalEntry.objects.filter(company=company_a)
    assert sorted(kept.values_list("kind", "status")) == sorted(
        [("reversal", "posted")] * 2 + [("transaction", "reversed")] * 2)
    assert not kept.filter(source_transaction__isnull=False).exists()
    assert all("STAPLES" in e.memo or "COFFEE" in e.memo or "STRIPE" in e.memo for e in kept)

    again = run_import(company_a, JANUARY)
    assert (again.imported_count, again.duplicate_count) == (4, 0)


def test_an_import_still_running_cannot_be_undone(company_a, reviewer_a):
    batch = run_import(company_a, JANUARY)
    batch.status = ImportStatus.IMPORTING
    batch.save(update_fields=["status"])
    with pytest.raises(LedgerConflict, match="once its job has finished"):
        import_undo(batch=batch, user=reviewer_a)
    assert Transaction.objects.filter(import_batch=batch).count() == 4


postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_reversed_entry_may_only_let_go_of_its_transaction(company_a, reviewer_a):
    line = _decide(company_a, "STAPLES", "-12.50", "6100")
    journal_entries_propose(company=company_a)
    entry = JournalEntry.objects.get(source_transaction=line)
    journal_entry_post(entry=entry, user=reviewer_a)
    journal_entry_reverse(entry=entry, user=reviewer_a)

    for sql in ("UPDATE ledger_journalentry SET memo = 'changed' WHERE id = %s",
                "UPDATE ledger_journalentry SET status = 'posted' WHERE id = %s",
                "DELETE FROM ledger_journalentry WHERE id = %s"):
        with pytest.raises(IntegrityError, match="reversed journal entry cannot change|cannot be deleted"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [entry.pk])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_journalentry SET source_transaction_id = NULL WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert (entry.source_transaction_id, entry.status, entry.memo) == (None, EntryStatus.REVERSED, line.description)


def test_a_posted_transaction_cannot_be_categorized_again_until_its_entry_is_reversed(company_a, reviewer_a):
    line = _decide(company_a, "STAPLES", "-12.50", "6100")
    journal_entries_propose(company=company_a)
    entry = JournalEntry.objects.get(source_transaction=line)
    journal_entry_post(entry=entry, user=reviewer_a)

    with pytest.raises(LedgerConflict, match="posted .* reverse that entry first, then categorize it again"):
        transaction_categorize(transaction_id=line.pk, user=reviewer_a, account=_account(company_a, "8000"))
    assert Transaction.objects.get(pk=line.pk).status == TransactionStatus.POSTED
    assert Decision.objects.get(transaction=line, is_current=True).account.code == "6100"

    journal_entry_reverse(entry=entry, user=reviewer_a)
    transaction_categorize(transaction_id=line.pk, user=reviewer_a, account=_account(company_a, "8000"))
    assert JournalEntry.objects.get(source_transaction=line, status=EntryStatus.PROPOSED).lines.count() == 2


def test_approving_a_group_skips_a_transaction_that_is_in_the_books_and_approves_the_rest(company_a, reviewer_a):
    from decisions.services import decisions_approve

    company_a.post_automatic_decisions = True
    company_a.save()
    posted = _decide(company_a, "STAPLES", "-12.50", "6100")  # auto-approved, then posted by the job
    waiting = _decide(company_a, "STAPLES", "-7.00", "6100", status="needs_review", method="ml_suggestion")
    journal_entries_propose(company=company_a)
    assert Transaction.objects.get(pk=posted.pk).status == TransactionStatus.POSTED

    result = decisions_approve(decision_ids=[d.pk for d in Decision.objects.filter(company=company_a)],
                               user=reviewer_a)

    assert result["approved"] == 1 and sum(result["skipped"].values()) == 1
    assert Decision.objects.get(transaction=waiting, is_current=True).status == DecisionStatus.APPROVED
    assert JournalEntry.objects.get(source_transaction=posted).status == EntryStatus.POSTED
