from ledger_site.exceptions import DomainError


class DecisionInvalid(DomainError):
    """A person's decision cannot be applied (an account outside the company's chart, a bank account)."""

    code = "decision_invalid"
