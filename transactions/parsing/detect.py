"""detect_layout: from raw bytes to a Layout (encoding, dialect, header, column roles, formats)."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import BinaryIO

from .amounts import DecimalMarkVote
from .columns import (
    Roles,
    header_has_date_name,
    header_has_money_name,
    recognise_columns,
    recognise_headerless,
)
from .dates import DATE_FORMATS, DateFormatVote, formats_matching
from .models import (
    CSV_DELIMITERS,
    ColumnMapping,
    FileRejected,
    Layout,
    check_layout_consistency,
    header_fingerprint,
)
from .ofx import count_ofx_transactions, looks_like_ofx, read_ofx
from .sniff import reject_by_magic, reject_control_characters, sniff_encoding
from .textio import open_text

SAMPLE_BYTES = 256 * 1024
SNIFF_ROWS = 300
HEADER_SEARCH_ROWS = 60
HEADERLESS_SEARCH_ROWS = 20
# One physical line with its ending, as io.TextIOWrapper(newline="") would yield it.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
# Rows after the header that are not transactions: they do not make a file "not header-only".
_SUMMARY_WORDS = re.compile(
    r"total|balance|summe|saldo|solde|closing|opening|ending|beginning|count|number of", re.IGNORECASE
)


@dataclass(frozen=True)
class _Table:
    """Where the table is in a file and what its columns hold, guessed from the sample."""

    delimiter: str
    header_line: int
    header: tuple[str, ...]
    roles: Roles
    sample: list[list[str]]

    def score(self) -> tuple[int, float, int]:
        """Prefer more recognised roles, then rows that agree with the header width, then more columns."""
        recognised = sum(value is not None for value in vars(self.roles).values())
        consistent = sum(len(row) == len(self.header) for row in self.sample) / max(1, len(self.sample))
        return recognised, consistent, len(self.header)


def detect_layout(fileobj: BinaryIO, *, filename: str = "") -> Layout:
    """Sniff encoding, format, delimiter, header row and column roles; raises FileRejected."""
    # Formats are decided from every row in one streaming pass (bounded memory); the file is
    # left at position 0 so the caller can pass it straight to iter_rows.
    # The filename is deliberately not used to decide anything: uploads are judged by content.
    fileobj.seek(0)
    try:
        head = fileobj.read(SAMPLE_BYTES)
        complete = not fileobj.read(1)
        return _detect(fileobj, head, complete)
    finally:
        fileobj.seek(0)


def layout_with_mapping(layout: Layout, mapping: ColumnMapping) -> Layout:
    """A user-corrected mapping (keeps the fingerprint); its date format becomes the only candidate."""
    if layout.kind != "csv":
        raise ValueError(f"only csv layouts have a column mapping to correct, not {layout.kind}")
    corrected = replace(layout, mapping=mapping, date_format_candidates=(mapping.date_format,))
    check_layout_consistency(corrected)
    return corrected


def _detect(fileobj: BinaryIO, head: bytes, complete: bool) -> Layout:
    """detect_layout without the seek bookkeeping."""
    reject_by_magic(head)
    encoding = sniff_encoding(head, complete)
    text = _decode_sample(head, encoding, complete)
    if not text.strip():
        raise FileRejected("The file is empty.", "empty")
    reject_control_characters(text)
    if looks_like_ofx(text):
        return _detect_ofx(fileobj, encoding)
    try:
        return _detect_csv(fileobj, text, encoding)
    except UnicodeDecodeError:
        # Only the sample was checked; a later byte shows the file is not UTF-8 after all.
        if encoding != "utf-8" or not head.isascii():
            raise FileRejected(
                f"The file is not consistently encoded as {encoding} (or any single encoding); "
                "save it again as UTF-8 CSV and upload that.",
                "encoding",
            ) from None
        return _detect_csv(fileobj, text, "cp1252")


def _decode_sample(head: bytes, encoding: str, complete: bool) -> str:
    """Decode the sample; when the file goes on, drop the cut-off last line."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        text = decoder.decode(head, final=complete)
    except UnicodeDecodeError:
        raise FileRejected(
            f"The file could not be decoded as {encoding}; save it as UTF-8 CSV and upload it again.", "encoding"
        ) from None
    last_break = max(text.rfind("\n"), text.rfind("\r"))
    if not complete and last_break >= 0:
        text = text[: last_break + 1]
    return text


