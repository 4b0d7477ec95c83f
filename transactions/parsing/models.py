"""Value types shared by the bank-file parser: layouts, mappings, rows and errors."""

from __future__ import annotations

import codecs
import datetime
import hashlib
import re
from dataclasses import asdict, dataclass, fields
from decimal import Decimal

KINDS = ("csv", "ofx")
CSV_DELIMITERS = (",", ";", "\t", "|")
REJECTION_CODES = (
    "empty",
    "header_only",
    "binary",
    "spreadsheet",
    "no_header",
    "encoding",
    "bad_ofx",
    "no_date_column",
    "no_amount_column",
)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# A day and month that differ and are both unambiguous, to prove a format round-trips a date.
_PROBE_DATE = datetime.date(2031, 11, 23)


class FileRejected(Exception):
    """The whole file is not a usable bank statement."""

    def __init__(self, message: str, code: str):
        # Both in args so the exception survives pickling (e.g. when a task queue carries it).
        super().__init__(message, code)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


# Roles that hold a column index; the order is the order of ColumnMapping fields.
INDEX_ROLES = (
    "date",
    "description",
    "counterparty",
    "amount",
    "debit",
    "credit",
    "direction",
    "balance",
    "currency",
    "reference",
    "check_number",
    "account",
)
# Roles that decide the date or the money: one column cannot play two of them.
_EXCLUSIVE_ROLES = ("date", "amount", "debit", "credit", "direction", "balance")


@dataclass(frozen=True)
class ColumnMapping:
    """Which column (0-based index into the header row) plays which role."""

    date: int
    description: int | None = None
    counterparty: int | None = None
    amount: int | None = None
    debit: int | None = None
    credit: int | None = None
    direction: int | None = None
    balance: int | None = None
    currency: int | None = None
    reference: int | None = None
    check_number: int | None = None
    account: int | None = None
    date_format: str = "%Y-%m-%d"
    decimal_comma: bool = False

    def __post_init__(self) -> None:
        for role in INDEX_ROLES:
            value = getattr(self, role)
            if role == "date" and value is None:
                raise ValueError("mapping.date is required: the index of the date column")
            # bool is an int subclass; True as a column index is always a mistake.
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"mapping.{role} must be a column index (an integer >= 0) or null, not {value!r}")
        if self.amount is None and self.debit is None and self.credit is None:
            raise ValueError("mapping needs an amount column, or a debit and/or credit column")
        if self.amount is not None and (self.debit is not None or self.credit is not None):
            raise ValueError("mapping has both an amount column and debit/credit columns; use one or the other")
        if self.direction is not None and self.amount is None:
            raise ValueError("mapping.direction (a CR/DR column) only makes sense together with mapping.amount")
        used: dict[int, str] = {}
        for role in _EXCLUSIVE_ROLES:
            index = getattr(self, role)
            if index is not None and index in used:
                raise ValueError(f"column {index} is mapped to both {used[index]} and {role}")
            if index is not None:
                used[index] = role
        check_date_format(self.date_format)
        if not isinstance(self.decimal_comma, bool):
            raise ValueError(f"mapping.decimal_comma must be true or false, not {self.decimal_comma!r}")  # noqa: TRY004 - callers catch ValueError for any bad input

    def max_index(self) -> int:
        """The largest column index used by this mapping."""
        return max(getattr(self, role) for role in INDEX_ROLES if getattr(self, role) is not None)

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ColumnMapping:
        """Build from to_dict() output; raises ValueError on bad input."""
        if not isinstance(data, dict):
            raise ValueError(f"mapping must be an object, not {type(data).__name__}")  # noqa: TRY004 - callers catch ValueError for any bad input
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"mapping has unknown keys: {', '.join(unknown)}")
        if "date" not in data:
            raise ValueError("mapping.date is required: the index of the date column")
        return cls(**data)


def check_date_format(date_format: object) -> None:
    """Raise ValueError unless date_format is a strptime pattern that pins down a day."""
    if not isinstance(date_format, str) or "%" not in date_format:
        raise ValueError(f"date_format must be a strptime pattern such as '%d/%m/%Y', not {date_format!r}")
    try:
        text = _PROBE_DATE.strftime(date_format)
        parsed = datetime.datetime.strptime(text, date_format).date()
    except ValueError as exc:
        raise ValueError(f"date_format {date_format!r} is not a valid strptime pattern: {exc}") from None
    if parsed != _PROBE_DATE:
        raise ValueError(f"date_format {date_format!r} does not contain a full date (day, month and year)")


