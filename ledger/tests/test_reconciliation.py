"""Reconciliation: a hand-checked statement gives the expected difference, match and unmatched items; matches are
suggested transparently and one-to-one; accepting books the row; a balanced period is marked; unreconcile is audited."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from decisions.models import Decision
from decisions.services import transaction_categorize
from jobs.models import Job, JobKind, JobStatus
from jobs.services import job_run
from ledger.exceptions import LedgerConflict, LedgerInvalid
from ledger.models import BankMatch, EntryStatus, JournalEntry, MatchStatus, Reconciliation, ReconciliationStatus
from ledger.services import reconciliation as service
from ledger.services.postings import journal_entries_propose, journal_entry_reverse
from ledger.services.reconciliation import (
    MatchSide,
    bank_match_accept,
    bank_match_reject,
    match_suggestions,
    reconciliation_start,
    reconciliation_unreconcile,
)
from ledger.tests.reconciliation_data import JUNE, bank_row, book, hand_checked_statement, june, manual_entry
from transactions.models import Account, AuditEvent, Transaction, TransactionStatus


def reconcile(company, user=None, *, period=JUNE, bank="1000", **inputs) -> Reconciliation:
    """Start a run and let the real job machinery run it here, synchronously."""
    reconciliation = reconciliation_start(company=company, bank_account_code=bank, date_from=period[0],
                                          date_to=period[1], user=user, **inputs)
    job_run(job_id=reconciliation.job_id, worker="test")
    reconciliation.refresh_from_db()
    return reconciliation


def pairs(reconciliation, status=MatchStatus.SUGGESTED):
    return [(m.transaction_id, m.entry_id) for m in
            BankMatch.objects.filter(reconciliation=reconciliation, status=status).order_by("transaction_id")]


# ----------------------------------------------------------------------------------------- the hand-checked statement


def test_the_hand_checked_statement_shows_the_difference_the_match_and_the_unmatched_items(company_a, reviewer_a):
    statement = hand_checked_statement(company_a)

    run = reconcile(company_a, reviewer_a)

    assert (run.status, run.opening_balance, run.statement_closing_balance, run.closing_balance_source,
            run.ledger_movements, run.difference) == (
        ReconciliationStatus.UNBALANCED, Decimal("1000.00"), Decimal("882.50"), "file", Decimal("7.50"),
        Decimal("125.00"))
    summary = run.summary
    assert summary["opening_balance_source"] == "file"
    assert summary["ledger_opening_balance"] == "1000.00"
    assert summary["counts"] == {"posted": 3, "matched": 0, "suggested": 1, "proposed": 0, "missing": 1,
                                 "statement_rows": 5, "ledger_entries": 5, "unmatched_ledger": 1, "reconciled": 0}
    assert [(row["id"], row["amount"], row["state"]) for row in summary["unmatched_statement"]] == [
        (statement.fee.pk, "-5.00", "missing")]
    assert [(item["id"], item["amount"], item["memo"]) for item in summary["unmatched_ledger"]] == [
        (statement.cash_sale.pk, "120.00", "Cash sale recorded by hand")]
    assert (summary["unmatched_statement_total"], summary["unmatched_ledger_total"], summary["explained"]) == (
        "-5.00", "120.00", "125.00")
    assert summary["problems"] == []
    [match] = BankMatch.objects.filter(reconciliation=run)
    assert (match.transaction_id, match.entry_id, match.status, match.score, match.reasons) == (
        statement.rent.pk, statement.rent_entry.pk, MatchStatus.SUGGESTED, Decimal("0.800"),
        ["same amount -750.00", "2 days apart", "memo shares 'ACME', 'JUNE', 'PROPERTIES'"])
    assert not Transaction.objects.filter(reconciled_at__isnull=False).exists()  # not balanced: nothing marked
    event = AuditEvent.objects.get(action="ledger.reconcile")
    assert (event.actor, event.object_id, event.after["difference"], event.after["suggested"]) == (
        reviewer_a, str(run.pk), "125.00", 1)


def test_once_the_books_are_fixed_the_period_balances_and_its_booked_rows_are_marked(company_a, reviewer_a):
    statement = hand_checked_statement(company_a)
    first = reconcile(company_a, reviewer_a)
    # The fixes: accept the rent match, book the service charge, reverse the cash sale that never reached the bank.
    bank_match_accept(match=BankMatch.objects.get(reconciliation=first), user=reviewer_a)
    book(company_a, (statement.fee, "6100"))
    journal_entry_reverse(entry=statement.cash_sale, user=reviewer_a)

    second = reconcile(company_a, reviewer_a)

    assert (second.status, second.ledger_movements, second.difference) == (
        ReconciliationStatus.BALANCED, Decimal("-117.50"), Decimal("0.00"))
    counts = second.summary["counts"]
    assert (counts["posted"], counts["matched"], counts["missing"], counts["unmatched_ledger"], counts["reconciled"]) \
        == (4, 1, 0, 0, 5)
    assert second.summary["unmatched_ledger"] == []  # the cash sale and its reversal net to zero
    assert set(Transaction.objects.filter(reconciled_at__isnull=False).values_list("pk", flat=True)) == {
        statement.payout.pk, statement.staples.pk, statement.rent.pk, statement.fee.pk, statement.deposit.pk}


def test_a_row_missing_from_the_import_shows_as_a_balance_gap(company_a):
    bank_row(company_a, june(3), "COFFEE", "-4.00", "96.00", line=1)
    bank_row(company_a, june(9), "TEA", "-3.00", "90.00", line=3)  # the -3.00 of June 5 was not imported

    run = reconcile(company_a)

    [gap] = [problem for problem in run.summary["problems"] if problem["code"] == "balance_gap"]
    assert (gap["code"], gap["blocking"]) == ("balance_gap", False)
    assert "from 96.00" in gap["message"] and "to 90.00" in gap["message"] and "-3.00 is unaccounted for" in \
        gap["message"]
    assert (run.opening_balance, run.statement_closing_balance) == (Decimal("100.00"), Decimal("90.00"))


def test_a_newest_first_file_still_closes_on_the_last_balance_of_the_day(company_a):
    # The bank lists the newest row first: in time order June 30 went 1,000.00 -> 900.00 -> 880.00 -> 870.00.
    bank_row(company_a, june(30), "LAST OF THE DAY", "-10.00", "870.00", line=1)
    bank_row(company_a, june(30), "SECOND", "-20.00", "880.00", line=2)
    bank_row(company_a, june(30), "FIRST OF THE DAY", "-100.00", "900.00", line=3)
    bank_row(company_a, june(29), "DAY BEFORE", "50.00", "1000.00", line=4)

    run = reconcile(company_a)

    assert (run.opening_balance, run.statement_closing_balance) == (Decimal("950.00"), Decimal("870.00"))
    assert [p["code"] for p in run.summary["problems"]] == ["opening_balance_differs_from_books"]


def test_without_a_balance_column_the_users_closing_balance_is_used_and_the_opening_comes_from_the_books(
    company_a,
):
    manual_entry(company_a, datetime.date(2026, 5, 31), "Opening", "500.00", other="8000")
    row = bank_row(company_a, june(4), "STRIPE PAYOUT", "100.00")
    book(company_a, (row, "8000"))

    run = reconcile(company_a, closing_balance=Decimal("600.00"))

    assert (run.status, run.opening_balance, run.summary["opening_balance_source"], run.statement_closing_balance,
            run.closing_balance_source, run.difference) == (
        ReconciliationStatus.BALANCED, Decimal("500.00"), "ledger", Decimal("600.00"), "user", Decimal("0.00"))
    assert Transaction.objects.get(pk=row.pk).reconciled_at is not None


def test_without_any_closing_balance_the_run_still_matches_but_says_what_is_missing(company_a):
    row = bank_row(company_a, june(4), "ACME RENT", "-750.00")
    entry = manual_entry(company_a, june(4), "ACME rent", "-750.00")

    run = reconcile(company_a)

    assert (run.status, run.statement_closing_balance, run.difference) == (ReconciliationStatus.UNBALANCED, None, None)
    [problem] = run.summary["problems"]
    assert (problem["code"], problem["blocking"]) == ("closing_balance_missing", True)
    assert "Enter the closing balance" in problem["message"]
    assert pairs(run) == [(row.pk, entry.pk)]


def test_a_closing_balance_that_disagrees_with_the_file_blocks_balanced(company_a):
    row = bank_row(company_a, june(4), "STRIPE PAYOUT", "100.00", "100.00")
    book(company_a, (row, "8000"))

    run = reconcile(company_a, closing_balance=Decimal("150.00"))

    assert (run.statement_closing_balance, run.closing_balance_source, run.difference, run.status) == (
        Decimal("100.00"), "file", Decimal("0.00"), ReconciliationStatus.UNBALANCED)
    assert [p["code"] for p in run.summary["problems"] if p["blocking"]] == ["closing_balance_disagrees"]
    assert Transaction.objects.get(pk=row.pk).reconciled_at is None


# ----------------------------------------------------------------------------------------- matching


def _side(pk: int, day: int, amount: str = "-20.00", text: str = "") -> MatchSide:
    return MatchSide(pk, june(day), Decimal(amount), text)


def test_identical_candidates_pair_the_lower_ids_first():
    suggestions = match_suggestions(rows=[_side(12, 5), _side(11, 5)], entries=[_side(22, 5), _side(21, 5)],
                                    window_days=3)

    assert [(s.transaction_id, s.entry_id, s.score) for s in suggestions] == [
        (11, 21, Decimal("0.800")), (12, 22, Decimal("0.800"))]


def test_the_closer_date_and_shared_words_win_over_lower_ids():
    suggestions = match_suggestions(
        rows=[_side(1, 10, text="HAMILTON COFFEE"), _side(2, 10)],
        entries=[_side(3, 12), _side(4, 11, text="Coffee at Hamilton's"), _side(5, 10)],
        window_days=3,
    )

    assert [(s.transaction_id, s.entry_id, s.score, s.reasons) for s in suggestions] == [
        (1, 4, Decimal("0.900"), ["same amount -20.00", "1 day apart", "memo shares 'COFFEE', 'HAMILTON'"]),
        (2, 5, Decimal("0.800"), ["same amount -20.00", "same day"]),
    ]


@pytest.mark.parametrize(("row", "entry", "window", "expected"), [
    (_side(1, 10), _side(2, 13), 3, [(1, 2)]),
    (_side(1, 10), _side(2, 14), 3, []),  # outside the window
    (_side(1, 10), _side(2, 10, amount="20.00"), 3, []),  # money in is not money out
    (_side(1, 10), _side(2, 10, amount="-20.01"), 3, []),
])
def test_a_match_needs_the_same_amount_within_the_window(row, entry, window, expected):
    found = match_suggestions(rows=[row], entries=[entry], window_days=window)

    assert [(s.transaction_id, s.entry_id) for s in found] == expected


def test_a_run_pairs_identical_rows_and_entries_by_ascending_ids(company_a):
    rows = [bank_row(company_a, june(7), "TRANSFER TO SAVINGS", "-200.00") for _ in range(2)]
    entries = [manual_entry(company_a, june(7), "Savings", "-200.00") for _ in range(2)]

    run = reconcile(company_a, closing_balance=Decimal("-400.00"))

    assert pairs(run) == [(rows[0].pk, entries[0].pk), (rows[1].pk, entries[1].pk)]


def test_rows_with_only_a_proposed_entry_are_matched_and_posted_entries_are_not(company_a):
    posted = bank_row(company_a, june(3), "ACME RENT", "-750.00")
    book(company_a, (posted, "6100"))
    proposed = bank_row(company_a, june(3), "ACME RENT", "-750.00")
    book(company_a, (proposed, "6100"), post=False)
    entry = manual_entry(company_a, june(3), "Rent", "-750.00")

    run = reconcile(company_a, closing_balance=Decimal("-1500.00"))

    assert pairs(run) == [(proposed.pk, entry.pk)]


# ----------------------------------------------------------------------------------------- accept, reject


def test_accepting_books_the_row_so_post_propose_skips_it_and_its_proposal_is_withdrawn(company_a, reviewer_a):
    row = bank_row(company_a, june(3), "ACME RENT", "-750.00")
    book(company_a, (row, "6100"), post=False)  # a proposed entry waits for the row
    entry = manual_entry(company_a, june(2), "ACME rent", "-750.00")
    match = BankMatch.objects.get(reconciliation=reconcile(company_a, closing_balance=Decimal("-750.00")))
    proposal = JournalEntry.objects.get(source_transaction=row, status=EntryStatus.PROPOSED)

    accepted = bank_match_accept(match=match, user=reviewer_a)

    assert (accepted.status, accepted.decided_by, accepted.decided_at is not None) == (
        MatchStatus.ACCEPTED, reviewer_a, True)
    assert not JournalEntry.objects.filter(source_transaction=row).exists()  # the proposal is withdrawn
    assert Transaction.objects.get(pk=row.pk).status == TransactionStatus.POSTED
    assert journal_entries_propose(company=company_a)["proposed"] == 0  # the decision is not booked again
    assert not JournalEntry.objects.filter(source_transaction=row).exists()
    event = AuditEvent.objects.get(action="ledger.match_accept")
    assert (event.actor, event.object_id, event.after["entry"], event.after["withdrawn_proposals"]) == (
        reviewer_a, str(match.pk), entry.pk, [proposal.pk])


def test_a_person_categorizing_a_matched_row_does_not_book_it_again(company_a, reviewer_a):
    row = bank_row(company_a, june(3), "ACME RENT", "-750.00")
    manual_entry(company_a, june(3), "ACME rent", "-750.00")
    run = reconcile(company_a, closing_balance=Decimal("-750.00"))
    bank_match_accept(match=BankMatch.objects.get(reconciliation=run), user=reviewer_a)

    transaction_categorize(transaction_id=row.pk, user=reviewer_a,
                           account=Account.objects.get(company=company_a, code="6100"))

    assert not JournalEntry.objects.filter(source_transaction=row).exists()
    assert Decision.objects.get(transaction=row, is_current=True).account.code == "6100"


def test_accepting_a_match_of_a_balanced_run_marks_the_row_reconciled(company_a, reviewer_a):
    row = bank_row(company_a, june(3), "ACME RENT", "-750.00")
    manual_entry(company_a, june(3), "ACME rent", "-750.00")
    run = reconcile(company_a, closing_balance=Decimal("-750.00"))
    assert (run.status, run.summary["counts"]["reconciled"]) == (ReconciliationStatus.BALANCED, 0)

    bank_match_accept(match=BankMatch.objects.get(reconciliation=run), user=reviewer_a)

    assert Transaction.objects.get(pk=row.pk).reconciled_at is not None
    run.refresh_from_db()
    assert (run.summary["counts"]["matched"], run.summary["counts"]["suggested"],
            run.summary["counts"]["reconciled"]) == (1, 0, 1)


def test_a_match_can_be_decided_only_once(company_a, reviewer_a):
    bank_row(company_a, june(3), "ACME RENT", "-750.00")
    manual_entry(company_a, june(3), "ACME rent", "-750.00")
    match = BankMatch.objects.get(reconciliation=reconcile(company_a, closing_balance=Decimal("-750.00")))
    bank_match_accept(match=match, user=reviewer_a)

    with pytest.raises(LedgerConflict, match=f"Match {match.pk} is already accepted; only a suggested match can be"):
        bank_match_accept(match=match, user=reviewer_a)
    with pytest.raises(LedgerConflict, match="only a suggested match can be rejected"):
        bank_match_reject(match=match, user=reviewer_a)
    assert BankMatch.objects.get(pk=match.pk).status == MatchStatus.ACCEPTED


def test_a_match_whose_entry_was_reversed_meanwhile_cannot_be_accepted(company_a, reviewer_a):
    row = bank_row(company_a, june(3), "ACME RENT", "-750.00")
    entry = manual_entry(company_a, june(3), "ACME rent", "-750.00")
    match = BankMatch.objects.get(reconciliation=reconcile(company_a, closing_balance=Decimal("-750.00")))
    journal_entry_reverse(entry=entry, user=reviewer_a)

    with pytest.raises(LedgerConflict, match=f"Entry #{entry.pk} is reversed now"):
        bank_match_accept(match=match, user=reviewer_a)
    assert (BankMatch.objects.get(pk=match.pk).status, Transaction.objects.get(pk=row.pk).status) == (
        MatchStatus.SUGGESTED, TransactionStatus.UNCATEGORIZED)


def test_a_rejected_pair_is_listed_as_unmatched_and_never_suggested_again(company_a, reviewer_a):
    row = bank_row(company_a, june(3), "ACME RENT", "-750.00")
    entry = manual_entry(company_a, june(3), "ACME rent", "-750.00")
    run = reconcile(company_a, closing_balance=Decimal("-750.00"))
    match = BankMatch.objects.get(reconciliation=run)

    bank_match_reject(match=match, user=reviewer_a)

    run.refresh_from_db()
    assert ([r["id"] for r in run.summary["unmatched_statement"]], [i["id"] for i in run.summary["unmatched_ledger"]],
            run.summary["explained"]) == ([row.pk], [entry.pk], "0.00")
    assert AuditEvent.objects.filter(action="ledger.match_reject", object_id=str(match.pk)).count() == 1
    again = reconcile(company_a, closing_balance=Decimal("-750.00"))
    assert pairs(again) == []
    assert again.summary["counts"]["missing"] == 1


# ----------------------------------------------------------------------------------------- unreconcile


def _balanced_run(company, user):
    rows = [bank_row(company, june(day), f"SALE {day}", "100.00", f"{100 * day}.00", line=day) for day in (1, 2)]
    book(company, *[(row, "8000") for row in rows])
    run = reconcile(company, user)
    assert run.status == ReconciliationStatus.BALANCED
    return run, rows


def test_unreconcile_clears_the_marks_and_writes_an_audit_event(company_a, reviewer_a):
    run, rows = _balanced_run(company_a, reviewer_a)
    assert Transaction.objects.filter(reconciled_at__isnull=False).count() == 2

    count = reconciliation_unreconcile(reconciliation=run, user=reviewer_a)

    assert count == 2
    assert not Transaction.objects.filter(reconciled_at__isnull=False).exists()
    event = AuditEvent.objects.get(action="ledger.unreconcile")
    assert (event.actor, event.object_type, event.object_id, event.before, event.after) == (
        reviewer_a, "Reconciliation", str(run.pk), {"reconciled": 2, "transactions": [r.pk for r in rows]},
        {"reconciled": 0, "reconciliation": run.pk})
    run.refresh_from_db()
    assert run.summary["unreconciled"]["rows"] == 2
    with pytest.raises(LedgerConflict, match="Nothing to unreconcile"):
        reconciliation_unreconcile(reconciliation=run, user=reviewer_a)


def test_unreconcile_of_one_row_keeps_the_others(company_a, reviewer_a):
    run, rows = _balanced_run(company_a, reviewer_a)
    outside = bank_row(company_a, datetime.date(2026, 7, 1), "JULY", "1.00")

    reconciliation_unreconcile(reconciliation=run, user=reviewer_a, transaction_id=rows[0].pk)

    assert list(Transaction.objects.filter(reconciled_at__isnull=False).values_list("pk", flat=True)) == [rows[1].pk]
    assert AuditEvent.objects.get(action="ledger.unreconcile").object_type == "Transaction"
    with pytest.raises(LedgerInvalid, match=f"Transaction {outside.pk} is not a bank row of reconciliation"):
        reconciliation_unreconcile(reconciliation=run, user=reviewer_a, transaction_id=outside.pk)


# ----------------------------------------------------------------------------------------- requests and the job


@pytest.mark.parametrize(("changes", "message"), [
    ({"bank_account_code": "9999"}, "Alpha Bakery has no account with code '9999'."),
    ({"bank_account_code": "6100"}, "Account 6100 Office Supplies is not a bank account"),
    ({"date_from": june(30), "date_to": june(1)}, "date_from (2026-06-30) must not be after date_to (2026-06-01)"),
    ({"window_days": 8}, "window_days must be between 0 and 7 days, got 8"),
    ({"closing_balance": Decimal("1.005")}, "closing_balance must be an amount with at most 2 decimal places"),
])
def test_a_request_that_cannot_be_reconciled_is_refused_precisely(company_a, changes, message):
    request = {"company": company_a, "bank_account_code": "1000", "date_from": june(1), "date_to": june(30),
               "user": None, **changes}

    with pytest.raises(LedgerInvalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        reconciliation_start(**request)
    assert (Reconciliation.objects.count(), Job.objects.count()) == (0, 0)


def test_the_job_is_queued_only_when_the_request_commits(company_a, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("jobs.services.job_enqueue", lambda **kwargs: sent.append(kwargs))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = reconciliation_start(company=company_a, bank_account_code="1000", date_from=june(1), date_to=june(30),
                                   user=None, closing_balance=Decimal("5.00"))
        assert sent == []

    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [{"job_id": run.job_id, "kind": JobKind.RECONCILE}]
    assert (run.job.params, run.status) == ({"reconciliation_id": run.pk, "closing_balance": "5.00",
                                             "opening_balance": None, "window_days": 3}, ReconciliationStatus.RUNNING)


def test_running_the_job_twice_leaves_the_same_state(company_a):
    hand_checked_statement(company_a)
    run = reconcile(company_a)
    first = (pairs(run), run.difference, {k: v for k, v in run.summary.items() if k != "finished_at"})

    service.reconcile_job(job=Job.objects.get(pk=run.job_id))

    run.refresh_from_db()
    assert (pairs(run), run.difference, {k: v for k, v in run.summary.items() if k != "finished_at"}) == first
    assert BankMatch.objects.count() == 1
    job = Job.objects.get(pk=run.job_id)
    assert (job.status, job.result["reconciliation_id"], job.result["difference"]) == (
        JobStatus.FINISHED, run.pk, "125.00")


def test_a_crashing_run_fails_its_job_and_says_so_on_the_reconciliation(company_a, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "_figures", broken)

    run = reconcile(company_a)

    job = Job.objects.get(pk=run.job_id)
    assert (job.status, job.error_code) == (JobStatus.FAILED, "internal_error")
    assert (run.status, run.summary["error"]) == (ReconciliationStatus.FAILED, "RuntimeError: disk on fire")


def test_a_job_naming_another_companys_reconciliation_fails_without_touching_it(company_a, company_b):
    run = reconciliation_start(company=company_a, bank_account_code="1000", date_from=june(1), date_to=june(30),
                               user=None)
    job = Job.objects.create(company=company_b, kind=JobKind.RECONCILE, params={"reconciliation_id": run.pk})

    job_run(job_id=job.id, worker="test")

    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "ledger_invalid")
    assert f"names reconciliation {run.pk}, which is not a reconciliation of beta-builders" in job.error
    assert Reconciliation.objects.get(pk=run.pk).status == ReconciliationStatus.RUNNING


def test_entries_that_are_only_proposed_do_not_count_as_movements(company_a):
    row = bank_row(company_a, june(3), "STAPLES", "-12.50", "87.50")
    book(company_a, (row, "6100"), post=False)

    run = reconcile(company_a)

    assert (run.ledger_movements, run.difference) == (Decimal("0.00"), Decimal("12.50"))
    assert [(r["id"], r["state"]) for r in run.summary["unmatched_statement"]] == [(row.pk, "proposed")]
    assert JournalEntry.objects.get(source_transaction=row).status == EntryStatus.PROPOSED


@pytest.mark.worker
def test_a_reconcile_job_runs_on_a_real_worker(company_a, reviewer_a, worker_factory):
    from conftest import wait_for

    statement = hand_checked_statement(company_a)
    run = reconciliation_start(company=company_a, bank_account_code="1000", date_from=JUNE[0], date_to=JUNE[1],
                               user=reviewer_a)  # transactional test: the job is sent when this commits
    worker = worker_factory()

    def finished() -> Reconciliation | None:
        run.refresh_from_db()
        return run if run.status != ReconciliationStatus.RUNNING else None

    wait_for(finished, timeout=60, message=lambda: f"the reconcile job did not finish; worker log:\n{worker.log()}")

    assert (run.status, run.difference, pairs(run)) == (
        ReconciliationStatus.UNBALANCED, Decimal("125.00"), [(statement.rent.pk, statement.rent_entry.pk)])
    assert Job.objects.get(pk=run.job_id).status == JobStatus.FINISHED


@pytest.mark.parametrize("period", [(datetime.date(1, 1, 1), june(30)), (june(1), datetime.date(9999, 12, 31))])
def test_a_period_at_the_edge_of_the_calendar_is_refused_up_front(company_a, period):
    with pytest.raises(LedgerInvalid, match="must be between"):
        reconciliation_start(company=company_a, bank_account_code="1000", date_from=period[0], date_to=period[1],
                             user=None)
    assert not Reconciliation.objects.exists()
