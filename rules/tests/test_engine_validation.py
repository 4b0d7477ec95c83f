"""Rule validation: exact messages, pathological regexes rejected (no database)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from rules.engine import Condition, InvalidRulesError, RuleError, RuleSpec, compile_rules, validate_rule

VALID = Condition("description", "contains", "coffee")


def rule(*conditions: Condition, combine: str = "all", account: str = "6100", rule_id: int = 1) -> RuleSpec:
    return RuleSpec(rule_id, 1, "rule", conditions, combine, account, 10)


def errors_of(condition: Condition) -> list[RuleError]:
    return validate_rule(rule(condition))


def message_of(condition: Condition) -> str:
    """The one error a single-condition rule has."""
    (error,) = errors_of(condition)
    assert error.field == "conditions[0].value"
    return error.message


def test_a_valid_rule_has_no_errors() -> None:
    spec = rule(
        VALID,
        Condition("counterparty", "regex", r"^duke\b"),
        Condition("amount", "between", (Decimal(0), Decimal("99.99"))),
        Condition("direction", "out", ""),
        Condition("bank_account", "equals", "1000"),
    )

    assert validate_rule(spec) == []


def test_rule_level_errors_are_all_reported() -> None:
    spec = RuleSpec(1, 0, "rule", (), "some", " ", 10)

    assert validate_rule(spec) == [
        RuleError("version", "version must be a positive integer, got 0"),
        RuleError("combine", "unknown combine 'some'; expected 'all' or 'any'"),
        RuleError("account_code", "a rule needs an account code"),
        RuleError("conditions", "a rule needs at least one condition"),
    ]


def test_errors_point_at_the_condition_that_is_wrong() -> None:
    spec = rule(VALID, Condition("payee", "equals", "x"), Condition("amount", "contains", Decimal(1)))

    assert validate_rule(spec) == [
        RuleError(
            "conditions[1].field",
            "unknown field 'payee'; expected one of: amount, bank_account, counterparty, description, direction",
        ),
        RuleError("conditions[2].op", "unknown operator 'contains' for field 'amount'; expected one of: eq, lt, gt, between"),
    ]


def test_unknown_text_operator() -> None:
    (error,) = errors_of(Condition("description", "gt", "x"))

    assert error == RuleError(
        "conditions[0].op",
        "unknown operator 'gt' for field 'description'; expected one of: equals, contains, starts_with, regex",
    )


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (Condition("description", "equals", Decimal(1)), "description conditions need a text value, got Decimal"),
        (
            Condition("counterparty", "contains", "#1234"),
            ("'#1234' is empty once normalized (numbers, punctuation and bank boilerplate such as POS or ACH are "
            "stripped), so it cannot identify a vendor"),
        ),
        (
            Condition("amount", "between", (Decimal("10.00"), Decimal("5.00"))),
            "'between' needs low <= high, got low 10.00 > high 5.00",
        ),
        (
            Condition("amount", "between", Decimal(5)),
            "'between' needs a (low, high) pair of Decimals, got Decimal('5')",
        ),
        (
            Condition("amount", "gt", 10.5),  # type: ignore[arg-type]
            "amount must be a Decimal, not a float (a float cannot hold cents exactly)",
        ),
        (Condition("amount", "lt", "10"), "amount must be a Decimal, got str"),
        (Condition("amount", "eq", Decimal("NaN")), "amount must be a finite number, got NaN"),
        (
            Condition("amount", "gt", Decimal("-5.00")),
            ("amount must not be negative (got -5.00): amount conditions compare the magnitude |amount|; add a "
            "direction condition for money in or out"),
        ),
        (
            Condition("amount", "between", (Decimal(1), 2.0)),  # type: ignore[arg-type]
            "high must be a Decimal, not a float (a float cannot hold cents exactly)",
        ),
        (
            Condition("direction", "in", "out"),
            "value 'out' contradicts operator 'in'; leave it empty (the operator gives the direction)",
        ),
        (Condition("bank_account", "equals", "  "), "bank_account conditions need the bank account's account code"),
    ],
)
def test_value_errors(condition: Condition, message: str) -> None:
    assert message_of(condition) == message


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "a regex condition needs a pattern"),
        ("ab(c", "invalid regular expression at position 2: missing ), unterminated subpattern"),
        ("[z-a]", "invalid regular expression at position 1: bad character range z-a"),
        ("A" * 301, "pattern is 301 characters long; the limit is 300"),
        (
            "DUKE-ENERGY",
            ("the pattern requires '-', which never occurs in normalized text (normalization keeps only letters, "
            "digits and single spaces)"),
        ),
        ("x?", "the pattern matches empty text, so it would match every transaction"),
        ("(?P<a>x)(?P=a)", "backreferences and conditional groups are not supported (they can take exponential time)"),
    ],
)
def test_regex_errors(pattern: str, message: str) -> None:
    assert message_of(Condition("description", "regex", pattern)) == message


NESTED = (
    "nested quantifier: a repeated group contains a variable repetition, like (a+)+ or (.*a){20}, which can take "
    "exponential time; repeat the group or its contents, not both"
)
AMBIGUOUS = (
    "repeated alternation whose branches can match the same text, like (a|a)* or (a|ab)+, which can take "
    "exponential time; make the alternatives start differently"
)
OVERLAPPING = (
    "more than 2 variable repetitions (*, +, {m,n}) can match the same characters, which can take seconds on a "
    "long description; use fewer, or narrower classes (e.g. a space instead of .* between words)"
)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(a+)+", NESTED),
        ("(a+)+$", NESTED),
        ("(.*a){20}", NESTED),
        (r"^(\w+\s?)*$", NESTED),
        ("(a*)*b", NESTED),
        ("(a|a)*", AMBIGUOUS),
        ("(a|ab)+c", AMBIGUOUS),
        ("(?:x|y|xy)+z", AMBIGUOUS),
        (".*.*.*X", OVERLAPPING),
        ("A.*B.*C.*D", OVERLAPPING),
    ],
)
def test_pathological_regexes_are_rejected_quickly(pattern: str, message: str) -> None:
    started = time.perf_counter()

    assert message_of(Condition("description", "regex", pattern)) == message
    assert time.perf_counter() - started < 1  # validation itself never runs the pattern on hostile text


@pytest.mark.parametrize(
    "pattern",
    [r"^uber (eats|trip)$", r"\bdepot\b", r"AMAZON.*PRIME", r"^ACME ?(?:INC|LLC)?\b", r"\w+\s+\w+\s+X", r"(?:ab|cd)+", "^$"],
)
def test_reasonable_regexes_are_accepted(pattern: str) -> None:
    assert errors_of(Condition("description", "regex", pattern)) == []


def test_compile_rules_refuses_invalid_and_duplicate_rules() -> None:
    bad = rule(Condition("description", "regex", "(a+)+"), rule_id=1)
    first = rule(VALID, rule_id=2)
    second_version = RuleSpec(2, 2, "rule", (VALID,), "all", "6100", 10)

    with pytest.raises(InvalidRulesError) as raised:
        compile_rules([bad, first, second_version])

    assert raised.value.errors == {
        1: [RuleError("conditions[0].value", NESTED)],
        2: [RuleError("rule_id", "rule 2 appears more than once; compile one version")],
    }
    assert "rule 1: conditions[0].value: nested quantifier" in str(raised.value)
