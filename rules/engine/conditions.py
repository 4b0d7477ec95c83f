"""Conditions compiled into small predicate functions (for validated conditions only).

Text conditions become ``TextCheck``s: a test on one of the two normalized texts plus what the
indexes need (the normalized literal).  Amount, direction and bank-account conditions become
``ValueTest``s on (amount, bank_account): they cannot be indexed by text, so the matcher runs them
last, on the few rules whose text already matched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from transactions.normalization import normalize_description

from .regex_guard import REGEX_TEXT_LIMIT, compile_pattern
from .spec import Condition

__all__ = [
    "COUNTERPARTY",
    "DESCRIPTION",
    "TextCheck",
    "ValueTest",
    "all_of",
    "any_of",
    "compile_text_condition",
    "compile_value_condition",
]

# Positions of the two texts in a (description, counterparty) pair.
DESCRIPTION = 0
COUNTERPARTY = 1
_FIELD_POSITION = {"description": DESCRIPTION, "counterparty": COUNTERPARTY}

TextTest = Callable[[str], bool]
ValueTest = Callable[[Decimal, str], bool]  # (signed amount, bank account code) -> holds?


@dataclass(frozen=True, slots=True)
class TextCheck:
    """A compiled text condition: ``test(texts[field])`` decides it."""

    field: int  # DESCRIPTION or COUNTERPARTY
    op: str
    literal: str  # the normalized value, or the regex pattern as written
    test: TextTest


def compile_text_condition(condition: Condition) -> TextCheck:
    """Compile a description/counterparty condition; the value is normalized like the text it meets."""
    field = _FIELD_POSITION[condition.field]
    value = condition.value
    assert isinstance(value, str)  # validated
    if condition.op == "regex":
        search = compile_pattern(value).search

        def matches_regex(text: str) -> bool:
            # The length cap is guard 3 of regex_guard: it bounds the worst-case backtracking.
            return search(text[:REGEX_TEXT_LIMIT]) is not None

        return TextCheck(field, "regex", value, matches_regex)
    literal = normalize_description(value)
    if condition.op == "equals":
        return TextCheck(field, "equals", literal, literal.__eq__)
    if condition.op == "starts_with":
        return TextCheck(field, "starts_with", literal, lambda text: text.startswith(literal))
    return TextCheck(field, "contains", literal, lambda text: literal in text)


def compile_value_condition(condition: Condition) -> ValueTest:
    """Compile an amount, direction or bank_account condition."""
    field, op, value = condition.field, condition.op, condition.value
    if field == "direction":
        # Money in is a positive amount; a zero amount is neither in nor out.
        if op == "in":
            return lambda amount, bank_account: amount > 0
        return lambda amount, bank_account: amount < 0
    if field == "bank_account":
        assert isinstance(value, str)
        code = value.strip()
        return lambda amount, bank_account: bank_account == code
    # Amount conditions compare magnitudes: "more than 500" means a 500+ payment in either direction.
    if op == "between":
        assert isinstance(value, tuple | list)
        low, high = value
        return lambda amount, bank_account: low <= abs(amount) <= high
    assert isinstance(value, Decimal)
    if op == "eq":
        return lambda amount, bank_account: abs(amount) == value
    if op == "lt":
        return lambda amount, bank_account: abs(amount) < value
    return lambda amount, bank_account: abs(amount) > value


def all_of(tests: tuple[ValueTest, ...]) -> ValueTest:
    """A test that holds when every one of ``tests`` does (one test is returned as is)."""
    if len(tests) == 1:
        return tests[0]
    return lambda amount, bank_account: all(test(amount, bank_account) for test in tests)


def any_of(tests: tuple[ValueTest, ...]) -> ValueTest:
    """A test that holds when at least one of ``tests`` does (one test is returned as is)."""
    if len(tests) == 1:
        return tests[0]
    return lambda amount, bank_account: any(test(amount, bank_account) for test in tests)
