"""Streaming the data rows of a delimited bank export into ParsedRow / RowError."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import BinaryIO

from .amounts import PLAIN_COMMA, PLAIN_POINT, parse_amount
from .columns import DIRECTION_VALUES, normalize_indicator
from .dates import describe_format, make_date_parser
from .models import FileRejected, Layout, ParsedRow, RowError, new_parsed_row
from .textio import open_text

# Consecutive unreadable rows held back: at end of file they are a summary ("Total", "Closing
# balance") and are dropped; if a good row follows they were real errors and are reported.
PENDING_LIMIT = 50

# Rows that only state a balance (BofA's "Beginning balance as of ..." row has a date but no amount).
BALANCE_LINE = re.compile(
    r"\b(?:opening|beginning|closing|ending|starting|previous|new|brought forward|carried forward)\s+balance\b"
    r"|\bbalance\s+(?:brought|carried)\s+forward\b|\b(?:anfangs|end|alter|neuer)\s?saldo\b"
    r"|\bsolde\s+(?:initial|final|pr[eé]c[eé]dent|au)\b|\bsaldo\s+(?:inicial|final)\b",
    re.IGNORECASE,
)
_CURRENCY_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY"}
_ISO_CODE = re.compile(r"[A-Z]{3}")

Outcome = ParsedRow | list[RowError] | None


class RowParser:
    """Turns the cells of one data row into a ParsedRow, RowErrors, or None for rows to skip."""

    def __init__(self, layout: Layout):
        mapping = layout.mapping
        if mapping is None:
            raise ValueError("a csv layout needs a column mapping")
        self.mapping = mapping
        self.header = layout.header
        # Trailing unnamed header columns ("Date,Amount,") need not appear in every row.
        named = len(layout.header)
        while named > mapping.max_index() + 1 and not layout.header[named - 1].strip():
            named -= 1
        self.width, self.min_width = len(layout.header), named
        self.parse_date = make_date_parser(mapping.date_format)
        self.human_format = describe_format(mapping.date_format)
        self.plain = PLAIN_COMMA if mapping.decimal_comma else PLAIN_POINT
        self.example = "-1234,56" if mapping.decimal_comma else "-1234.56"
        self.money_indexes = [i for i in (mapping.amount, mapping.debit, mapping.credit) if i is not None]

    def name(self, index: int, role: str) -> str:
        """Header name of a column, or the role when the header cell is blank."""
        return self.header[index].strip() or role

    def parse(self, cells: list[str], line: int) -> Outcome:
        """Parse one row; None means a blank or balance-only row that is not a transaction."""
        if not self.min_width <= len(cells) <= self.width and not self._width_ok(cells):
            if not "".join(cells).strip():
                return None
            return [RowError(line, "row", f"expected {self.min_width} columns, found {len(cells)}")]
        mapping = self.mapping
        errors: list[RowError] = []
        date_text = cells[mapping.date].strip()
        date = self.parse_date(date_text) if date_text else None
        if date is None:
            errors.append(self._date_error(line, date_text))
        amount = self._amount(cells, line, errors)
        balance = self._optional_amount(cells, mapping.balance, "balance", line, errors)
        currency = self._currency(cells, line, errors)
        if errors:
            return None if self._not_a_transaction(cells) else errors
        return ParsedRow(
            line,
            date,  # type: ignore[arg-type]
            cells[mapping.description].strip() if mapping.description is not None else "",
            cells[mapping.counterparty].strip() if mapping.counterparty is not None else "",
            amount,  # type: ignore[arg-type]
            currency,
            balance,
            self._reference(cells),
            (cells[mapping.account].strip() or None) if mapping.account is not None else None,
        )

    def _not_a_transaction(self, cells: list[str]) -> bool:
        """Blank rows, and rows with no amount that only state a balance."""
        if not "".join(cells).strip():
            return True
        no_money = all(not cells[index].strip() for index in self.money_indexes)
        return no_money and any(BALANCE_LINE.search(cell) for cell in cells)

    def fast_parse(self) -> Callable[[list[str], int], Outcome]:
        """parse() specialised for the common plain row; anything unusual falls back to parse()."""
        mapping, slow = self.mapping, self.parse
        if mapping.amount is None or mapping.direction is not None or mapping.currency is not None:
            return slow
        width, date_index, amount_index, balance_index = self.width, mapping.date, mapping.amount, mapping.balance
        description_index, counterparty_index, account_index = (
            mapping.description,
            mapping.counterparty,
            mapping.account,
        )
        plain, comma, parse_date = self.plain.fullmatch, mapping.decimal_comma, self.parse_date
        has_reference = mapping.reference is not None or mapping.check_number is not None
        reference = self._reference

        def parse(cells: list[str], line: int) -> Outcome:
            if len(cells) != width:
                return slow(cells, line)
            date = parse_date(cells[date_index])
            text = cells[amount_index]
            if date is None or not plain(text):
                return slow(cells, line)
            balance = None
            if balance_index is not None and cells[balance_index]:
                balance_text = cells[balance_index]
                if not plain(balance_text):
                    return slow(cells, line)
                balance = Decimal(balance_text.replace(",", ".") if comma else balance_text)
            return new_parsed_row(
                line,
                date,
                cells[description_index].strip() if description_index is not None else "",
                cells[counterparty_index].strip() if counterparty_index is not None else "",
                Decimal(text.replace(",", ".") if comma else text),
                None,
                balance,
                reference(cells) if has_reference else None,
                (cells[account_index].strip() or None) if account_index is not None else None,
            )

        return parse

    def _width_ok(self, cells: list[str]) -> bool:
        """Extra cells are fine when they are empty (a trailing delimiter)."""
        return len(cells) > self.width and not "".join(cells[self.width :]).strip()

    def _date_error(self, line: int, text: str) -> RowError:
        """Error for a blank or unreadable date."""
        column = self.name(self.mapping.date, "date")
        if not text:
            return RowError(line, column, f"the date is empty; expected a date in format {self.human_format}")
        return RowError(line, column, f"'{text}' is not a date in format {self.human_format}")

    def _amount_error(self, line: int, index: int, role: str, text: str) -> RowError:
        """Error for an unreadable amount."""
        return RowError(
            line, self.name(index, role), f"'{text}' is not an amount; expected a number like {self.example}"
        )

    def _amount(self, cells: list[str], line: int, errors: list[RowError]) -> Decimal | None:
        """Signed amount: money in > 0, money out < 0."""
        mapping = self.mapping
        if mapping.amount is None:
            return self._debit_credit(cells, line, errors)
        text = cells[mapping.amount].strip()
        if not text:
            errors.append(
                RowError(
                    line,
                    self.name(mapping.amount, "amount"),
                    f"the amount is empty; expected a number like {self.example}",
                )
            )
            return None
        value = parse_amount(text, self.mapping.decimal_comma)
        if value is None:
            errors.append(self._amount_error(line, mapping.amount, "amount", text))
            return None
        if mapping.direction is None:
            return value
        return self._directed(cells[mapping.direction], value, text, line, errors)

    def _directed(self, indicator: str, value: Decimal, text: str, line: int, errors: list[RowError]) -> Decimal | None:
        """Apply a CR/DR column's sign to the amount."""
        column = self.name(self.mapping.direction, "direction")  # type: ignore[arg-type]
        sign = DIRECTION_VALUES.get(normalize_indicator(indicator))
        if sign is None:
            errors.append(
                RowError(line, column, f"'{indicator.strip()}' is not a credit/debit indicator; expected CR or DR")
            )
            return None
        if value < 0 and sign > 0:
            errors.append(
                RowError(line, column, f"the amount '{text}' is negative but '{indicator.strip()}' says money in")
            )
            return None
        return value.copy_abs() if sign > 0 else value.copy_abs().copy_negate()

    def _debit_credit(self, cells: list[str], line: int, errors: list[RowError]) -> Decimal | None:
        """Exactly one of the debit/credit cells holds the amount; debit is money out whatever its sign."""
        mapping = self.mapping
        errors_before = len(errors)
        debit = self._optional_amount(cells, mapping.debit, "debit", line, errors)
        credit = self._optional_amount(cells, mapping.credit, "credit", line, errors)
        if len(errors) > errors_before:
            return None
        if debit is None and credit is None:
            names = [
                self.name(i, role)
                for i, role in ((mapping.debit, "debit"), (mapping.credit, "credit"))
                if i is not None
            ]
            verb = "are both" if len(names) == 2 else "is"
            errors.append(RowError(line, "amount", f"{' and '.join(names)} {verb} empty; expected an amount"))
            return None
        if debit and credit:
            debit_text, credit_text = cells[mapping.debit].strip(), cells[mapping.credit].strip()  # type: ignore[index]
            errors.append(
                RowError(
                    line,
                    "amount",
                    f"both {self.name(mapping.debit, 'debit')} ('{debit_text}') and "  # type: ignore[arg-type]
                    f"{self.name(mapping.credit, 'credit')} ('{credit_text}') have an amount; expected only one",  # type: ignore[arg-type]
                )
            )
            return None
        if debit:
            return debit.copy_abs().copy_negate()
        # A zero in one column and nothing (or zero) in the other is a zero-amount transaction.
        return (credit if credit is not None else debit).copy_abs()  # type: ignore[union-attr]

    def _optional_amount(
        self, cells: list[str], index: int | None, role: str, line: int, errors: list[RowError]
    ) -> Decimal | None:
        """An amount cell that may be blank (None); unreadable text is an error."""
        if index is None:
            return None
        text = cells[index].strip()
        if not text:
            return None
        value = parse_amount(text, self.mapping.decimal_comma)
        if value is None:
            errors.append(self._amount_error(line, index, role, text))
        return value

    def _currency(self, cells: list[str], line: int, errors: list[RowError]) -> str | None:
        """ISO currency code in upper case, or None when there is no currency column or it is blank."""
        index = self.mapping.currency
        if index is None:
            return None
        text = cells[index].strip()
        if not text:
            return None
        code = _CURRENCY_SYMBOLS.get(text, text.upper())
        if not _ISO_CODE.fullmatch(code):
            errors.append(
                RowError(
                    line,
                    self.name(index, "currency"),
                    f"'{text}' is not a currency code; expected three letters like EUR",
                )
            )
            return None
        return code

    def _reference(self, cells: list[str]) -> str | None:
        """The bank's transaction id: the reference column, else the check number."""
        for index in (self.mapping.reference, self.mapping.check_number):
            if index is not None and cells[index].strip():
                return cells[index].strip()
        return None


