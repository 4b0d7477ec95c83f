"""Parse and validate a bank file without writing anything: the upload page's preview and `--dry-run`."""
from __future__ import annotations

from itertools import islice
from typing import IO, Any

from transactions.models import Company
from transactions.parsing import Layout, ParsedRow, RowError, iter_rows
from transactions.services.ingest import CENT, chart_lookup, row_problem


def import_preview(
    *, company: Company, handle: IO[bytes], layout: Layout, labeled: bool = False, limit: int | None = None
) -> dict[str, Any]:
    """Every row as it would be imported (or the first `limit` rows), with the errors, and no writes.

    `rows` counts the rows read; `valid + rejected == rows`. Duplicates of rows already in the books are
    found only by the real import.
    """
    accounts = chart_lookup(company_id=company.id) if labeled else {}
    transactions: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for item in islice(iter_rows(handle, layout), limit):
        if isinstance(item, ParsedRow):
            problem = row_problem(item, labeled=labeled, accounts=accounts)
            if problem is None:
                transactions.append(_row_json(item))
                continue
            item = problem
        errors.append(_error_json(item))
    return {
        "format": layout.to_dict(),
        "rows": len(transactions) + len(errors),
        "valid": len(transactions),
        "rejected": len(errors),
        "errors": errors,
        "transactions": transactions,
    }


def _row_json(row: ParsedRow) -> dict[str, Any]:
    return {
        "line": row.line,
        "date": row.date.isoformat(),
        "description": row.description,
        "counterparty": row.counterparty,
        "amount": str(row.amount.quantize(CENT)),  # a string, so the JSON never turns money into a float
        "currency": row.currency,
        "reference": row.reference,
        "account": row.account,
    }


def _error_json(error: RowError) -> dict[str, Any]:
    return {"line": error.line, "column": error.column, "message": error.message}
