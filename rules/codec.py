"""Rules as plain data (JSON in the database and the API, YAML in files) <-> the engine's types.

One codec for every door, so a rule means the same thing whether it was typed in the UI, posted to the API,
imported from YAML or proposed by promotion. Django-free.

A condition is ``{"field": ..., "op": ..., "value": ...}``:
  * text fields ``counterparty`` / ``description``: value a string;
  * ``amount``: ``eq`` / ``lt`` / ``gt`` with a decimal string ("12.50"; integers accepted), or ``between``
    with ``["10", "20"]``; amounts are never floats;
  * ``direction``: op ``in`` / ``out`` (value optional);
  * ``bank_account``: op ``equals``, value the bank account's code.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from rules.engine import Condition, RuleError, RuleSpec, validate_condition
from rules.engine.spec import COMBINE_MODES

__all__ = ["RuleData", "condition_to_json", "conditions_from_json", "rule_data_from_json", "spec_of"]

MAX_CONDITIONS = 20
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class RuleData:
    """The matching-relevant parts of a rule, validated."""

    name: str
    conditions: tuple[Condition, ...]
    combine: str
    account_code: str
    priority: int

    def conditions_json(self) -> list[dict[str, Any]]:
        return [condition_to_json(condition) for condition in self.conditions]


def rule_data_from_json(raw: Mapping[str, Any], *, defaults: Mapping[str, Any] | None = None) -> tuple[RuleData | None, list[RuleError]]:
    """Validate a rule given as plain data; returns (data, []) or (None, every problem found)."""
    values = {"combine": "all", "priority": 100, **(defaults or {}), **raw}
    errors: list[RuleError] = []
    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(RuleError("name", "a rule needs a name"))
    elif len(name.strip()) > MAX_NAME_LENGTH:
        errors.append(RuleError("name", f"at most {MAX_NAME_LENGTH} characters, got {len(name.strip())}"))
    combine = values.get("combine")
    if combine not in COMBINE_MODES:
        errors.append(RuleError("combine", f"expected 'all' or 'any', got {combine!r}"))
    account_code = values.get("account_code")
    if isinstance(account_code, int) and not isinstance(account_code, bool):
        account_code = str(account_code)  # YAML reads 6100 as a number
    if not isinstance(account_code, str) or not account_code.strip():
        errors.append(RuleError("account_code", "a rule needs the code of the account it assigns"))
    priority = values.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool) or not -1_000_000 <= priority <= 1_000_000:
        errors.append(RuleError("priority", f"expected a whole number between -1000000 and 1000000, got {priority!r}"))
    conditions, condition_errors = conditions_from_json(values.get("conditions"))
    errors.extend(condition_errors)
    if errors:
        return None, errors
    return RuleData(
        name=name.strip(), conditions=conditions, combine=combine, account_code=account_code.strip(), priority=priority
    ), []


def conditions_from_json(raw: Any, path: str = "conditions") -> tuple[tuple[Condition, ...], list[RuleError]]:
    """Parse and validate a list of condition objects; errors carry paths like ``conditions[1].value``."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        return (), [RuleError(path, "expected a list of conditions")]
    if not raw:
        return (), [RuleError(path, "a rule needs at least one condition")]
    if len(raw) > MAX_CONDITIONS:
        return (), [RuleError(path, f"at most {MAX_CONDITIONS} conditions, got {len(raw)}")]
    conditions: list[Condition] = []
    errors: list[RuleError] = []
    for index, item in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            errors.append(RuleError(where, "expected an object with field, op and value"))
            continue
        unknown = sorted(set(item) - {"field", "op", "value"})
        if unknown:
            errors.append(RuleError(where, f"unknown keys {', '.join(map(str, unknown))}; expected field, op, value"))
            continue
        condition = Condition(
            field=str(item.get("field", "")), op=str(item.get("op", "")), value=_engine_value(item)
        )
        problems = validate_condition(condition, where)
        if problems:
            errors.extend(problems)
        else:
            conditions.append(condition)
    return tuple(conditions), errors


def _engine_value(item: Mapping[str, Any]) -> Any:
    """The JSON value in the engine's type (Decimal for amounts); unconvertible values are left for validation."""
    value = item.get("value", "")
    if item.get("field") != "amount":
        return "" if value is None else value
    if item.get("op") == "between" and isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        return (_decimal(value[0]), _decimal(value[1]))
    return _decimal(value)


def _decimal(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, float):
        return value  # validation explains why a float is refused
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return value
    return value


def condition_to_json(condition: Condition) -> dict[str, Any]:
    value = condition.value
    if isinstance(value, Decimal):
        value = str(value)
    elif isinstance(value, tuple):
        value = [str(part) for part in value]
    return {"field": condition.field, "op": condition.op, "value": value}


def spec_of(*, rule_id: int, version: int, data: RuleData) -> RuleSpec:
    return RuleSpec(
        rule_id=rule_id, version=version, name=data.name, conditions=data.conditions, combine=data.combine,
        account_code=data.account_code, priority=data.priority,
    )
