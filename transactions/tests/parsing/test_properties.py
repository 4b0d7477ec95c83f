"""Property: transactions rendered in any bank dialect parse back to exactly the same transactions."""

from __future__ import annotations

import dataclasses
import datetime
import re
from decimal import Decimal

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from transactions.parsing import ParsedRow, layout_with_mapping

from .helpers import parse_bytes

# Formats whose day/month order only a day > 12 can reveal, with their swapped twin.
SWAPPED = {
    "%m/%d/%Y": "%d/%m/%Y",
    "%d/%m/%Y": "%m/%d/%Y",
    "%m-%d-%Y": "%d-%m-%Y",
    "%d-%m-%Y": "%m-%d-%Y",
    "%m/%d/%y": "%d/%m/%y",
    "%d/%m/%y": "%m/%d/%y",
    "%m-%d-%y": "%d-%m-%y",
    "%d-%m-%y": "%m-%d-%y",
}
DATE_FORMATS = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d %b %Y",
    "%b %d, %Y",
    "%d-%b-%y",
    *SWAPPED,
]
DATE_HEADERS = ["Date", "Transaction Date", "Posting Date", "Buchungstag", "Datum", "Fecha", "Date opération"]
DESCRIPTION_HEADERS = ["Description", "Details", "Narrative", "Verwendungszweck", "Libellé", "Memo"]
AMOUNT_HEADERS = ["Amount", "Betrag", "Montant", "Amount (EUR)", "Bedrag"]
DEBIT_CREDIT_HEADERS = [("Debit", "Credit"), ("Paid out", "Paid in"), ("Withdrawal", "Deposit"), ("Soll", "Haben")]
DIRECTION_HEADERS = [
    ("CR/DR", "CR", "DR"),
    ("Type", "Credit", "Debit"),
    ("Credit/Debit", "C", "D"),
    ("Af Bij", "Bij", "Af"),
]
BALANCE_HEADERS = ["Balance", "Running Bal.", "Saldo"]
# Characters real Western statements use; cp1252 files draw only from these so the encoding stays decidable.
CP1252_EXTRA = "äöüÄÖÜßéèêàçñøåÉ€£¥°§–—‘’“”…«»\u00a0"
SPECIAL = ",;|\t\"'\n\r"


@dataclasses.dataclass(frozen=True)
class Transaction:
    date: datetime.date
    description: str
    amount: Decimal
    balance: Decimal


@dataclasses.dataclass(frozen=True)
class Dialect:
    encoding: str
    delimiter: str
    line_end: str
    date_format: str
    decimal_comma: bool
    grouping: str
    money: str  # "signed" | "debit_credit" | "direction"
    negative_style: str
    headers: dict
    with_balance: bool
    quote_all: bool
    preamble: tuple[str, ...]
    trailing_blank_lines: int


def description_text(encoding: str) -> st.SearchStrategy[str]:
    """Descriptions with delimiters, quotes, newlines and non-ASCII, limited to what the encoding can hold."""
    if encoding == "cp1252":
        alphabet = st.sampled_from([chr(c) for c in range(32, 127)] + list(CP1252_EXTRA) + list(SPECIAL))
    else:
        alphabet = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")) | st.sampled_from(list(SPECIAL))
    return st.text(alphabet, max_size=30).map(str.strip)


@st.composite
def dialects(draw: st.DrawFn) -> Dialect:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    decimal_comma = draw(st.booleans())
    groupings = ["", " ", "'", "\u00a0", "." if decimal_comma else ","]
    if encoding != "cp1252":
        groupings.append("\u202f")
    money = draw(st.sampled_from(["signed", "debit_credit", "direction"]))
    headers = {
        "date": draw(st.sampled_from(DATE_HEADERS)),
        "description": draw(st.sampled_from(DESCRIPTION_HEADERS)),
        "amount": draw(st.sampled_from(AMOUNT_HEADERS)),
        "debit_credit": draw(st.sampled_from(DEBIT_CREDIT_HEADERS)),
        "direction": draw(st.sampled_from(DIRECTION_HEADERS)),
        "balance": draw(st.sampled_from(BALANCE_HEADERS)),
    }
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    preamble_lines = draw(
        st.lists(
            st.sampled_from(["Account number: 12345678", "Statement period 2024", "", f"IBAN{delimiter}DE00 1234"]),
            max_size=3,
        )
    )
    return Dialect(
        encoding=encoding,
        delimiter=delimiter,
        line_end=draw(st.sampled_from(["\n", "\r\n", "\r"])),
        date_format=draw(st.sampled_from(DATE_FORMATS)),
        decimal_comma=decimal_comma,
        grouping=draw(st.sampled_from(groupings)),
        money=money,
        negative_style=draw(st.sampled_from(["-{}", "{}-", "({})"])),
        headers=headers,
        with_balance=draw(st.booleans()),
        quote_all=draw(st.booleans()),
        preamble=tuple(preamble_lines),
        trailing_blank_lines=draw(st.integers(0, 2)),
    )


