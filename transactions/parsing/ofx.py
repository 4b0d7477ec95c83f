"""OFX / QFX statements (SGML v1 and XML v2) read through ofxtools."""

from __future__ import annotations

import datetime
import html
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from ofxtools.Parser import OFXTree

from .models import FileRejected, ParsedRow, RowError

# ofxtools only needs a well-formed header; we rebuild one because real files often have
# missing fields or charsets it does not know, and we have already decoded the body ourselves.
_CANONICAL_HEADER = (
    "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:UTF-8\r\n"
    "CHARSET:NONE\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
)
# Data-bearing elements of a transaction; when one is empty in SGML it has no end tag and
# would otherwise swallow the following elements as its children.
_KNOWN_LEAVES = frozenset(
    """
    TRNTYPE DTPOSTED DTUSER DTAVAIL TRNAMT FITID CORRECTFITID CORRECTACTION SRVRTID CHECKNUM REFNUM SIC
    PAYEEID NAME EXTDNAME MEMO CURRATE CURSYM CURDEF BANKID BRANCHID ACCTID ACCTTYPE ACCTKEY DTSTART DTEND
    BALAMT DTASOF
    """.split()  # noqa: SIM905 - a word list reads better than 28 quoted strings
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9._]*)>")
_EMPTY_OPEN_TAG = re.compile(r"<([A-Z][A-Z0-9._]*)>\s*(?=<(?!/\1>))")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_OFX_DATE = re.compile(r"\s*(\d{4})(\d{2})(\d{2})")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def looks_like_ofx(text: str) -> bool:
    """True when the text starts like an OFX/QFX file (v1 header, XML declaration or <OFX>)."""
    start = text.lstrip()[:4096].upper()
    return (
        start.startswith(("OFXHEADER", "<OFX>")) or "<?OFX" in start or (start.startswith("<?XML") and "<OFX>" in start)
    )


def _clean_body(body: str) -> str:
    """Fix what trips ofxtools in real-world SGML: comments, lower-case tags, empty leaf elements."""
    body = _COMMENT.sub("", body)
    body = _TAG.sub(lambda m: f"<{m.group(1)}{m.group(2).upper()}>", body)
    closed = set(re.findall(r"</([A-Z][A-Z0-9._]*)>", body))

    def drop_empty(match: re.Match[str]) -> str:
        tag = match.group(1)
        # An opening tag with nothing after it is an empty leaf unless the file closes that tag somewhere.
        return "" if tag in _KNOWN_LEAVES or tag not in closed else match.group(0)

    return _EMPTY_OPEN_TAG.sub(drop_empty, body)


def parse_ofx_text(text: str) -> ET.Element:
    """Parse decoded OFX text with ofxtools; raise FileRejected('bad_ofx') when it cannot be read."""
    start = text.upper().find("<OFX>")
    if start < 0:
        raise FileRejected("This OFX file has no <OFX> element; it is damaged or not an OFX file.", "bad_ofx")
    data = (_CANONICAL_HEADER + _clean_body(text[start:])).encode("utf-8")
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
    # ofxtools reports problems as ParseError/SyntaxError, but ElementTree underneath can also
    # raise IndexError or AssertionError on badly nested tags: all mean "this file is broken".
    except Exception as exc:  # noqa: BLE001
        raise FileRejected(f"This OFX file could not be read: {_short_message(exc)}", "bad_ofx") from None
    root = tree.getroot()
    if root is None:
        raise FileRejected("This OFX file has no content inside <OFX>.", "bad_ofx")
    return root


def _short_message(exc: Exception) -> str:
    """ofxtools quotes the whole document in its messages; keep the first line and the position."""
    message = str(exc) or type(exc).__name__
    first_line = message.splitlines()[0]
    position = re.search(r" - position=\[\d+:\d+\]$", message)
    return first_line + (position.group() if position and position.group() not in first_line else "")


