"""Money amounts as banks write them, parsed to Decimal (never float)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# The common case, checked before any cleanup: "-1234.56" / "-1234,56".
PLAIN_POINT = re.compile(r"[+-]?\d+(?:\.\d+)?")
PLAIN_COMMA = re.compile(r"[+-]?\d+(?:,\d+)?")

# Thousands separators: comma/point (whichever is not the decimal mark), space,
# apostrophe (Swiss), right single quote, no-break space, narrow no-break space.
_OTHER_GROUPING = " '\u2019\u00a0\u202f"


def _number_regex(group: str, decimal: str) -> re.Pattern[str]:
    """Digits with optional grouping (last group of three) and optional decimals."""
    sep = f"[{re.escape(group + _OTHER_GROUPING)}]"
    integer = rf"\d{{1,3}}(?:{sep}\d{{2,3}})*{sep}\d{{3}}|\d+"
    dec = re.escape(decimal)
    return re.compile(rf"(?:{integer})(?:{dec}\d+)?|{dec}\d+")


_NUMBER = {False: _number_regex(",", "."), True: _number_regex(".", ",")}
_STRIP = {False: str.maketrans("", "", "," + _OTHER_GROUPING), True: str.maketrans(",", ".", "." + _OTHER_GROUPING)}

# Signs, brackets and currency marks that may sit before or after the number.
_CURRENCY = r"[A-Z]{3}|[A-Z]{1,2}\$|[$€£¥]"
_PREFIX = re.compile(rf"(?:[+\-\u2212(]|{_CURRENCY})\s*")
_SUFFIX = re.compile(rf"\s*(?:[+\-\u2212)]|(?i:cr|dr)\.?|{_CURRENCY})$")


def _strip_marks(text: str) -> tuple[str, list[str]]:
    """Remove sign/currency/bracket/CR-DR marks; return the bare number and the marks seen."""
    marks: list[str] = []
    while match := _PREFIX.match(text):
        marks.append(match.group().strip())
        text = text[match.end() :]
    while match := _SUFFIX.search(text):
        if match.start() == 0:
            break
        marks.append(match.group().strip().upper().rstrip("."))
        text = text[: match.start()]
    return text, marks


def _sign_from_marks(marks: list[str]) -> int | None:
    """+1 / -1 from the marks, or None when they contradict each other."""
    minus = sum(mark in ("-", "\u2212") for mark in marks)
    brackets = marks.count("(") + marks.count(")")
    debit, credit = "DR" in marks, "CR" in marks
    if minus > 1 or brackets not in (0, 2) or (debit and credit) or marks.count("+") > 1:
        return None
    negative = minus == 1 or brackets == 2
    if credit and negative:
        return None
    return -1 if negative or debit else 1


def parse_amount(text: str, decimal_comma: bool) -> Decimal | None:
    """Parse a non-blank amount such as '(1,234.56)', '12,50 €', '12.34-', '100.00 DR'; None if unreadable."""
    plain = PLAIN_COMMA if decimal_comma else PLAIN_POINT
    if plain.fullmatch(text):
        return Decimal(text.replace(",", ".") if decimal_comma else text)
    bare, marks = _strip_marks(text.strip())
    sign = _sign_from_marks(marks)
    if sign is None or not _NUMBER[decimal_comma].fullmatch(bare):
        return None
    try:
        value = Decimal(bare.translate(_STRIP[decimal_comma]))
    except InvalidOperation:
        return None
    return value.copy_negate() if sign < 0 else value


def readable_amount(text: str) -> bool:
    """True when the text is an amount in either decimal convention."""
    return parse_amount(text, False) is not None or parse_amount(text, True) is not None


def decimal_evidence(text: str) -> str:
    """What one amount says about the decimal mark: 'comma', 'point', 'comma3', 'point3' or ''."""
    last_comma, last_point = text.rfind(","), text.rfind(".")
    if last_comma < 0 and last_point < 0:
        return ""
    if last_comma >= 0 and last_point >= 0:
        return "comma" if last_comma > last_point else "point"
    mark = "," if last_comma >= 0 else "."
    position = max(last_comma, last_point)
    if text.count(mark) > 1:
        # "1,234,567" or "1.234.567": repeated marks are grouping, so the decimal is the other one.
        return "point" if mark == "," else "comma"
    digits_after = len(text[position + 1 :]) - len(text[position + 1 :].lstrip("0123456789"))
    if digits_after == 3:
        # "1,234" / "1.234": a thousands group or three decimals; decided by the rest of the column.
        return "comma3" if mark == "," else "point3"
    return "comma" if mark == "," else "point"


class DecimalMarkVote:
    """Decides decimal comma vs point from all the amounts of a file."""

    def __init__(self) -> None:
        self.counts = {"comma": 0, "point": 0, "comma3": 0, "point3": 0}

    def add(self, text: str) -> None:
        """Count the evidence of one amount value; garbage such as '12.3.4' is no evidence."""
        if PLAIN_POINT.fullmatch(text) or PLAIN_COMMA.fullmatch(text):
            # Fast path for "-1234.56" / "12,50": at most one mark, so its digits decide.
            mark = max(text.find("."), text.find(","))
            if mark >= 0:
                kind = "point" if text[mark] == "." else "comma"
                self.counts[kind + "3" if len(text) - mark == 4 else kind] += 1
            return
        evidence = decimal_evidence(text)
        if not evidence:
            return
        if evidence in ("comma", "point"):
            readable = parse_amount(text, evidence == "comma") is not None
        else:
            readable = readable_amount(text)
        if readable:
            self.counts[evidence] += 1

    def decimal_comma(self) -> bool:
        """True when the file writes amounts as 1.234,56."""
        comma, point = self.counts["comma"], self.counts["point"]
        if comma != point:
            return comma > point
        # Only "1.234"-style values: money rarely has three decimals, so the point groups thousands.
        return self.counts["point3"] > 0 and self.counts["comma3"] == 0