def money_amounts() -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=-999_999, max_value=999_999, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def statements(draw: st.DrawFn) -> tuple[Dialect, list[Transaction]]:
    dialect = draw(dialects())
    transaction = st.builds(
        Transaction,
        date=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2035, 12, 31)),
        description=description_text(dialect.encoding),
        amount=money_amounts(),
        balance=money_amounts(),
    )
    transactions = draw(st.lists(transaction, min_size=1, max_size=12))
    if draw(st.booleans()):
        # Days 1-12 only, so day-first vs month-first formats are often genuinely ambiguous.
        transactions = [dataclasses.replace(t, date=t.date.replace(day=t.date.day % 12 + 1)) for t in transactions]
    return dialect, transactions


def render_amount(value: Decimal, dialect: Dialect, signed: bool = True) -> str:
    """Amount text in the dialect's decimal mark, grouping and negative style."""
    integer, fraction = f"{abs(value):.2f}".split(".")
    groups = []
    while integer:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    text = dialect.grouping.join(groups) + ("," if dialect.decimal_comma else ".") + fraction
    return dialect.negative_style.format(text) if signed and value < 0 else text


def quote(field: str, dialect: Dialect) -> str:
    """CSV quoting as a bank's exporter would do it."""
    if dialect.quote_all or any(char in field for char in (dialect.delimiter, '"', "\r", "\n")):
        return '"' + field.replace('"', '""') + '"'
    return field


def render(dialect: Dialect, transactions: list[Transaction]) -> tuple[bytes, list[int], int]:
    """The file bytes, the physical line of each transaction, and the header line."""
    header = [dialect.headers["date"], dialect.headers["description"]]
    if dialect.money == "signed":
        header.append(dialect.headers["amount"])
    elif dialect.money == "debit_credit":
        header.extend(dialect.headers["debit_credit"])
    else:
        header.extend([dialect.headers["amount"], dialect.headers["direction"][0]])
    if dialect.with_balance:
        header.append(dialect.headers["balance"])
    records = [list(dialect.preamble), [quote(name, dialect) for name in header]]
    for item in transactions:
        cells = [item.date.strftime(dialect.date_format), item.description]
        if dialect.money == "signed":
            cells.append(render_amount(item.amount, dialect))
        elif dialect.money == "debit_credit":
            text = render_amount(item.amount, dialect, signed=False)
            cells.extend([text, ""] if item.amount < 0 else ["", text])
        else:
            _, credit, debit = dialect.headers["direction"]
            cells.extend([render_amount(item.amount, dialect, signed=False), debit if item.amount < 0 else credit])
        if dialect.with_balance:
            cells.append(render_amount(item.balance, dialect))
        records.append([quote(cell, dialect) for cell in cells])
    lines = records[0] + [dialect.delimiter.join(cells) for cells in records[1:]]
    header_line = len(dialect.preamble) + 1
    row_lines, line = [], header_line + 1
    for text in lines[header_line:]:
        row_lines.append(line)
        line += 1 + len(re.findall(r"\r\n|\r|\n", text))
    body = dialect.line_end.join(lines) + dialect.line_end * (1 + dialect.trailing_blank_lines)
    return body.encode(dialect.encoding), row_lines, header_line


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statements())
def test_rendered_statements_parse_back_exactly(statement: tuple[Dialect, list[Transaction]]) -> None:
    dialect, transactions = statement
    data, row_lines, header_line = render(dialect, transactions)
    if dialect.encoding == "cp1252":
        # cp1252 bytes that also form valid UTF-8 are indistinguishable from UTF-8 by design.
        assume(data.isascii() or not is_utf8(data))

    layout, _ = parse_bytes(data)
    assert layout.delimiter == dialect.delimiter
    assert layout.header_line == header_line
    # Every amount has two decimals, so the decimal mark is always decidable.
    assert layout.mapping.decimal_comma == dialect.decimal_comma

    days = [item.date for item in transactions]
    swapped = SWAPPED.get(dialect.date_format)
    ambiguous = swapped is not None and all(day.day <= 12 for day in days) and any(d.day != d.month for d in days)
    assert layout.is_ambiguous == ambiguous
    event(f"{dialect.encoding} {dialect.money} ambiguous={ambiguous}")
    if ambiguous:
        assert set(layout.date_format_candidates) == {dialect.date_format, swapped}
        # The user picks the real format, as the UI would ask them to.
        layout = layout_with_mapping(layout, dataclasses.replace(layout.mapping, date_format=dialect.date_format))

    _, results = parse_bytes(data, layout)
    assert all(isinstance(item, ParsedRow) for item in results), results
    expected = [
        (line, item.date, item.description, item.amount, item.balance if dialect.with_balance else None)
        for line, item in zip(row_lines, transactions, strict=True)
    ]
    actual = [(row.line, row.date, row.description, row.amount, row.balance) for row in results]
    assert actual == expected
