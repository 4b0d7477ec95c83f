"""Which rule wins: priority, then specificity, then rule_id (no database)."""

from __future__ import annotations

from decimal import Decimal

from rules.engine import Condition, NaiveMatcher, RuleSpec, TxnInput, compile_rules, rule_sort_key

COFFEE = TxnInput("SQ *HAMILTON COFFEE #1123", "", Decimal("-4.50"), "1000")


def rule(rule_id: int, *conditions: Condition, priority: int = 100, combine: str = "all") -> RuleSpec:
    return RuleSpec(rule_id, 1, f"rule {rule_id}", conditions, combine, f"6{rule_id:03d}", priority)


def winner(specs: list[RuleSpec], transaction: TxnInput = COFFEE) -> int | None:
    """The rule_id that decides, checked against the naive reference."""
    compiled = compile_rules(specs).match_one(transaction)
    assert compiled == NaiveMatcher(specs).match_one(transaction)
    return compiled.rule_id if compiled else None


EQUALS = Condition("description", "equals", "hamilton coffee")
STARTS = Condition("description", "starts_with", "hamilton")
CONTAINS = Condition("description", "contains", "coffee")
REGEX = Condition("description", "regex", "^ham")
OUT = Condition("direction", "out", "")


def test_lower_priority_number_wins_over_specificity() -> None:
    specs = [rule(1, EQUALS, OUT, priority=20), rule(2, REGEX, priority=10)]

    assert winner(specs) == 2


def test_same_priority_more_conditions_win() -> None:
    specs = [rule(1, EQUALS), rule(2, CONTAINS, OUT)]

    assert winner(specs) == 2


def test_same_priority_and_count_equals_beats_starts_with_beats_contains_beats_regex() -> None:
    specs = [rule(1, REGEX), rule(2, CONTAINS), rule(3, STARTS), rule(4, EQUALS)]

    assert winner(specs) == 4
    assert winner(specs[:3]) == 3
    assert winner(specs[:2]) == 2
    assert winner(specs[:1]) == 1


def test_full_tie_goes_to_the_lower_rule_id() -> None:
    specs = [rule(7, CONTAINS), rule(3, Condition("description", "contains", "hamilton"))]

    assert winner(specs) == 3


def test_a_more_specific_rule_that_does_not_match_lets_the_next_one_decide() -> None:
    specs = [rule(1, EQUALS, Condition("amount", "gt", Decimal(100))), rule(2, CONTAINS)]

    assert winner(specs) == 2


def test_an_any_rule_counts_as_one_condition_ranked_by_its_weakest() -> None:
    any_rule = rule(1, EQUALS, REGEX, combine="any")
    starts_rule = rule(2, STARTS)

    # Equal breadth (1), and the any-rule ranks as regex: starts_with wins.
    assert winner([any_rule, starts_rule]) == 2
    assert rule_sort_key(any_rule) == (100, -1, 3, 1)
    assert rule_sort_key(rule(3, EQUALS, OUT, combine="any")) == (100, -1, 4, 3)
    assert rule_sort_key(rule(4, STARTS, OUT)) == (100, -2, 1, 4)
    assert rule_sort_key(rule(5, OUT)) == (100, -1, 4, 5)


def test_compiled_rules_expose_their_match_order() -> None:
    specs = [rule(1, REGEX), rule(2, EQUALS, priority=5), rule(3, CONTAINS, OUT), rule(4, STARTS)]

    assert [spec.rule_id for spec in compile_rules(specs).specs] == [2, 3, 4, 1]


def test_the_result_names_rule_version_and_account() -> None:
    spec = RuleSpec(42, 3, "coffee", (EQUALS,), "all", "6900", 1)

    result = compile_rules([spec]).match_one(COFFEE)

    assert (result.rule_id, result.version, result.account_code) == (42, 3, "6900")
