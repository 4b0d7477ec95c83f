"""Django-free parsing of bank statement files (CSV-like exports, OFX, QFX).

detect_layout() works out how a file is laid out; iter_rows() streams its transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from .detect import detect_layout, layout_with_mapping
from .models import ColumnMapping, FileRejected, Layout, ParsedRow, RowError
from .ofx import ofx_rows, read_ofx
from .rows import iter_csv_rows

__all__ = [
    "ColumnMapping",
    "FileRejected",
    "Layout",
    "ParsedRow",
    "RowError",
    "detect_layout",
    "iter_rows",
    "layout_with_mapping",
]


def iter_rows(fileobj: BinaryIO, layout: Layout) -> Iterator[ParsedRow | RowError]:
    """Stream the data rows in file order; CSV is never read whole, so memory stays bounded for any size."""
    # Return the generators directly rather than `yield from`: one less layer per row.
    if layout.kind == "ofx":
        return _iter_ofx_rows(fileobj, layout)
    return iter_csv_rows(fileobj, layout)


def _iter_ofx_rows(fileobj: BinaryIO, layout: Layout) -> Iterator[ParsedRow | RowError]:
    """Read the OFX file when iteration starts, like the CSV path."""
    text, root = read_ofx(fileobj, layout.encoding)
    yield from ofx_rows(text, root)