def _detect_ofx(fileobj: BinaryIO, encoding: str) -> Layout:
    """Layout for an OFX/QFX file, after checking ofxtools can read it."""
    _, root = read_ofx(fileobj, encoding)
    if count_ofx_transactions(root) == 0:
        raise FileRejected("This OFX file contains no transactions.", "header_only")
    return Layout("ofx", encoding, "", 0, (), None, header_fingerprint((), ""), ())


def _detect_csv(fileobj: BinaryIO, text: str, encoding: str) -> Layout:
    """Layout for a delimited file: table from the sample, formats from the whole file."""
    table = _find_table(text)
    candidates, decimal_comma = _scan_file(fileobj, encoding, table)
    roles = table.roles
    mapping = ColumnMapping(
        date=roles.date,  # type: ignore[arg-type]
        description=roles.description,
        counterparty=roles.counterparty,
        amount=roles.amount,
        debit=roles.debit,
        credit=roles.credit,
        direction=roles.direction,
        balance=roles.balance,
        currency=roles.currency,
        reference=roles.reference,
        check_number=roles.check_number,
        account=roles.account,
        date_format=candidates[0],
        decimal_comma=decimal_comma,
    )
    fingerprint = header_fingerprint(table.header, table.delimiter)
    return Layout("csv", encoding, table.delimiter, table.header_line, table.header, mapping, fingerprint, candidates)


