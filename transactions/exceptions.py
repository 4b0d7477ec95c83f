from ledger_site.exceptions import ConflictError, DomainError


class ImportRejected(DomainError):
    """The uploaded file as a whole cannot be imported (not a bank statement, unreadable, ambiguous)."""

    code = "import_rejected"


class ImportConflict(ConflictError):
    """The import cannot start now: another import of the bank account is being undone."""

    code = "import_conflict"


class AmbiguousDateFormat(DomainError):
    code = "ambiguous_date_format"
    http_status = 422


class UploadTooLarge(DomainError):
    code = "upload_too_large"
    http_status = 413


class UploadRateExceeded(DomainError):
    code = "upload_rate_exceeded"
    http_status = 429