def decode_ofx(data: bytes, encoding: str) -> str:
    """Decode OFX bytes with the sniffed encoding, falling back to cp1252 for stray bytes."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_ofx(fileobj: BinaryIO, encoding: str) -> tuple[str, ET.Element]:
    """The decoded text and parsed root of the whole OFX file (OFX files are small)."""
    fileobj.seek(0)
    text = decode_ofx(fileobj.read(), encoding)
    return text, parse_ofx_text(text)


def _transaction_lines(text: str) -> list[int]:
    """Physical line number of each <STMTTRN> in the original text, in order."""
    lines, line, position = [], 1, 0
    for match in re.finditer(r"<stmttrn>", text, re.IGNORECASE):
        line += len(_LINE_BREAK.findall(text, position, match.start()))
        position = match.start()
        lines.append(line)
    return lines


def _currencies(root: ET.Element) -> dict[int, str]:
    """Default currency (CURDEF of the enclosing statement) for each STMTTRN, keyed by id()."""
    currency_of = {}
    for statement in root.iter():
        curdef = (statement.findtext("CURDEF") or "").strip().upper()
        if curdef:
            for transaction in statement.iter("STMTTRN"):
                currency_of[id(transaction)] = curdef
    return currency_of


def _text(element: ET.Element, path: str) -> str:
    """Unescaped, stripped text of a child element ('' when absent)."""
    return html.unescape(element.findtext(path) or "").strip()


def _description(name: str, memo: str) -> str:
    """NAME and MEMO combined without repeating what NAME already says."""
    if not memo or memo in name:
        return name
    if not name or memo.startswith(name):
        return memo
    return f"{name} - {memo}"


def _amount(text: str) -> Decimal | None:
    """TRNAMT as Decimal; some banks write a decimal comma."""
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _date(text: str) -> datetime.date | None:
    """The date part of an OFX datetime (YYYYMMDD[HHMMSS[.XXX][TZ]])."""
    match = _OFX_DATE.match(text)
    if not match:
        return None
    try:
        return datetime.date(*map(int, match.groups()))
    except ValueError:
        return None


def _row(transaction: ET.Element, line: int, default_currency: str | None) -> ParsedRow | RowError:
    """One STMTTRN as a ParsedRow, or a RowError naming the broken element."""
    date_tag = "DTPOSTED" if transaction.find("DTPOSTED") is not None else "DTUSER"
    date_text = _text(transaction, date_tag)
    date = _date(date_text)
    if date is None:
        return RowError(line, "DTPOSTED", f"'{date_text}' is not an OFX date; expected YYYYMMDD such as 20240315")
    amount_text = _text(transaction, "TRNAMT")
    amount = _amount(amount_text)
    if amount is None:
        return RowError(line, "TRNAMT", f"'{amount_text}' is not an amount; expected a number like -12.34")
    name = _text(transaction, "NAME") or _text(transaction, "PAYEE/NAME")
    memo = _text(transaction, "MEMO")
    currency = _text(transaction, "CURRENCY/CURSYM").upper() or default_currency
    reference = _text(transaction, "FITID") or _text(transaction, "CHECKNUM") or None
    return ParsedRow(
        line=line,
        date=date,
        description=_description(name, memo),
        counterparty=name if memo else "",
        amount=amount,
        currency=currency or None,
        balance=None,
        reference=reference,
        account=None,
    )


def ofx_rows(text: str, root: ET.Element) -> Iterator[ParsedRow | RowError]:
    """Transactions of a parsed OFX document in file order."""
    transactions = list(root.iter("STMTTRN"))
    lines = _transaction_lines(text)
    if len(lines) != len(transactions):
        # Could not match tags to transactions one-to-one: fall back to ordinals.
        lines = list(range(1, len(transactions) + 1))
    currency_of = _currencies(root)
    for transaction, line in zip(transactions, lines, strict=True):
        yield _row(transaction, line, currency_of.get(id(transaction)))


def count_ofx_transactions(root: ET.Element) -> int:
    """Number of STMTTRN elements."""
    return sum(1 for _ in root.iter("STMTTRN"))
