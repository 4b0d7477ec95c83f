"""The engine's data types: rule specifications, what the matcher sees of a transaction, and results.

Everything here is plain, immutable data so that rules can be built from database rows, fixtures or
tests alike, and compiled rule sets can be shared between threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "AMOUNT_OPS",
    "BANK_ACCOUNT_OPS",
    "COMBINE_MODES",
    "DIRECTION_OPS",
    "FIELDS",
    "FIELD_OPS",
    "TEXT_FIELDS",
    "TEXT_OPS",
    "Condition",
    "InvalidRulesError",
    "RuleError",
    "RuleMatch",
    "RuleSpec",
    "TxnInput",
]

TEXT_FIELDS = ("counterparty", "description")
TEXT_OPS = ("equals", "contains", "starts_with", "regex")
AMOUNT_OPS = ("eq", "lt", "gt", "between")
DIRECTION_OPS = ("in", "out")
BANK_ACCOUNT_OPS = ("equals",)
FIELD_OPS: dict[str, tuple[str, ...]] = {
    "counterparty": TEXT_OPS,
    "description": TEXT_OPS,
    "amount": AMOUNT_OPS,
    "direction": DIRECTION_OPS,
    "bank_account": BANK_ACCOUNT_OPS,
}
FIELDS = tuple(sorted(FIELD_OPS))
COMBINE_MODES = ("all", "any")


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on a transaction.

    field/op/value combinations:
      * "counterparty", "description": op "equals" | "contains" | "starts_with" | "regex", value text.
        Compared case-insensitively against normalized text (see ``rules.engine.text``).
      * "amount": op "eq" | "lt" | "gt" (value a Decimal >= 0) or "between" (value (low, high), inclusive).
        Amount conditions compare the magnitude |amount|; the sign is a "direction" condition.
      * "direction": op "in" (amount > 0, money in) | "out" (amount < 0); value "" or the op itself.
      * "bank_account": op "equals", value the bank account's account code.
    """

    field: str
    op: str
    value: str | Decimal | tuple[Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One version of a vendor rule: when its conditions hold, the transaction goes to ``account_code``."""

    rule_id: int
    version: int
    name: str
    conditions: tuple[Condition, ...]
    combine: str  # "all": every condition must hold; "any": one is enough
    account_code: str
    priority: int  # lower number = tried earlier


@dataclass(frozen=True, slots=True)
class TxnInput:
    """What the matcher sees of a bank transaction (amount signed: money in > 0, money out < 0)."""

    description: str
    counterparty: str
    amount: Decimal
    bank_account: str  # the bank account's account code


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The rule version that decided a transaction, and the account it decided."""

    rule_id: int
    version: int
    account_code: str


@dataclass(frozen=True, slots=True)
class RuleError:
    """A validation problem: ``field`` is a path into the spec ("combine", "conditions[2].value")."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidRulesError(ValueError):
    """Raised by ``compile_rules`` when some specs do not validate; ``errors`` maps rule_id to its problems."""

    def __init__(self, errors: dict[int, list[RuleError]]) -> None:
        self.errors = errors
        lines = [f"rule {rule_id}: {error}" for rule_id, problems in errors.items() for error in problems]
        super().__init__("invalid rules:\n  " + "\n  ".join(lines))
