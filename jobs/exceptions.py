from ledger_site.exceptions import DomainError


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key was sent with a different request body."""

    code = "idempotency_key_reused"
    http_status = 422


class JobKindUnavailable(DomainError):
    code = "job_kind_unavailable"