def _sample_rows(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(physical start line, cells) of the first rows of the sample."""
    # Lines split lazily (io.StringIO would copy the whole sample into a 4-bytes-per-character buffer).
    lines = (match.group() for match in _LINE.finditer(text) if match.group())
    reader = csv.reader(lines, delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    previous = 0
    try:
        for cells in reader:
            rows.append((previous + 1, cells))
            previous = reader.line_num
            if len(rows) >= SNIFF_ROWS:
                break
    except csv.Error:
        pass  # a broken quote in the sample: judge the delimiter on the rows before it
    return rows


def _non_blank(rows: Sequence[tuple[int, list[str]]]) -> list[list[str]]:
    """Cells of the rows that have content and do not start like a summary line ("Total", "Closing balance")."""
    return [cells for _, cells in rows if "".join(cells).strip() and not _SUMMARY_WORDS.match(cells[0].strip())]


def _header_table(delimiter: str, rows: list[tuple[int, list[str]]]) -> _Table | None:
    """The first row naming a date and an amount column, with the roles checked against the data below it."""
    for position, (line, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if len(cells) < 2 or not (header_has_date_name(cells) and header_has_money_name(cells)):
            continue
        data = [row for row in _non_blank(rows[position + 1 :]) if len(row) >= len(cells)]
        roles = recognise_columns(cells, data)
        if roles.date is not None and roles.has_money:
            return _Table(delimiter, line, tuple(cells), roles, data)
    return None


def _headerless_table(delimiter: str, rows: list[tuple[int, list[str]]]) -> _Table | None:
    """A file with no header: the first run of same-width rows with a date and an amount column."""
    for position, (line, cells) in enumerate(rows[:HEADERLESS_SEARCH_ROWS]):
        if len(cells) < 2 or not "".join(cells).strip():
            continue
        block: list[list[str]] = []
        for _, row in rows[position:]:
            if len(row) != len(cells) or len(block) == 5:
                break
            block.append(row)
        roles = recognise_headerless(block)
        if roles.date is not None and roles.amount is not None:
            header = tuple(f"column {number}" for number in range(1, len(cells) + 1))
            return _Table(delimiter, line - 1, header, roles, block)
    return None


def _find_table(text: str) -> _Table:
    """The best header (or headerless) table over all delimiters; FileRejected when there is none."""
    rows_by_delimiter = {delimiter: _sample_rows(text, delimiter) for delimiter in CSV_DELIMITERS}
    for finder in (_header_table, _headerless_table):
        tables = [table for d, rows in rows_by_delimiter.items() if (table := finder(d, rows))]
        if tables:
            return max(tables, key=_Table.score)
    raise _no_table_rejection(rows_by_delimiter)


def _no_table_rejection(rows_by_delimiter: dict[str, list[tuple[int, list[str]]]]) -> FileRejected:
    """Explain why no table was found: which column is missing, or no header at all."""
    for rows in rows_by_delimiter.values():
        for position, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
            has_date, has_money = header_has_date_name(cells), header_has_money_name(cells)
            if len(cells) < 2 or not (has_date or has_money):
                continue
            columns = ", ".join(f"'{cell.strip()}'" for cell in cells)
            data = _non_blank(rows[position + 1 :])
            if has_date and has_money:
                return _unreadable_columns(cells, data, columns)
            if has_date:
                return FileRejected(
                    f"Found a date column but no amount, debit or credit column; the columns are {columns}.",
                    "no_amount_column",
                )
            return FileRejected(
                f"Found an amount column but no date column; the columns are {columns}.", "no_date_column"
            )
    return FileRejected(
        f"Could not find the header row: none of the first {HEADER_SEARCH_ROWS} lines names a date column and an "
        "amount (or debit/credit) column, e.g. 'Date,Description,Amount'.",
        "no_header",
    )


def _unreadable_columns(cells: list[str], data: list[list[str]], columns: str) -> FileRejected:
    """Named date and amount columns exist, but their values are not dates / amounts."""
    if recognise_columns(cells, data).date is None:
        index = next(i for i in range(len(cells)) if header_has_date_name([cells[i]]))
        return FileRejected(
            f"The column '{cells[index].strip()}' does not contain dates we can read ({_example(data, index)}).",
            "no_date_column",
        )
    index = next(i for i in range(len(cells)) if header_has_money_name([cells[i]]))
    return FileRejected(
        f"The column '{cells[index].strip()}' does not contain amounts we can read ({_example(data, index)}); "
        f"the columns are {columns}.",
        "no_amount_column",
    )


def _example(rows: list[list[str]], index: int) -> str:
    """'for example <first value>' of a column, for rejection messages."""
    value = next((row[index].strip() for row in rows if index < len(row) and row[index].strip()), "")
    return f"for example '{value}'" if value else "it is empty"


def _scan_file(fileobj: BinaryIO, encoding: str, table: _Table) -> tuple[tuple[str, ...], bool]:
    """Stream the whole file once: date format candidates and decimal comma, from every data row."""
    roles = table.roles
    assert roles.date is not None
    sample_dates = [row[roles.date].strip() for row in table.sample if roles.date < len(row)]
    dates = DateFormatVote(formats_matching(sample_dates) or DATE_FORMATS)
    marks = DecimalMarkVote()
    money = [i for i in (roles.amount, roles.debit, roles.credit, roles.balance) if i is not None]
    transactions, first_bad_date = 0, ""
    stream = open_text(fileobj, encoding)
    try:
        reader = csv.reader(stream, delimiter=table.delimiter)
        for cells in _rows_after(reader, table.header_line):
            date_text = cells[roles.date].strip() if roles.date < len(cells) else ""
            if date_text and dates.add(date_text):
                transactions += 1
            elif "".join(cells).strip() and not any(_SUMMARY_WORDS.search(cell) for cell in cells):
                transactions += 1
                first_bad_date = first_bad_date or date_text
            for index in money:
                if index < len(cells) and cells[index]:
                    marks.add(cells[index].strip())
    finally:
        stream.close()
    return _date_candidates(dates, table, transactions, first_bad_date), marks.decimal_comma()


def _rows_after(reader: Iterator[list[str]], header_line: int) -> Iterator[list[str]]:
    """Cells of the rows starting after the header line; unreadable rows are skipped."""
    previous = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            previous = reader.line_num  # type: ignore[attr-defined]
            continue
        line, previous = previous + 1, reader.line_num  # type: ignore[attr-defined]
        if line > header_line:
            yield cells


def _date_candidates(dates: DateFormatVote, table: _Table, transactions: int, first_bad_date: str) -> tuple[str, ...]:
    """The date formats that fit the whole column, or FileRejected when no row has a date."""
    candidates = dates.candidates()
    if candidates:
        return candidates
    if transactions == 0:
        raise FileRejected("The file has a header row but no transactions.", "header_only")
    name = table.header[table.roles.date].strip()  # type: ignore[index]
    example = f"for example '{first_bad_date}'" if first_bad_date else "it is empty"
    raise FileRejected(f"The column '{name}' does not contain dates we can read ({example}).", "no_date_column")