def header_fingerprint(header: tuple[str, ...], delimiter: str) -> str:
    """sha256 of the normalized header names plus the delimiter: stable for one bank's export."""
    normalized = "\x1f".join(name.strip().lower() for name in header)
    return hashlib.sha256((normalized + delimiter).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Layout:
    """How to read one bank's export: encoding, dialect, header position and column roles."""

    kind: str
    encoding: str
    delimiter: str
    header_line: int
    header: tuple[str, ...]
    mapping: ColumnMapping | None
    fingerprint: str
    date_format_candidates: tuple[str, ...]

    @property
    def is_ambiguous(self) -> bool:
        """True when the date column fits several formats and the user must choose one."""
        return len(self.date_format_candidates) > 1

    def to_dict(self) -> dict:
        """JSON-serialisable form, e.g. for a saved import profile."""
        return {
            "kind": self.kind,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header_line": self.header_line,
            "header": list(self.header),
            "mapping": None if self.mapping is None else self.mapping.to_dict(),
            "fingerprint": self.fingerprint,
            "date_format_candidates": list(self.date_format_candidates),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Layout:
        """Rebuild from to_dict() output; raises ValueError with a precise message on bad input."""
        if not isinstance(data, dict):
            raise ValueError(f"layout must be an object, not {type(data).__name__}")  # noqa: TRY004 - callers catch ValueError for any bad input
        expected = {f.name for f in fields(cls)}
        missing = sorted(expected - set(data))
        if missing:
            raise ValueError(f"layout is missing keys: {', '.join(missing)}")
        unknown = sorted(set(data) - expected)
        if unknown:
            raise ValueError(f"layout has unknown keys: {', '.join(unknown)}")
        kind = _checked_kind(data["kind"])
        encoding = _checked_encoding(data["encoding"])
        delimiter = _checked_delimiter(data["delimiter"], kind)
        header_line = _checked_header_line(data["header_line"])
        header = _checked_str_list(data["header"], "header")
        mapping = None if data["mapping"] is None else ColumnMapping.from_dict(data["mapping"])
        candidates = _checked_str_list(data["date_format_candidates"], "date_format_candidates")
        for candidate in candidates:
            check_date_format(candidate)
        fingerprint = data["fingerprint"]
        if not isinstance(fingerprint, str) or not _SHA256_HEX.fullmatch(fingerprint):
            raise ValueError("fingerprint must be a 64-character lower-case sha256 hex string")
        layout = cls(kind, encoding, delimiter, header_line, header, mapping, fingerprint, candidates)
        check_layout_consistency(layout)
        return layout


def check_layout_consistency(layout: Layout) -> None:
    """Raise ValueError when the parts of a layout do not fit together."""
    if layout.kind == "ofx":
        if layout.mapping is not None:
            raise ValueError("an ofx layout has no column mapping; mapping must be null")
        return
    if layout.mapping is None:
        raise ValueError("a csv layout needs a column mapping")
    if not layout.header:
        raise ValueError("a csv layout needs a non-empty header")
    if layout.mapping.max_index() >= len(layout.header):
        raise ValueError(
            f"mapping uses column {layout.mapping.max_index()} but the header has only "
            f"{len(layout.header)} columns (indexes 0-{len(layout.header) - 1})"
        )
    if layout.fingerprint != header_fingerprint(layout.header, layout.delimiter):
        raise ValueError("fingerprint does not match the header and delimiter")


def _checked_kind(kind: object) -> str:
    """Validate Layout.kind."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return str(kind)


def _checked_encoding(encoding: object) -> str:
    """Validate that encoding names a Python text codec."""
    if not isinstance(encoding, str) or not encoding:
        raise ValueError(f"encoding must be a codec name such as 'utf-8', not {encoding!r}")
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"encoding {encoding!r} is not a known text encoding") from None
    if not getattr(info, "_is_text_encoding", True):
        raise ValueError(f"encoding {encoding!r} is not a text encoding")
    return encoding


def _checked_delimiter(delimiter: object, kind: str) -> str:
    """Validate the delimiter for the layout kind."""
    if kind == "ofx":
        if delimiter != "":
            raise ValueError(f"an ofx layout has no delimiter; expected '', not {delimiter!r}")
        return ""
    if delimiter not in CSV_DELIMITERS:
        raise ValueError(f"delimiter must be one of {CSV_DELIMITERS!r}, not {delimiter!r}")
    return str(delimiter)


def _checked_header_line(header_line: object) -> int:
    """Validate the 1-based header line number (0 means none)."""
    if isinstance(header_line, bool) or not isinstance(header_line, int) or header_line < 0:
        raise ValueError(f"header_line must be an integer >= 0, not {header_line!r}")
    return header_line


def _checked_str_list(value: object, name: str) -> tuple[str, ...]:
    """Validate a list of strings and return it as a tuple."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name} must be a list of strings")
    return tuple(value)


@dataclass(frozen=True)
class ParsedRow:
    """One transaction read from a bank file."""

    line: int
    date: datetime.date
    description: str
    counterparty: str
    amount: Decimal
    currency: str | None
    balance: Decimal | None
    reference: str | None
    account: str | None


_new_object = object.__new__


def new_parsed_row(
    line: int,
    date: datetime.date,
    description: str,
    counterparty: str,
    amount: Decimal,
    currency: str | None,
    balance: Decimal | None,
    reference: str | None,
    account: str | None,
) -> ParsedRow:
    """ParsedRow(...) for the hot loop: fills the instance dict directly, skipping the frozen __init__.

    The frozen dataclass __init__ sets each field through object.__setattr__, which is about half
    the per-row cost of a large import; the resulting object is identical (equality, hash, repr).
    """
    row = _new_object(ParsedRow)
    row.__dict__.update(
        line=line,
        date=date,
        description=description,
        counterparty=counterparty,
        amount=amount,
        currency=currency,
        balance=balance,
        reference=reference,
        account=account,
    )
    return row


@dataclass(frozen=True)
class RowError:
    """A data row that could not be read, with where and why."""

    line: int
    column: str
    message: str