def iter_csv_rows(fileobj: BinaryIO, layout: Layout) -> Iterator[ParsedRow | RowError]:
    """Stream rows after the header; trailing unreadable one-line rows (a summary) are dropped."""
    parse = RowParser(layout).fast_parse()
    header_line = layout.header_line
    pending = _PendingErrors()
    previous = 0
    text = open_text(fileobj, layout.encoding)
    reader = csv.reader(text, delimiter=layout.delimiter)
    try:
        while True:
            try:
                # One flat loop: this is the hot path for million-row files.
                for cells in reader:
                    line, previous = previous + 1, reader.line_num
                    if line <= header_line:
                        continue
                    outcome = parse(cells, line)
                    if outcome.__class__ is ParsedRow:
                        if pending.errors:
                            yield from pending.flush()
                        yield outcome
                    elif outcome is not None:
                        yield from pending.add(outcome, multiline=previous > line)  # type: ignore[arg-type]
                break
            except csv.Error as exc:
                line, previous = previous + 1, reader.line_num
                if line > header_line:
                    # Always reported: a broken quote can hide real rows, so this is never a "summary".
                    yield from pending.add([RowError(line, "row", f"unreadable CSV row: {exc}")], multiline=True)
        yield from pending.at_end()
    except UnicodeDecodeError as exc:
        raise FileRejected(
            f"The file is not valid {layout.encoding} text (a byte at offset {exc.start} of a block could not "
            "be decoded); upload it again so its encoding can be detected.",
            "encoding",
        ) from None
    finally:
        text.close()


class _PendingErrors:
    """Errors of consecutive unreadable rows, held back in case they are the file's closing summary."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.rows = 0
        # A row spanning several lines is an unbalanced quote that may have swallowed real rows.
        self.must_report = False

    def add(self, errors: list[RowError], multiline: bool) -> list[RowError]:
        """Hold one bad row's errors; returns errors to report now when the buffer is full."""
        self.errors.extend(errors)
        self.rows += 1
        self.must_report = self.must_report or multiline
        # Too long to be a summary block: report now to keep memory bounded.
        return self.flush() if self.rows > PENDING_LIMIT else []

    def flush(self) -> list[RowError]:
        """Everything held, to be reported (a good row followed)."""
        errors, self.errors, self.rows, self.must_report = self.errors, [], 0, False
        return errors

    def at_end(self) -> list[RowError]:
        """At end of file the held rows are a summary and dropped, unless one of them must be reported."""
        return self.flush() if self.must_report else []
