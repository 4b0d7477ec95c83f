from ledger_site.exceptions import ConflictError, DomainError


class DecisionInvalid(DomainError):
    """A person's decision cannot be applied (an account outside the company's chart, a bank account)."""

    code = "decision_invalid"


class DecisionConflict(ConflictError):
    """Another reviewer decided the transaction first."""

    code = "decision_conflict"
