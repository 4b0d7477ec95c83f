"""Shared helpers for the parsing tests: run the parser on bytes and describe results as plain data."""

from __future__ import annotations

import dataclasses
import io

from transactions.parsing import Layout, ParsedRow, RowError, detect_layout, iter_rows


def row_dict(row: ParsedRow) -> dict:
    """A ParsedRow as JSON-like data (amounts and dates as strings)."""
    return {
        "line": row.line,
        "date": row.date.isoformat(),
        "description": row.description,
        "counterparty": row.counterparty,
        "amount": str(row.amount),
        "currency": row.currency,
        "balance": None if row.balance is None else str(row.balance),
        "reference": row.reference,
        "account": row.account,
    }


def parse_bytes(data: bytes, layout: Layout | None = None) -> tuple[Layout, list[ParsedRow | RowError]]:
    """detect_layout (unless given) and iter_rows over in-memory bytes."""
    stream = io.BytesIO(data)
    layout = layout or detect_layout(stream)
    return layout, list(iter_rows(stream, layout))


def split_results(results: list[ParsedRow | RowError]) -> tuple[list[ParsedRow], list[RowError]]:
    """Separate parsed rows from row errors."""
    rows = [item for item in results if isinstance(item, ParsedRow)]
    errors = [item for item in results if isinstance(item, RowError)]
    return rows, errors


def error_dicts(errors: list[RowError]) -> list[dict]:
    """RowErrors as plain dicts."""
    return [dataclasses.asdict(error) for error in errors]
