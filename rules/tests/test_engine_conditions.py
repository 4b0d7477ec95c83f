"""Condition semantics of the rules engine, field by field (no database).

Every case is decided by both the compiled matcher and the naive reference, which must agree.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from rules.engine import REGEX_TEXT_LIMIT, Condition, NaiveMatcher, RuleSpec, TxnInput, compile_rules


def txn(description: str = "", counterparty: str = "", amount: str = "-10.00", bank_account: str = "1000") -> TxnInput:
    return TxnInput(description, counterparty, Decimal(amount), bank_account)


def rule(*conditions: Condition, combine: str = "all", rule_id: int = 1, priority: int = 100) -> RuleSpec:
    return RuleSpec(rule_id, 1, f"rule {rule_id}", conditions, combine, "6100", priority)


def matches(spec: RuleSpec, transaction: TxnInput) -> bool:
    """Whether the single rule matches, checking that both matchers agree."""
    compiled = compile_rules([spec]).match_one(transaction)
    naive = NaiveMatcher([spec]).match_one(transaction)
    assert compiled == naive
    return compiled is not None


def cond(field: str, op: str, value: object = "") -> Condition:
    return Condition(field, op, value)  # type: ignore[arg-type]


# --- description ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "description", "expected"),
    [
        # equals compares whole normalized texts, case-insensitively
        ("equals", "hamilton coffee", "SQ *HAMILTON COFFEE #1123", True),
        ("equals", "Hamilton Coffee", "sq *hamilton coffee #77", True),
        ("equals", "SQ *Hamilton Coffee #99", "SQ *HAMILTON COFFEE #1123", True),  # the value is normalized too
        ("equals", "hamilton coffee", "SQ *HAMILTON COFFEE ROASTERS", False),
        ("equals", "hamilton", "SQ *HAMILTON COFFEE #1123", False),
        ("equals", "amzn mktp us", "AMZN Mktp US*2K4LL0", True),  # both sides become "AMAZON"
        # contains is a substring test on normalized text, even inside a word
        ("contains", "coffee", "SQ *HAMILTON COFFEE #1123", True),
        ("contains", "ilton cof", "SQ *HAMILTON COFFEE #1123", True),
        ("contains", "depot", "HOMEDEPOT.COM 1234567890", True),
        ("contains", "coffee #12", "SQ *HAMILTON COFFEE #1123", True),  # "#12" is noise on both sides
        ("contains", "lowes", "HOMEDEPOT.COM 1234567890", False),
        ("contains", "coffee roasters", "SQ *HAMILTON COFFEE #1123", False),
        # starts_with
        ("starts_with", "hamilton", "SQ *HAMILTON COFFEE #1123", True),
        ("starts_with", "hamilton cof", "SQ *HAMILTON COFFEE #1123", True),
        ("starts_with", "coffee", "SQ *HAMILTON COFFEE #1123", False),
        ("starts_with", "staples", "POS DEBIT 03/12 STAPLES 00123 CINCINNATI OH", True),
        # regex searches the normalized text, case-insensitively
        ("regex", r"^uber (eats|trip)$", "UBER *EATS 8X7Y2Z", True),
        ("regex", r"^uber (eats|trip)$", "uber *trip help.uber.com", True),
        ("regex", r"^uber (eats|trip)$", "UBER *EATS PENDING", False),
        ("regex", r"\bdepot\b", "THE HOME DEPOT #3814", True),
        ("regex", r"\bdepot\b", "HOMEDEPOT.COM 1234567890", False),
        ("regex", r"check \d+", "CHECK 1043", False),  # the check number is noise: text is just "CHECK"
    ],
)
def test_description_conditions(op: str, value: str, description: str, expected: bool) -> None:
    assert matches(rule(cond("description", op, value)), txn(description)) is expected


def test_regex_only_sees_the_first_characters_of_the_text() -> None:
    long_description = "A" * (REGEX_TEXT_LIMIT + 20) + " TAIL"

    assert not matches(rule(cond("description", "regex", "TAIL")), txn(long_description))
    assert matches(rule(cond("description", "contains", "tail")), txn(long_description))


def test_an_accepted_worst_case_regex_on_adversarial_text_stays_fast() -> None:
    import time

    started = time.perf_counter()
    matched = matches(rule(cond("description", "regex", ".*.*X")), txn("A" * 2000))

    assert not matched
    assert time.perf_counter() - started < 3  # two matchers, ~0.1 s each with the text cap


# --- counterparty --------------------------------------------------------------------------------


def test_counterparty_conditions_read_the_counterparty_field() -> None:
    spec = rule(cond("counterparty", "equals", "the home depot"))

    assert matches(spec, txn("POS DEBIT 03/12 SOMETHING ELSE 00123", counterparty="The Home Depot"))
    assert not matches(spec, txn("THE HOME DEPOT #3814", counterparty="Lowe's"))


def test_counterparty_conditions_never_look_at_the_description_when_a_counterparty_is_given() -> None:
    spec = rule(cond("counterparty", "contains", "hamilton coffee"))

    assert not matches(spec, txn("SQ *HAMILTON COFFEE #1123", counterparty="Sysco"))


@pytest.mark.parametrize("counterparty", ["", "   ", "#1234"])
def test_counterparty_falls_back_to_the_vendor_key_of_the_description(counterparty: str) -> None:
    # vendor_key("SQ *HAMILTON COFFEE #1123 CINCINNATI OH") == "HAMILTON COFFEE": the name before the noise.
    transaction = txn("SQ *HAMILTON COFFEE #1123 CINCINNATI OH", counterparty=counterparty)

    assert matches(rule(cond("counterparty", "contains", "hamilton coffee")), transaction)
    assert matches(rule(cond("counterparty", "equals", "Hamilton Coffee")), transaction)
    assert not matches(rule(cond("counterparty", "contains", "cincinnati")), transaction)  # not part of the key


def test_counterparty_fallback_uses_the_vendor_key_not_the_whole_description() -> None:
    # The vendor key drops filler words such as THE: "THE HOME DEPOT #3814" -> "HOME DEPOT".
    transaction = txn("THE HOME DEPOT #3814")

    assert matches(rule(cond("counterparty", "equals", "home depot")), transaction)
    assert matches(rule(cond("description", "equals", "the home depot")), transaction)
    assert not matches(rule(cond("counterparty", "equals", "the home depot")), transaction)


def test_counterparty_regex_and_starts_with() -> None:
    transaction = txn("X", counterparty="Duke Energy")

    assert matches(rule(cond("counterparty", "regex", r"^duke\b")), transaction)
    assert matches(rule(cond("counterparty", "starts_with", "DUKE EN")), transaction)
    assert not matches(rule(cond("counterparty", "starts_with", "energy")), transaction)


# --- amount, direction, bank account -------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "amount", "expected"),
    [
        ("eq", Decimal(100), "-100.00", True),  # magnitude, and 100 == 100.00
        ("eq", Decimal(100), "100.00", True),
        ("eq", Decimal(100), "-100.01", False),
        ("lt", Decimal(100), "-99.99", True),
        ("lt", Decimal(100), "-100.00", False),  # strict
        ("gt", Decimal(100), "100.01", True),
        ("gt", Decimal(100), "100.00", False),  # strict
        ("gt", Decimal(100), "-250.00", True),
        ("between", (Decimal("10.00"), Decimal("99.99")), "-10.00", True),  # inclusive low
        ("between", (Decimal("10.00"), Decimal("99.99")), "99.99", True),  # inclusive high
        ("between", (Decimal("10.00"), Decimal("99.99")), "-9.99", False),
        ("between", (Decimal("10.00"), Decimal("99.99")), "100.00", False),
        ("between", (Decimal(5), Decimal(5)), "-5.00", True),  # low == high is allowed
    ],
)
def test_amount_conditions(op: str, value: object, amount: str, expected: bool) -> None:
    assert matches(rule(cond("amount", op, value)), txn("X", amount=amount)) is expected


@pytest.mark.parametrize(
    ("op", "value", "amount", "expected"),
    [
        ("in", "", "0.01", True),
        ("in", "in", "25.00", True),
        ("in", "", "-0.01", False),
        ("in", "", "0.00", False),  # zero is neither in nor out
        ("out", "", "-0.01", True),
        ("out", "OUT", "-12.00", True),
        ("out", "", "12.00", False),
        ("out", "", "0", False),
    ],
)
def test_direction_conditions(op: str, value: str, amount: str, expected: bool) -> None:
    assert matches(rule(cond("direction", op, value)), txn("X", amount=amount)) is expected


def test_bank_account_condition() -> None:
    spec = rule(cond("bank_account", "equals", " 1010 "))

    assert matches(spec, txn("X", bank_account="1010"))
    assert not matches(spec, txn("X", bank_account="1000"))


# --- all / any -----------------------------------------------------------------------------------


def test_all_needs_every_condition() -> None:
    spec = rule(
        cond("counterparty", "equals", "amazon"),
        cond("direction", "out"),
        cond("amount", "gt", Decimal(500)),
    )

    assert matches(spec, txn("AMZN MKTP US*2K4LL0", amount="-899.00"))
    assert not matches(spec, txn("AMZN MKTP US*2K4LL0", amount="-45.00"))
    assert not matches(spec, txn("AMZN MKTP US*2K4LL0", amount="899.00"))  # a refund
    assert not matches(spec, txn("COSTCO WHSE #0123", amount="-899.00"))


def test_any_needs_one_condition() -> None:
    spec = rule(
        cond("description", "contains", "uber eats"),
        cond("counterparty", "equals", "doordash"),
        cond("amount", "eq", Decimal("12.34")),
        combine="any",
    )

    assert matches(spec, txn("UBER *EATS 8X7Y2Z"))
    assert matches(spec, txn("ACH", counterparty="DoorDash"))
    assert matches(spec, txn("SOMETHING", amount="12.34"))
    assert not matches(spec, txn("UBER *TRIP 8X7Y2Z", counterparty="Uber"))


def test_any_rule_with_only_text_conditions() -> None:
    spec = rule(cond("description", "equals", "kroger"), cond("description", "starts_with", "aldi"), combine="any")

    assert matches(spec, txn("KROGER #123"))
    assert matches(spec, txn("ALDI 12345 MASON OH"))
    assert not matches(spec, txn("KROGER FUEL #123"))
