"""Rule validation: every problem of a spec, each with the path of the part that is wrong.

Validation runs when a rule is saved (so the author sees all mistakes at once) and again in
``compile_rules`` (so a bad row can never reach the matcher).
"""

from __future__ import annotations

from decimal import Decimal

from transactions.normalization import normalize_description

from .regex_guard import check_pattern
from .spec import COMBINE_MODES, FIELD_OPS, FIELDS, TEXT_FIELDS, Condition, RuleError, RuleSpec

__all__ = ["validate_condition", "validate_rule"]


def validate_rule(spec: RuleSpec) -> list[RuleError]:
    """Return every problem with ``spec``; an empty list means it can be compiled."""
    errors: list[RuleError] = []
    if not _is_int(spec.rule_id):
        errors.append(RuleError("rule_id", f"rule_id must be an integer, got {type(spec.rule_id).__name__}"))
    if not _is_int(spec.version) or spec.version < 1:
        errors.append(RuleError("version", f"version must be a positive integer, got {spec.version!r}"))
    if not _is_int(spec.priority):
        errors.append(RuleError("priority", f"priority must be an integer, got {type(spec.priority).__name__}"))
    if spec.combine not in COMBINE_MODES:
        errors.append(RuleError("combine", f"unknown combine {spec.combine!r}; expected 'all' or 'any'"))
    if not isinstance(spec.account_code, str) or not spec.account_code.strip():
        errors.append(RuleError("account_code", "a rule needs an account code"))
    if not spec.conditions:
        errors.append(RuleError("conditions", "a rule needs at least one condition"))
    for index, condition in enumerate(spec.conditions):
        errors.extend(validate_condition(condition, f"conditions[{index}]"))
    return errors


def validate_condition(condition: Condition, path: str = "condition") -> list[RuleError]:
    """Return the problems of one condition; ``path`` prefixes the error fields."""
    field, op, value = condition.field, condition.op, condition.value
    if field not in FIELD_OPS:
        return [RuleError(f"{path}.field", f"unknown field {field!r}; expected one of: {', '.join(FIELDS)}")]
    ops = FIELD_OPS[field]
    if op not in ops:
        return [RuleError(f"{path}.op", f"unknown operator {op!r} for field {field!r}; expected one of: {', '.join(ops)}")]
    message: str | None
    if field in TEXT_FIELDS:
        message = _text_problem(field, op, value)
    elif field == "amount":
        message = _amount_problem(op, value)
    elif field == "direction":
        message = _direction_problem(op, value)
    else:
        message = _bank_account_problem(value)
    return [RuleError(f"{path}.value", message)] if message else []


def _text_problem(field: str, op: str, value: object) -> str | None:
    """A text value must be text that survives normalization; a regex must pass the guards."""
    if not isinstance(value, str):
        return f"{field} conditions need a text value, got {type(value).__name__}"
    if op == "regex":
        return check_pattern(value)
    if not normalize_description(value):
        return (
            f"{value!r} is empty once normalized (numbers, punctuation and bank boilerplate such as POS or ACH "
            "are stripped), so it cannot identify a vendor"
        )
    return None


def _amount_problem(op: str, value: object) -> str | None:
    """Amounts are non-negative Decimals (magnitudes); "between" takes an ordered (low, high) pair."""
    if op != "between":
        return _single_amount_problem(value)
    if not isinstance(value, tuple | list) or len(value) != 2:
        return f"'between' needs a (low, high) pair of Decimals, got {value!r}"
    low, high = value
    problem = _single_amount_problem(low, "low") or _single_amount_problem(high, "high")
    if problem:
        return problem
    assert isinstance(low, Decimal) and isinstance(high, Decimal)  # checked just above
    if low > high:
        return f"'between' needs low <= high, got low {low} > high {high}"
    return None


def _single_amount_problem(value: object, label: str = "amount") -> str | None:
    """Why one amount is unusable, or None."""
    if isinstance(value, float):
        return f"{label} must be a Decimal, not a float (a float cannot hold cents exactly)"
    if not isinstance(value, Decimal):
        return f"{label} must be a Decimal, got {type(value).__name__}"
    if not value.is_finite():
        return f"{label} must be a finite number, got {value}"
    if value < 0:
        return (
            f"{label} must not be negative (got {value}): amount conditions compare the magnitude |amount|; "
            "add a direction condition for money in or out"
        )
    return None


def _direction_problem(op: str, value: object) -> str | None:
    """The operator carries the direction; a value, if any, must repeat it."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value.strip().lower() != op:
        return f"value {value!r} contradicts operator {op!r}; leave it empty (the operator gives the direction)"
    return None


def _bank_account_problem(value: object) -> str | None:
    """A bank account condition names the bank account's account code."""
    if not isinstance(value, str) or not value.strip():
        return "bank_account conditions need the bank account's account code"
    return None


def _is_int(value: object) -> bool:
    """An int that is not a bool (True would otherwise pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)
