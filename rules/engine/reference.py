"""The naive reference matcher: every rule, in order, against every transaction.

It exists to pin down the semantics (tests compare the compiled matcher with it) and as the
benchmark's baseline.  It shares only the rule order and the definition of the texts with the
compiled matcher; conditions are evaluated here directly from the specs, in the plainest way.
Rule values are prepared once up front, as any sensible naive implementation would.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from transactions.normalization import normalize_description, vendor_key

from .ordering import rule_sort_key
from .regex_guard import REGEX_TEXT_LIMIT
from .spec import TEXT_FIELDS, Condition, InvalidRulesError, RuleMatch, RuleSpec, TxnInput
from .validation import validate_rule

__all__ = ["NaiveMatcher"]

_Prepared = tuple[str, str, object]  # (field, op, value prepared for comparison)


class NaiveMatcher:
    """Loops over all rules for each transaction; same answers as ``CompiledRules``, much slower."""

    def __init__(self, specs: Iterable[RuleSpec]) -> None:
        specs = sorted(specs, key=rule_sort_key)
        errors = {spec.rule_id: problems for spec in specs if (problems := validate_rule(spec))}
        if errors:
            raise InvalidRulesError(errors)
        self._rules = [
            (spec, tuple(_prepare(condition) for condition in spec.conditions)) for spec in specs
        ]

    def match(self, txns: Sequence[TxnInput]) -> list[RuleMatch | None]:
        """The first matching rule for each transaction."""
        return [self.match_one(txn) for txn in txns]

    def match_one(self, txn: TxnInput) -> RuleMatch | None:
        """The first matching rule for one transaction."""
        description = normalize_description(txn.description)
        counterparty = normalize_description(txn.counterparty) or vendor_key(txn.description)
        for spec, conditions in self._rules:
            outcomes = (_holds(condition, txn, description, counterparty) for condition in conditions)
            if all(outcomes) if spec.combine == "all" else any(outcomes):
                return RuleMatch(spec.rule_id, spec.version, spec.account_code)
        return None


def _prepare(condition: Condition) -> _Prepared:
    """Normalize a text value / compile a regex once."""
    value: object = condition.value
    if condition.field in TEXT_FIELDS:
        assert isinstance(value, str)
        value = re.compile(value, re.IGNORECASE) if condition.op == "regex" else normalize_description(value)
    elif condition.field == "bank_account":
        assert isinstance(value, str)
        value = value.strip()
    return (condition.field, condition.op, value)


def _holds(condition: _Prepared, txn: TxnInput, description: str, counterparty: str) -> bool:
    """Evaluate one condition from its definition."""
    field, op, value = condition
    if field in TEXT_FIELDS:
        text = description if field == "description" else counterparty
        if op == "equals":
            return text == value
        if op == "contains":
            return value in text  # type: ignore[operator]
        if op == "starts_with":
            return text.startswith(value)  # type: ignore[arg-type]
        return value.search(text[:REGEX_TEXT_LIMIT]) is not None  # type: ignore[attr-defined]
    if field == "direction":
        return txn.amount > 0 if op == "in" else txn.amount < 0
    if field == "bank_account":
        return txn.bank_account == value
    magnitude = abs(txn.amount)
    if op == "between":
        low, high = value  # type: ignore[misc]
        return bool(low <= magnitude <= high)
    assert isinstance(value, Decimal)
    if op == "eq":
        return magnitude == value
    if op == "lt":
        return magnitude < value
    return magnitude > value
