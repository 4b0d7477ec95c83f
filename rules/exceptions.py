from __future__ import annotations

from rules.engine import RuleError
from ledger_site.exceptions import ConflictError, DomainError


class RuleInvalid(DomainError):
    """A rule (or a rules file) failed validation; `extra["fields"]` maps each path to its messages."""

    code = "rule_invalid"

    @classmethod
    def from_errors(cls, errors: list[RuleError], *, prefix: str = "") -> RuleInvalid:
        fields: dict[str, list[str]] = {}
        for error in errors:
            fields.setdefault(f"{prefix}{error.field}", []).append(error.message)
        summary = "; ".join(f"{path}: {' '.join(messages)}" for path, messages in fields.items())
        return cls(f"The rule is not valid. {summary}", extra={"fields": fields})


class RuleStateConflict(ConflictError):
    """The rule is not in a state that allows the action (approving a retired rule, editing a rejected one)."""

    code = "rule_state_conflict"
