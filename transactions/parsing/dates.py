"""Date formats seen in bank exports: fast parsers and choosing a format from a whole column."""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Callable, Iterable

DateParser = Callable[[str], "datetime.date | None"]

# Every format we try, in preference order: when a column fits several, the first
# is the default (US month-first before day-first), but callers must check ambiguity.
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%m-%d-%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%m-%d-%y",
    "%d-%m-%y",
    "%d.%m.%y",
    "%d %b %Y",
    "%d-%b-%Y",
    "%d/%b/%Y",
    "%d %b %y",
    "%d-%b-%y",
    "%b %d, %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%B %d, %Y",
    "%B %d %Y",
)

_MONTH_ABBREVIATIONS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
# A time of day after the date ("2024-03-01 14:22:10", "3/1/2024 12:00 AM", "...T09:30:00Z").
_TIME_SUFFIX = re.compile(
    r"(?P<date>.+?)[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:\s?[AaPp]\.?[Mm]\.?)?(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?"
)
# strptime directive -> (regex piece, field name); only these get the fast parser.
_DIRECTIVES = {
    "d": (r"(\d{1,2})", "day"),
    "m": (r"(\d{1,2})", "month"),
    "Y": (r"(\d{4})", "year4"),
    "y": (r"(\d{2})", "year2"),
    "b": (r"([A-Za-z]{3})", "month_abbr"),
    "B": (r"([A-Za-z]{3,9})", "month_name"),
}
_HUMAN = {"d": "DD", "m": "MM", "Y": "YYYY", "y": "YY", "b": "Mon", "B": "Month", "H": "HH", "M": "MM", "S": "SS"}
_CACHE_LIMIT = 20_000


def describe_format(date_format: str) -> str:
    """Turn '%d/%m/%Y' into 'DD/MM/YYYY' for messages to people."""
    return re.sub(r"%(.)", lambda m: _HUMAN.get(m.group(1), m.group(0)), date_format)


def _compile_fields(date_format: str) -> tuple[re.Pattern[str], list[str]] | None:
    """Regex and field names for a format made only of %d %m %Y %y %b %B and literals."""
    pattern, names = [], []
    pieces = re.findall(r"([^%]*)(?:%(.))?", date_format)
    # Without separators ("%Y%m%d") day and month must be two digits to split unambiguously.
    packed = not any(literal for literal, _ in pieces)
    for literal, directive in pieces:
        # A space in the format also matches the padding some banks add ("Mar  1, 2024").
        pattern.append(r"\s+".join(re.escape(part) for part in literal.split(" ")))
        if not directive:
            continue
        if directive not in _DIRECTIVES:
            return None
        piece, name = _DIRECTIVES[directive]
        pattern.append(r"(\d{2})" if packed and directive in "dm" else piece)
        names.append(name)
    return re.compile("".join(pattern)), names


def _date_from_fields(names: list[str], values: tuple[str, ...]) -> datetime.date | None:
    """Build a date from matched fields, or None when it does not exist (31/02)."""
    parts = dict(zip(names, values, strict=True))
    if "year4" in parts:
        year = int(parts["year4"])
    else:
        # Same pivot as strptime: 69-99 are 1900s, 00-68 are 2000s.
        short = int(parts["year2"])
        year = short + (1900 if short >= 69 else 2000)
    if "month" in parts:
        month = int(parts["month"])
    elif "month_abbr" in parts:
        month = _MONTH_ABBREVIATIONS.get(parts["month_abbr"].lower(), 0)
    else:
        month = _MONTH_NAMES.get(parts["month_name"].lower(), 0)
    try:
        return datetime.date(year, month, int(parts["day"]))
    except ValueError:
        return None


def _strict_parser(date_format: str) -> DateParser:
    """Parser for exactly the text of one format (no time suffix, no cache)."""
    if date_format == "%Y-%m-%d":
        return _parse_iso
    compiled = _compile_fields(date_format)
    if compiled is None or not {"day"} <= set(compiled[1]):
        return lambda text: _parse_strptime(text, date_format)
    regex, names = compiled

    def parse(text: str) -> datetime.date | None:
        match = regex.fullmatch(text)
        return _date_from_fields(names, match.groups()) if match else None

    return parse


def _parse_iso(text: str) -> datetime.date | None:
    """YYYY-MM-DD via the C fast path; fromisoformat alone would also accept 20240301."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def _parse_strptime(text: str, date_format: str) -> datetime.date | None:
    """Slow general path for user-supplied formats we do not compile ourselves."""
    try:
        return datetime.datetime.strptime(text, date_format).date()
    except ValueError:
        return None


def make_date_parser(date_format: str) -> DateParser:
    """A cached parser for one format; accepts a trailing time of day; None when not a date."""
    strict = _strict_parser(date_format)
    cache: dict[str, datetime.date | None] = {}

    def parse(text: str) -> datetime.date | None:
        try:
            return cache[text]
        except KeyError:
            pass
        result = strict(text)
        if result is None:
            match = _TIME_SUFFIX.fullmatch(text)
            if match:
                result = strict(match.group("date"))
        # Bank files repeat the same few hundred dates; clear rather than grow without bound.
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[text] = result
        return result

    return parse


def formats_matching(values: Iterable[str]) -> tuple[str, ...]:
    """Formats from DATE_FORMATS that read at least one of the values."""
    parsers = {fmt: make_date_parser(fmt) for fmt in DATE_FORMATS}
    found: set[str] = set()
    for value in values:
        found.update(fmt for fmt, parse in parsers.items() if fmt not in found and parse(value))
    return tuple(fmt for fmt in DATE_FORMATS if fmt in found)


class DateFormatVote:
    """Counts which formats read a column's values, to pick the format from the whole column."""

    def __init__(self, formats: Iterable[str]):
        self.parsers = {fmt: make_date_parser(fmt) for fmt in formats}
        self.counts = dict.fromkeys(self.parsers, 0)
        self.parsed_values = 0
        # Pairs of formats that read some value as two different dates.
        self.disagreeing: set[frozenset[str]] = set()
        self._seen: set[str] = set()

    def add(self, text: str) -> bool:
        """Count one value; True when at least one format reads it."""
        if text in self._seen:
            return True
        results = {}
        for fmt, parse in self.parsers.items():
            parsed = parse(text)
            if parsed is not None:
                results[fmt] = parsed
                self.counts[fmt] += 1
        if not results:
            return False
        self.parsed_values += 1
        if len(self._seen) >= _CACHE_LIMIT:
            self._seen.clear()
        self._seen.add(text)
        for first, second in itertools.combinations(results, 2):
            if results[first] != results[second]:
                self.disagreeing.add(frozenset((first, second)))
        return True

    def candidates(self) -> tuple[str, ...]:
        """Formats that read the most values, minus ones that always agree with a better one."""
        best = max(self.counts.values(), default=0)
        if best == 0:
            return ()
        chosen: list[str] = []
        for fmt in self.parsers:
            if self.counts[fmt] != best:
                continue
            # "01 May 2024" fits both %b and %B with the same meaning: not a real choice.
            if all(frozenset((fmt, kept)) in self.disagreeing for kept in chosen):
                chosen.append(fmt)
        return tuple(chosen)
