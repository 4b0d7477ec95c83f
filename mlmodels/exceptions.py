from ledger_site.exceptions import DomainError


class NotEnoughHistory(DomainError):
    """Too few confirmed transactions to train on."""

    code = "not_enough_history"
    http_status = 422
