from ledger_site.exceptions import ConflictError, DomainError


class LedgerInvalid(DomainError):
    """An entry, split, match or report request the books cannot accept (unbalanced, foreign account, bad period)."""

    code = "ledger_invalid"


class LedgerConflict(ConflictError):
    """The entry or transaction is not in a state that allows the action (already posted, already reversed)."""

    code = "ledger_conflict"
