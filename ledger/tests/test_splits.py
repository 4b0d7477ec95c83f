"""Splits: the arithmetic (parts add up to the cent, deterministically, with the transaction's sign), the precise
validation messages, and the service that stores a person's split, records their decision and proposes the entry."""
from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decisions.exceptions import DecisionConflict
from decisions.models import Decision, DecisionMethod, DecisionStatus
from decisions.services import transaction_categorize
from ledger.exceptions import LedgerConflict, LedgerInvalid
from ledger.models import BankMatch, EntryStatus, JournalEntry, MatchStatus, SplitLine
from ledger.services.postings import journal_entries_post
from ledger.services.splits import (
    MAX_SPLIT_PARTS,
    SplitPart,
    split_allocate,
    split_parts_parse,
    transaction_split,
)
from transactions.models import Account, AuditEvent, Transaction, TransactionStatus
from transactions.tests.factories import AccountFactory

D = Decimal


def P(account: str = "", amount: str | None = None, percent: str | None = None, memo: str = "") -> SplitPart:
    return SplitPart(account=account, amount=None if amount is None else D(amount),
                     percent=None if percent is None else D(percent), memo=memo)


def fields_of(error: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return error.value.extra["fields"]


# ------------------------------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(("amount", "parts", "expected"), [
    pytest.param("100.00", [P("a", percent="33.33"), P("b", percent="33.33"), P("c", percent="33.33")],
                 ["33.34", "33.33", "33.33"], id="three equal percentages: the odd cent to the first part"),
    pytest.param("-100.00", [P("a", percent="33.3333"), P("b", percent="33.3333"), P("c", percent="33.3333")],
                 ["-33.34", "-33.33", "-33.33"], id="the same for money out"),
    pytest.param("10.00", [P("a", percent="33.3333"), P("b", percent="33.3333"), P("c", percent="33.3334")],
                 ["3.33", "3.33", "3.34"], id="the largest fraction of a cent wins, not the first part"),
    pytest.param("0.05", [P("a", percent="50"), P("b", percent="50")], ["0.03", "0.02"],
                 id="a tie of fractions goes to the earliest part"),
    pytest.param("-0.02", [P("a", percent="50"), P("b", percent="50")], ["-0.01", "-0.01"], id="two cents, two parts"),
    pytest.param("-250.00", [P("a", amount="-49.99"), P("b")], ["-49.99", "-200.01"], id="fixed + remainder"),
    pytest.param("-250.00", [P("a", amount="49.99"), P("b")], ["-49.99", "-200.01"],
                 id="the sign of a fixed amount may be left out"),
    pytest.param("-100.00", [P("a", amount="20"), P("b", percent="50"), P("c")], ["-20.00", "-40.00", "-40.00"],
                 id="percentages share what the fixed amounts leave; the remainder takes the rest"),
    pytest.param("100.00", [P("a", percent="50"), P("b", amount="10.00"), P("c", percent="50")],
                 ["45.00", "10.00", "45.00"], id="fixed amounts come first wherever they stand"),
    pytest.param("0.05", [P("a", percent="50"), P("b")], ["0.03", "0.02"],
                 id="with a remainder part the percentage parts get their exact total rounded half up"),
    pytest.param("1000.00", [P("a", amount="999.99"), P("b")], ["999.99", "0.01"], id="a remainder of one cent"),
])
def test_parts_add_up_to_the_cent_deterministically(amount, parts, expected):
    allocated = split_allocate(D(amount), parts)

    assert allocated == [D(value) for value in expected]
    assert sum(allocated) == D(amount)
    assert split_allocate(D(amount), parts) == allocated  # the same input, the same cents


def test_one_cent_cannot_be_split_in_two():
    with pytest.raises(LedgerInvalid) as error:
        split_allocate(D("-0.01"), [P("a", percent="50"), P("b", percent="50")])

    assert fields_of(error) == {
        "parts[1].percent": ["50 % of 0.01 is less than a cent once rounded: every part needs at least 0.01"]}


def test_one_cent_leaves_nothing_for_a_remainder_part():
    with pytest.raises(LedgerInvalid) as error:
        split_allocate(D("-0.01"), [P("a", amount="-0.01"), P("b")])

    assert fields_of(error) == {"parts[1]": [
        "nothing is left for this part (the remainder): the fixed amounts already take the whole amount"]}


