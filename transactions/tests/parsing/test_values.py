"""Single values: amounts, decimal-mark votes, date formats and column-wide date decisions."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transactions.parsing.amounts import DecimalMarkVote, parse_amount
from transactions.parsing.columns import normalize_name
from transactions.parsing.dates import DATE_FORMATS, DateFormatVote, describe_format, make_date_parser


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("12.34", False, "12.34"),
        ("-12.34", False, "-12.34"),
        ("+8.50", False, "8.50"),
        ("(12.34)", False, "-12.34"),
        ("($1,250.00)", False, "-1250.00"),
        ("$-5.00", False, "-5.00"),
        ("-$5.00", False, "-5.00"),
        ("12.34-", False, "-12.34"),
        ("1,234.50-", False, "-1234.50"),
        ("100.00 DR", False, "-100.00"),
        ("100.00 CR", False, "100.00"),
        ("45.60dr", False, "-45.60"),
        ("-45.60 DR", False, "-45.60"),
        ("USD 1,000", False, "1000"),
        ("1,000.00 USD", False, "1000.00"),
        ("€20.00", False, "20.00"),
        ("£1,955.00", False, "1955.00"),
        ("¥5000", False, "5000"),
        ("CHF 12'345.70", False, "12345.70"),
        ("1\u00a0234.56", False, "1234.56"),
        ("1\u202f234.56", False, "1234.56"),
        (".50", False, "0.50"),
        ("\u22123.00", False, "-3.00"),
        ("1,23,456.78", False, "123456.78"),
        ("12,50", True, "12.50"),
        ("-1.234,56", True, "-1234.56"),
        ("1 234,56", True, "1234.56"),
        ("2\u00a0500,00", True, "2500.00"),
        ("-3,50 €", True, "-3.50"),
        ("1.234.567,89", True, "1234567.89"),
        ("1.234", True, "1234"),
    ],
)
def test_parse_amount(text: str, decimal_comma: bool, expected: str) -> None:
    value = parse_amount(text, decimal_comma)
    assert isinstance(value, Decimal)
    assert str(value) == expected


@pytest.mark.parametrize(
    ("text", "decimal_comma"),
    [
        ("", False),
        ("abc", False),
        ("12.3.4", False),
        ("12,50", False),  # a comma group of two digits is not a thousands separator
        ("1,2345.00", False),
        ("1e5", False),
        ("NaN", False),
        ("Infinity", False),
        ("1_000", False),
        ("--5", False),
        ("(5", False),
        ("5.00 CR DR", False),
        ("-5.00 CR", False),
        ("1.234,56", False),
        ("1,234.56", True),
        ("€", False),
    ],
)
def test_unreadable_amounts(text: str, decimal_comma: bool) -> None:
    assert parse_amount(text, decimal_comma) is None


@settings(max_examples=150, deadline=None)
@given(
    value=st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    decimal_comma=st.booleans(),
    grouping=st.sampled_from(["", " ", "'", "\u00a0", "\u202f", "mark"]),
    negative_style=st.sampled_from(["-{}", "{}-", "({})", "{} DR"]),
    currency=st.sampled_from(["{}", "${}", "{} EUR", "EUR {}", "{} €"]),
)
def test_amount_round_trip(
    value: Decimal, decimal_comma: bool, grouping: str, negative_style: str, currency: str
) -> None:
    integer, fraction = f"{abs(value):.2f}".split(".")
    separator = ("." if decimal_comma else ",") if grouping == "mark" else grouping
    groups = []
    while integer:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    text = separator.join(groups) + ("," if decimal_comma else ".") + fraction
    text = currency.format(text)
    if value < 0:
        text = negative_style.format(text)
    assert parse_amount(text, decimal_comma) == value


def test_decimal_mark_vote() -> None:
    def decide(*values: str) -> bool:
        vote = DecimalMarkVote()
        for value in values:
            vote.add(value)
        return vote.decimal_comma()

    assert decide("1.234,56", "2.000,00", "12.00") is True  # the majority decides
    assert decide("12,50", "3,00", "1.50") is True
    assert decide("1,234.56", "12.50") is False
    assert decide("1.234", "5.678") is True  # only three-digit groups after a point: thousands
    assert decide("1,234", "5,678") is False
    assert decide("12", "7") is False
    assert decide("12.3.4", "5,00") is True  # garbage is no evidence


@pytest.mark.parametrize("date_format", DATE_FORMATS)
@settings(max_examples=40, deadline=None)
@given(day=st.dates(min_value=datetime.date(1970, 1, 1), max_value=datetime.date(2068, 12, 31)))
def test_every_format_round_trips(date_format: str, day: datetime.date) -> None:
    if "%y" in date_format and day.year < 1969:
        return
    assert make_date_parser(date_format)(day.strftime(date_format)) == day


@pytest.mark.parametrize(
    ("date_format", "text", "expected"),
    [
        ("%Y-%m-%d", "2024-03-01 14:22:10", datetime.date(2024, 3, 1)),
        ("%Y-%m-%d", "2024-03-01T09:30:00Z", datetime.date(2024, 3, 1)),
        ("%m/%d/%Y", "3/1/2024 12:00 AM", datetime.date(2024, 3, 1)),
        ("%d.%m.%Y", "1.3.2024", datetime.date(2024, 3, 1)),
        ("%b %d, %Y", "Mar  1, 2024", datetime.date(2024, 3, 1)),
        ("%d %b %Y", "01 MAR 2024", datetime.date(2024, 3, 1)),
        ("%d/%m/%Y", "31/02/2024", None),
        ("%Y%m%d", "2024031", None),
        ("%Y-%m-%d", "20240301", None),
        ("%d/%m/%Y", "01/02/24", None),
        ("%d-%m-%Y %H:%M", "01-02-2024 10:11", datetime.date(2024, 2, 1)),  # general strptime path
    ],
)
def test_date_parser(date_format: str, text: str, expected: datetime.date | None) -> None:
    assert make_date_parser(date_format)(text) == expected


def test_date_vote_uses_the_whole_column() -> None:
    vote = DateFormatVote(["%m/%d/%Y", "%d/%m/%Y"])
    for text in ["01/02/2024", "03/04/2024", "garbage", "25/04/2024"]:
        vote.add(text)
    assert vote.candidates() == ("%d/%m/%Y",)


def test_date_vote_keeps_real_ambiguity_and_merges_equivalent_formats() -> None:
    ambiguous = DateFormatVote(["%m/%d/%Y", "%d/%m/%Y"])
    ambiguous.add("01/02/2024")
    assert ambiguous.candidates() == ("%m/%d/%Y", "%d/%m/%Y")
    same_day = DateFormatVote(["%m/%d/%Y", "%d/%m/%Y"])
    same_day.add("03/03/2024")  # both formats give the same date: nothing to choose
    assert same_day.candidates() == ("%m/%d/%Y",)
    may = DateFormatVote(["%d %b %Y", "%d %B %Y"])
    may.add("01 May 2024")
    assert may.candidates() == ("%d %b %Y",)


def test_describe_format() -> None:
    assert describe_format("%d/%m/%Y") == "DD/MM/YYYY"
    assert describe_format("%b %d, %y") == "Mon DD, YY"


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("Betrag (EUR)", "betrag"),
        ("Amount in USD", "amount"),
        ("Paid in", "paid in"),
        ("Libellé", "libelle"),
        ("Währung", "wahrung"),
        ("Straße", "strasse"),
        ("  Check or Slip # ", "check or slip #"),
        ("Running Bal.", "running bal"),
    ],
)
def test_normalize_name(name: str, normalized: str) -> None:
    assert normalize_name(name) == normalized