# ------------------------------------------------------------------------------------------------ properties

cents = st.integers(min_value=1, max_value=10**11).map(lambda value: D(value) / 100)
signed_amounts = st.tuples(cents, st.booleans()).map(lambda pair: pair[0] if pair[1] else -pair[0])


@st.composite
def percentages_of_100(draw, count: int) -> list[Decimal]:
    """`count` percentages in hundredths of a percent, each above 0, adding up to exactly 100."""
    cuts = sorted(draw(st.lists(st.integers(1, 9999), min_size=count - 1, max_size=count - 1, unique=True)))
    bounds = [0, *cuts, 10000]
    return [D(high - low) / 100 for low, high in zip(bounds, bounds[1:])]


@st.composite
def splits(draw) -> tuple[Decimal, list[SplitPart]]:
    """An amount and parts: some fixed (fractions of the amount), some percentages, maybe one remainder part, in a
    random order. Not every draw is valid (a share may round to nothing): the test says which errors may occur."""
    amount = draw(signed_amounts)
    magnitude = int(abs(amount) * 100)
    percent_count = draw(st.integers(0, 4))
    fixed_count = draw(st.integers(0 if percent_count else 1, 3))
    remainder = draw(st.booleans()) or fixed_count + percent_count < 2 or (percent_count == 0 and fixed_count > 0)
    fixed = [draw(st.integers(1, max(1, magnitude // 8))) for _ in range(fixed_count)]
    if remainder:
        percents = [D(draw(st.integers(1, 9000 // max(1, percent_count)))) / 100 for _ in range(percent_count)]
    else:
        percents = draw(percentages_of_100(percent_count)) if percent_count else []
    parts = ([SplitPart(amount=D(value) / 100 * draw(st.sampled_from([1, -1 if amount < 0 else 1]))) for value in fixed]
             + [SplitPart(percent=value) for value in percents] + ([SplitPart()] if remainder else []))
    order = draw(st.permutations(range(len(parts))))
    return amount, [SplitPart(account=f"acct{position}", amount=parts[index].amount, percent=parts[index].percent)
                    for position, index in enumerate(order)]


@settings(max_examples=400, deadline=None)
@given(splits())
def test_any_valid_split_adds_up_exactly_with_the_transactions_sign(case):
    amount, parts = case
    try:
        allocated = split_allocate(amount, parts)
    except LedgerInvalid as error:
        # The only way these parts fail: a share that rounds to nothing, or fixed amounts that leave nothing.
        messages = [message for problems in error.extra["fields"].values() for message in problems]
        assert all("less than a cent" in message or "nothing is left" in message
                   or "more than the transaction's" in message for message in messages), messages
        return

    assert sum(allocated) == amount
    assert all(part != 0 and (part > 0) == (amount > 0) and part == part.quantize(D("0.01")) for part in allocated)
    assert split_allocate(amount, parts) == allocated
    fixed = [abs(part.amount) for part in parts if part.amount is not None]
    assert [abs(value) for value, part in zip(allocated, parts) if part.amount is not None] == fixed
    rest = abs(amount) - sum(fixed, D(0))
    percents = [part.percent for part in parts if part.percent is not None]
    base = sum(percents, D(0)) if not any(part.takes_remainder for part in parts) else D(100)
    for value, part in zip(allocated, parts):
        if part.percent is not None:  # within a cent of its exact share
            exact = Fraction(part.percent) / Fraction(base) * Fraction(rest)
            assert abs(Fraction(abs(value)) - exact) < Fraction(1, 100)


# ------------------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(("amount", "parts", "expected"), [
    pytest.param("-10.00", [P("a", amount="-10.00")], {"parts": [
        "expected at least 2 parts, got 1: one account for the whole amount is a plain categorization"]},
        id="one part"),
    pytest.param("-10.00", [P(f"a{i}", amount="-0.01") for i in range(MAX_SPLIT_PARTS + 1)],
                 {"parts": [f"expected at most {MAX_SPLIT_PARTS} parts, got {MAX_SPLIT_PARTS + 1}"]}, id="too many"),
    pytest.param("0.00", [P("a", percent="50"), P("b")],
                 {"parts": ["the transaction's amount is 0.00: there is nothing to split"]}, id="zero transaction"),
    pytest.param("-10.00", [P("6100", amount="-5"), P("6100")],
                 {"parts[1].account": ["6100 is already parts[0]'s account: give each account once"]},
                 id="an account twice"),
    pytest.param("-10.00", [P("a", amount="-5", percent="50"), P("b")],
                 {"parts[0]": ["give an amount or a percent, not both"]}, id="amount and percent"),
    pytest.param("-10.00", [P("a"), P("b")], {"parts[1]": [
        "only one part may take the remainder (parts[0] already does): give this one an amount or a percent"]},
        id="two remainder parts"),
    pytest.param("-10.00", [P("a", amount="0"), P("b")],
                 {"parts[0].amount": ["expected a non-zero amount (leave the part out instead)"]}, id="zero amount"),
    pytest.param("-10.00", [P("a", amount="-1.005"), P("b")],
                 {"parts[0].amount": ["expected at most 2 decimal places (cents), got -1.005"]},
                 id="a fraction of a cent"),
    pytest.param("10.00", [P("a", amount="-1.00"), P("b")],
                 {"parts[0].amount": ["the transaction is money in: expected a positive amount, got -1.00"]},
                 id="the opposite sign"),
    pytest.param("-10.00", [P("a", amount="1E+12"), P("b")],
                 {"parts[0].amount": ["expected an amount below 1,000,000,000,000, got 1E+12"]}, id="too large"),
    pytest.param("-10.00", [P("a", percent="0"), P("b")],
                 {"parts[0].percent": ["expected a percentage above 0 and at most 100, got 0"]}, id="zero percent"),
    pytest.param("-10.00", [P("a", percent="100.5"), P("b")],
                 {"parts[0].percent": ["expected a percentage above 0 and at most 100, got 100.5"]}, id="over 100"),
    pytest.param("-10.00", [P("a", percent="12.34567"), P("b")],
                 {"parts[0].percent": ["expected at most 4 decimal places, got 12.34567"]}, id="too precise"),
    pytest.param("-10.00", [P("a", amount="-6"), P("b", amount="-5"), P("c")],
                 {"parts[1].amount": ["the fixed amounts reach 11.00 here, more than the transaction's 10.00"]},
                 id="fixed amounts beyond the total"),
    pytest.param("-10.00", [P("a", amount="-6"), P("b", amount="-3")], {"parts": [
        "the amounts add up to 9.00, expected exactly the transaction's 10.00; or leave one part's amount and "
        "percent empty to take the rest"]}, id="fixed amounts short of the total"),
    pytest.param("-10.00", [P("a", percent="60"), P("b", percent="30")], {"parts[1].percent": [
        "the percentages add up to 90, expected 100 (within 0.01 for rounding each to two decimals); or leave one "
        "part's amount and percent empty to take the rest"]}, id="percentages short of 100"),
    pytest.param("-10.00", [P("a", percent="33.3"), P("b", percent="33.3"), P("c", percent="33.3")],
                 {"parts[2].percent": [
                     "the percentages add up to 99.9, expected 100 (within 0.015 for rounding each to two decimals); "
                     "or leave one part's amount and percent empty to take the rest"]},
                 id="rounded to one decimal is not close enough"),
    pytest.param("-10.00", [P("a", percent="60"), P("b", percent="40"), P("c")], {"parts[1].percent": [
        "the percentages reach 100 here: with a part taking the remainder they must add up to less than 100"]},
        id="percentages leave nothing for the remainder"),
    pytest.param("-10.00", [P("a", amount="-10"), P("b", percent="100")], {"parts[1].percent": [
        "the fixed amounts take the whole amount: nothing is left to share by percent"]},
        id="fixed amounts leave nothing for the percentages"),
    pytest.param("-10.00", [P("a", amount="-4", memo="x" * 201), P("b")],
                 {"parts[0].memo": ["expected at most 200 characters, got 201"]}, id="a long memo"),
])
def test_invalid_splits_say_which_part_and_what_was_expected(amount, parts, expected):
    with pytest.raises(LedgerInvalid) as error:
        split_allocate(D(amount), parts)

    assert fields_of(error) == expected
    field, [first] = next(iter(expected.items()))
    assert error.value.message.startswith(f"The split is not valid: {field}: {first}")


def test_every_problem_of_the_parts_is_reported_at_once():
    with pytest.raises(LedgerInvalid) as error:
        split_allocate(D("10.00"), [P("a", amount="-2"), P("b"), P("b")])

    assert set(fields_of(error)) == {"parts[0].amount", "parts[2].account", "parts[2]"}
    assert error.value.message.endswith("(and 2 more).")


def test_parsing_reads_texts_and_blanks_and_names_what_is_not_a_number():
    parts = split_parts_parse([{"account": " 6100 ", "amount": "-12.50", "percent": ""},
                               {"account": "6200", "percent": 40, "memo": " lunch "}, {"account": "8000"}])

    assert parts == [SplitPart("6100", D("-12.50"), None), SplitPart("6200", None, D("40"), "lunch"),
                     SplitPart("8000")]
    with pytest.raises(LedgerInvalid) as error:
        split_parts_parse([{"account": "6100", "amount": "12,50"}, {"account": "6200", "percent": True},
                           {"account": "6300", "amount": "NaN"}, "6400"])
    assert fields_of(error) == {
        "parts[0].amount": ["expected a number like -12.50, got '12,50'"],
        "parts[1].percent": ["expected a number like 40 or 33.33, got 'True'"],
        "parts[2].amount": ["expected a number like -12.50, got 'NaN'"],
        "parts[3]": ["expected an object with account and amount or percent"],
    }
    with pytest.raises(LedgerInvalid, match="parts: expected a list of parts"):
        split_parts_parse("6100")


# ---------------------------------------------------------------------------------------------- the service


@pytest.fixture
def chart(company_a):
    """Company A's chart with two more category accounts, an inactive one, and company B's own 6100."""
    AccountFactory(company=company_a, code="6200", name="Meals")
    AccountFactory(company=company_a, code="6300", name="Inventory")
    AccountFactory(company=company_a, code="6900", name="Old Stuff", is_active=False)
    return {account.code: account for account in Account.objects.filter(company=company_a)}


def a_transaction(company, amount: str = "-100.00", description: str = "COSTCO WHOLESALE #1") -> Transaction:
    return Transaction.objects.create(
        company=company, bank_account=company.accounts.get(code="1000"), date=datetime.date(2026, 5, 4),
        description=description, amount=D(amount), fingerprint=uuid.uuid4(), status=TransactionStatus.NEEDS_REVIEW)


def waiting_with_suggestion(company, account, amount: str = "-100.00") -> tuple[Transaction, Decision]:
    txn = a_transaction(company, amount)
    decision = Decision.objects.create(company=company, transaction=txn, method=DecisionMethod.ML_SUGGESTION,
                                       status=DecisionStatus.NEEDS_REVIEW, account=account, confidence=D("0.7100"))
    return txn, decision


def entry_lines(txn: Transaction) -> list[tuple[str, Decimal, Decimal]]:
    entry = JournalEntry.objects.exclude(status=EntryStatus.REVERSED).get(source_transaction=txn)
    return [(line.account.code, line.debit, line.credit) for line in entry.lines.select_related("account")]


def stored(txn: Transaction) -> list[tuple[int, str, Decimal, Decimal | None, str]]:
    return [(line.position, line.account.code, line.amount, line.percent, line.memo)
            for line in SplitLine.objects.filter(transaction=txn).select_related("account")]


def test_a_split_stores_the_parts_records_the_decision_and_proposes_one_line_per_part(chart, company_a, reviewer_a):
    txn, suggestion = waiting_with_suggestion(company_a, chart["6100"])

    result = transaction_split(transaction=txn, user=reviewer_a, expected_decision_id=suggestion.pk, parts=[
        P("6100", amount="-12.50", memo="paper"), P("6200", percent="40"), P("6300")])

    assert stored(txn) == [(0, "6100", D("-12.50"), None, "paper"), (1, "6200", D("-35.00"), D("40"), ""),
                           (2, "6300", D("-52.50"), None, "")]
    # The person's decision is the largest part's account: a correction of the 6100 suggestion.
    decision = Decision.objects.get(transaction=txn, is_current=True)
    assert (decision.pk, decision.method, decision.status, decision.account.code, decision.reviewer) == (
        result.decision.pk, DecisionMethod.HUMAN, DecisionStatus.APPROVED, "6300", reviewer_a)
    assert Decision.objects.get(pk=suggestion.pk).status == DecisionStatus.CORRECTED
    txn.refresh_from_db()
    assert (txn.status, txn.account.code, txn.confirmed_at is not None) == (TransactionStatus.CATEGORIZED, "6300", True)
    # Money out: each part is debited, the bank credited once with the whole amount; debits equal credits.
    lines = entry_lines(txn)
    assert sorted(lines) == sorted([("6100", D("12.50"), D("0")), ("6200", D("35.00"), D("0")),
                                    ("6300", D("52.50"), D("0")), ("1000", D("0"), D("100.00"))])
    assert sum(line[1] for line in lines) == sum(line[2] for line in lines) == D("100.00")
    assert result.entry.status == EntryStatus.PROPOSED and result.entry.source_transaction_id == txn.pk
    event = AuditEvent.objects.get(action="ledger.split")
    assert (event.actor, event.object_type, event.object_id, event.before) == (
        reviewer_a, "Transaction", str(txn.pk), None)
    assert event.after["parts"][1] == {"account": "6200", "amount": "-35.00", "percent": "40.0000", "memo": ""}
    assert event.after["entry"] == result.entry.pk


def test_money_in_credits_each_part_and_debits_the_bank(chart, company_a, reviewer_a):
    txn = a_transaction(company_a, "1500.00", "STRIPE PAYOUT")

    transaction_split(transaction=txn, user=reviewer_a, parts=[P("8000", percent="70"), P("6300", percent="30")])

    assert sorted(entry_lines(txn)) == sorted([("1000", D("1500.00"), D("0")), ("8000", D("0"), D("1050.00")),
                                               ("6300", D("0"), D("450.00"))])


def test_equal_largest_parts_make_the_earliest_one_the_decision(chart, company_a, reviewer_a):
    txn = a_transaction(company_a, "-10.00")

    transaction_split(transaction=txn, user=reviewer_a, parts=[P("6200", amount="-5"), P("6100")])

    assert Decision.objects.get(transaction=txn, is_current=True).account.code == "6200"


def test_a_new_split_replaces_the_parts_and_the_proposed_entry(chart, company_a, reviewer_a):
    txn = a_transaction(company_a)
    transaction_split(transaction=txn, user=reviewer_a, parts=[P("6100", percent="50"), P("6200", percent="50"),
                                                               P("6300", amount="-10")])
    first_entry = JournalEntry.objects.get(source_transaction=txn)

    transaction_split(transaction=txn, user=reviewer_a, parts=[P("6300", amount="-60"), P("6100")])

    assert stored(txn) == [(0, "6300", D("-60.00"), None, ""), (1, "6100", D("-40.00"), None, "")]
    assert sorted(entry_lines(txn)) == sorted([("6300", D("60.00"), D("0")), ("6100", D("40.00"), D("0")),
                                               ("1000", D("0"), D("100.00"))])
    assert not JournalEntry.objects.filter(pk=first_entry.pk).exists()  # the proposal was withdrawn, not kept
    assert JournalEntry.objects.filter(source_transaction=txn).count() == 1
    second = AuditEvent.objects.filter(action="ledger.split").order_by("-id").first()
    assert [part["account"] for part in second.before["parts"]] == ["6100", "6200", "6300"]


def test_a_plain_categorization_clears_the_split(chart, company_a, reviewer_a):
    txn = a_transaction(company_a)
    transaction_split(transaction=txn, user=reviewer_a, parts=[P("6100", amount="-30"), P("6200")])

    transaction_categorize(transaction_id=txn.pk, user=reviewer_a, account=chart["6300"])

    assert stored(txn) == []
    assert sorted(entry_lines(txn)) == sorted([("6300", D("100.00"), D("0")), ("1000", D("0"), D("100.00"))])


def test_approving_the_largest_parts_account_also_ends_the_split(chart, company_a, reviewer_a):
    # The same account as the split's decision: still one account for the whole amount now.
    txn = a_transaction(company_a)
    transaction_split(transaction=txn, user=reviewer_a, parts=[P("6100", amount="-30"), P("6200")])

    transaction_categorize(transaction_id=txn.pk, user=reviewer_a, account=chart["6200"])

    assert stored(txn) == []
    assert sorted(entry_lines(txn)) == sorted([("6200", D("100.00"), D("0")), ("1000", D("0"), D("100.00"))])


def _nothing_changed(txn: Transaction, before: dict) -> None:
    assert _state(txn) == before


def _state(txn: Transaction) -> dict:
    txn.refresh_from_db()
    return {"splits": stored(txn), "decisions": list(Decision.objects.filter(transaction=txn).values_list(
        "id", "status", "account_id", "is_current")), "entries": list(JournalEntry.objects.filter(
            source_transaction=txn).values_list("id", "status")), "account": txn.account_id, "status": txn.status,
        "audit": AuditEvent.objects.filter(action="ledger.split").count()}


def test_a_posted_transaction_is_refused_until_its_entry_is_reversed(chart, company_a, reviewer_a):
    txn = a_transaction(company_a)
    transaction_categorize(transaction_id=txn.pk, user=reviewer_a, account=chart["6100"])
    entry = JournalEntry.objects.get(source_transaction=txn)
    journal_entries_post(company=company_a, entry_ids=[entry.pk], user=reviewer_a)
    before = _state(txn)

    with pytest.raises(LedgerConflict) as error:
        transaction_split(transaction=txn, user=reviewer_a, parts=[P("6100", amount="-30"), P("6200")])

    assert error.value.message == (f"This transaction is posted (entry {entry.pk}): reverse that entry first, "
                                   "then split it.")
    assert error.value.http_status == 409 and error.value.extra == {"entry": entry.pk}
    _nothing_changed(txn, before)


def test_a_transaction_matched_by_reconciliation_is_refused(chart, company_a, reviewer_a):
    txn = a_transaction(company_a)
    other = a_transaction(company_a, description="BOOKED BY HAND")
    transaction_categorize(transaction_id=other.pk, user=reviewer_a, account=chart["6100"])
    entry = JournalEntry.objects.get(source_transaction=other)
    BankMatch.objects.create(company=company_a, transaction=txn, entry=entry, score=D("0.990"),
                             status=MatchStatus.ACCEPTED)
    before = _state(txn)

    with pytest.raises(LedgerConflict, match=f"matched to entry {entry.pk} by reconciliation"):
        transaction_split(transaction=txn, user=reviewer_a, parts=[P("6100", amount="-30"), P("6200")])

    _nothing_changed(txn, before)


def test_accounts_must_be_active_categories_of_the_company(chart, company_a, company_b, reviewer_a):
    AccountFactory(company=company_b, code="7777", name="Beta Only")
    txn, suggestion = waiting_with_suggestion(company_a, chart["6100"])
    before = _state(txn)

    with pytest.raises(LedgerInvalid) as error:
        transaction_split(transaction=txn, user=reviewer_a, parts=[
            P("1000", amount="-10"), P("6900", amount="-10"), P("7777", amount="-10"), P("", amount="-10"),
            P("6100", amount="-59"), P("6100", amount="-1")])

    assert fields_of(error) == {
        "parts[0].account": ["1000 Checking is a bank account: expected an active category account"],
        "parts[1].account": ["6900 Old Stuff is inactive: expected an active category account"],
        "parts[2].account": ["'7777' is not an account of Alpha Bakery's chart"],
        "parts[3].account": ["expected the code of an account of the chart, e.g. 6100"],
        "parts[5].account": ["6100 is already parts[4]'s account: give each account once"],
    }
    _nothing_changed(txn, before)


def test_someone_elses_decision_in_the_meantime_is_a_conflict_and_nothing_changes(chart, company_a, reviewer_a,
                                                                                   admin_a):
    txn, suggestion = waiting_with_suggestion(company_a, chart["6100"])
    transaction_categorize(transaction_id=txn.pk, user=admin_a, account=chart["6200"],
                           expected_decision_id=suggestion.pk)
    before = _state(txn)

    with pytest.raises(DecisionConflict, match="already decided this transaction by admin_a"):
        transaction_split(transaction=txn, user=reviewer_a, expected_decision_id=suggestion.pk,
                          parts=[P("6100", amount="-30"), P("6200")])

    _nothing_changed(txn, before)
