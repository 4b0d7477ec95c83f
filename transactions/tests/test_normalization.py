"""The description normalizer and vendor key shared by rules, ML features and rule promotion (no database)."""
from __future__ import annotations

import itertools
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transactions.demo_data import COMPANIES, generate_transactions
from transactions.normalization import normalize_description, normalize_with_vendor_key, vendor_key

# (raw bank description, normalized, vendor key): how real banks print card, ACH and check lines.
BANK_STRINGS = [
    ("SQ *HAMILTON COFFEE #1123", "HAMILTON COFFEE", "HAMILTON COFFEE"),
    ("SQ*HAMILTON COFFEE #0042 Cincinnati OH", "HAMILTON COFFEE CINCINNATI OH", "HAMILTON COFFEE"),
    ("AMZN MKTP US*2K4LL0", "AMAZON", "AMAZON"),
    ("AMZN Mktp US*2K4LL0", "AMAZON", "AMAZON"),
    ("Amazon.com*MK1AB2CD3", "AMAZON", "AMAZON"),
    ("AMAZON MKTPL*RT5YU1", "AMAZON", "AMAZON"),
    ("amzn mktp us*2k4ll0", "AMAZON", "AMAZON"),
    ("AMAZON.COM*MK1AB2CD3 AMZN.COM/BILL WA", "AMAZON AMAZON BILL WA", "AMAZON"),
    ("AMAZON WEB SERVICES AWS.AMAZON.CO WA", "AWS WA", "AWS"),
    ("UBER *TRIP HELP.UBER.COM", "UBER TRIP", "UBER TRIP"),
    ("UBER *EATS 8X7Y2Z", "UBER EATS", "UBER EATS"),
    ("UBEREATS HELP.UBER.COM CA", "UBER EATS CA", "UBER EATS"),
    ("ADOBE *CREATIVE CLD 408-536-6000 CA", "ADOBE CREATIVE CLD CA", "ADOBE CREATIVE CLD"),
    ("COMCAST CABLE COMM 800-COMCAST", "COMCAST CABLE COMM", "COMCAST CABLE COMM"),
    ("GUSTO PAYROLL 240312 PPD ID: 1234567", "GUSTO PAYROLL", "GUSTO PAYROLL"),
    ("POS DEBIT 03/12 STAPLES 00123 CINCINNATI OH", "STAPLES CINCINNATI OH", "STAPLES"),
    ("STAPLES STORE 0042 CINCINNATI OH", "STAPLES CINCINNATI OH", "STAPLES"),
    ("DEBIT CARD PURCHASE XXXX1234 TST* KROGER 2024-03-12", "KROGER", "KROGER"),
    ("PURCHASE AUTHORIZED ON 03/12 KROGER #123 CARD 4821", "KROGER", "KROGER"),
    ("TST*LA ROSAS PIZZERIA 03-12-24 CARD 1234", "LA ROSAS PIZZERIA", "LA ROSAS PIZZERIA"),
    ("PAYPAL *EBAY 402-935-7733 CA", "EBAY CA", "EBAY"),
    ("PAYPAL INST XFER 1049238475 WEB ID: PAYPALSI77", "PAYPAL INST XFER", "PAYPAL INST XFER"),
    ("SQUARE INC DES:SQ240312 ID:T9X8Y7Z6 INDN:HAMILTON COFFEE CO ID:9424300002 CCD", "SQUARE INC", "SQUARE"),
    ("STRIPE DES:TRANSFER ID:ST-X4B2C9D1E2F3 INDN:CINCY WEB BUILDERS CO ID:1800948598 CCD", "STRIPE", "STRIPE"),
    ("CHECK 1043", "CHECK", "CHECK"),
    ("CHECK #1044", "CHECK", "CHECK"),
    ("DUKE ENERGY OH 1234567890 WEB", "DUKE ENERGY OH", "DUKE ENERGY"),
    ("DUKE-ENERGY BILL PAY 250312", "DUKE ENERGY BILL PAY", "DUKE ENERGY"),
    ("APPLE.COM/BILL 866-712-7753 CA", "APPLE BILL CA", "APPLE"),
    ("GOOGLE *ADS1234567890 cc@google.com CA", "GOOGLE CA", "GOOGLE"),
    ("ONLINE TRANSFER TO CHK ...4821 REF #IB0K2MZ7QX", "ONLINE TRANSFER TO CHK", "TRANSFER TO CHK"),
    ("McDonald's F12345", "MCDONALDS", "MCDONALDS"),
    ("ZELLE PAYMENT TO MARIA LOPEZ JPM99AB12CD3", "ZELLE PAYMENT TO MARIA LOPEZ", "ZELLE TO MARIA"),
    ("IRS USATAXPYMT 270412345678901 CCD", "IRS USATAXPYMT", "IRS USATAXPYMT"),
    ("COSTCO WHSE #0123 MASON OH", "COSTCO MASON OH", "COSTCO"),
    ("WAL-MART #5309 FLORENCE KY", "WALMART FLORENCE KY", "WALMART"),
    ("THE HOME DEPOT #3814", "THE HOME DEPOT", "HOME DEPOT"),
    ("FACEBK *8R2C9ZK4Q2", "FACEBOOK", "FACEBOOK"),
    ("NETFLIX.COM", "NETFLIX", "NETFLIX"),
    ("7-ELEVEN 34567 COVINGTON KY", "7 ELEVEN COVINGTON KY", "7 ELEVEN"),
    ("  Shell   Oil  57444163708  ", "SHELL OIL", "SHELL OIL"),
    ("MONTHLY SERVICE FEE", "MONTHLY SERVICE FEE", "MONTHLY SERVICE FEE"),
    ("", "", ""),
]

# Different printings of one vendor, all of which must land on one key.
VENDOR_VARIANTS = [
    ["AMZN MKTP US*2K4LL0", "Amazon.com*MK1AB2CD3", "AMAZON MKTPL*RT5YU1", "AMZN Mktp US*9Z8Y7X"],
    ["SQ *HAMILTON COFFEE #1123", "SQ *HAMILTON COFFEE #0042", "sq *hamilton coffee #77 cincinnati oh"],
    ["POS DEBIT 03/12 STAPLES 00123 CINCINNATI OH", "STAPLES STORE 0042 MASON OH", "DEBIT CARD PURCHASE STAPLES #88"],
    ["GUSTO PAYROLL 240312 PPD ID: 1234567", "GUSTO PAYROLL 240329 PPD ID: 1234567"],
    ["UBER *TRIP HELP.UBER.COM CA", "UBER *TRIP 8X7Y2Z", "UBER TRIP HELP.UBER.COM"],
    ["DUKE ENERGY OH 1234567890 WEB", "DUKE-ENERGY BILL PAY 250312", "DUKE ENERGY PAYMENT 9876543210"],
    ["COSTCO WHSE #0123 MASON OH", "COSTCO WHOLESALE 0456 FLORENCE KY", "POS DEBIT 03/12 COSTCO WHSE #0123"],
    ["CHECK 1043", "CHECK 2210", "CHECK #1044"],
]


@pytest.mark.parametrize(("raw", "normalized", "key"), BANK_STRINGS)
def test_normalize_description_strips_bank_noise(raw: str, normalized: str, key: str) -> None:
    assert normalize_description(raw) == normalized


@pytest.mark.parametrize(("raw", "normalized", "key"), BANK_STRINGS)
def test_vendor_key_is_the_leading_merchant_name(raw: str, normalized: str, key: str) -> None:
    assert vendor_key(raw) == key


@pytest.mark.parametrize(("raw", "normalized", "key"), BANK_STRINGS)
def test_normalizing_twice_equals_normalizing_once(raw: str, normalized: str, key: str) -> None:
    once = normalize_description(raw)

    assert normalize_description(once) == once


@pytest.mark.parametrize("variants", VENDOR_VARIANTS, ids=lambda variants: variants[0])
def test_variants_of_one_vendor_share_a_key(variants: list[str]) -> None:
    keys = {vendor_key(variant) for variant in variants}

    assert len(keys) == 1
    assert keys != {""}


def test_uber_rides_and_uber_eats_stay_different_vendors() -> None:
    assert vendor_key("UBER *TRIP HELP.UBER.COM CA") != vendor_key("UBER *EATS 8X7Y2Z")


def test_vendor_key_prefers_the_counterparty() -> None:
    key = vendor_key("POS DEBIT 03/12 SOMETHING ELSE 00123", "The Home Depot Inc.")

    assert key == "HOME DEPOT"


@pytest.mark.parametrize("counterparty", ["", "   ", "#1234", "12/03"])
def test_vendor_key_falls_back_to_the_description_when_the_counterparty_says_nothing(counterparty: str) -> None:
    assert vendor_key("SQ *HAMILTON COFFEE #1123", counterparty) == "HAMILTON COFFEE"


def test_normalized_text_of_arbitrary_descriptions_is_stable_and_clean() -> None:
    rows = itertools.chain.from_iterable(
        generate_transactions(company_slug=company.slug, count=2_000, seed=5) for company in COMPANIES
    )

    for row in rows:
        once = normalize_description(row.description)
        assert normalize_description(once) == once
        assert once == once.strip() and "  " not in once
        assert "|" not in once and "|" not in vendor_key(row.description, row.counterparty)


# Fragments that exercise the noise rules, mixed with arbitrary printable characters.
_FRAGMENTS = st.sampled_from(
    [*string.ascii_letters, *string.digits, *string.punctuation, " ", "AMZN", " MKTP ", " US*", "POS ", "DEBIT ",
     "CARD ", "SQ *", ".COM", " ID: ", "INDN:", "WWW.", " PPD", " WEB", "STORE ", "REF ", "#", "800-", "|"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=24).map("".join))
def test_normalization_is_idempotent_and_upper_case_for_any_ascii_text(text: str) -> None:
    once = normalize_description(text)

    assert normalize_description(once) == once
    assert set(once) <= set(string.ascii_uppercase + string.digits + " ")
    assert once == " ".join(once.split())
    assert set(vendor_key(text)) <= set(string.ascii_uppercase + string.digits + " ")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_normalization_is_idempotent_for_any_unicode_text(text: str) -> None:
    once = normalize_description(text)

    assert normalize_description(once) == once


@pytest.mark.parametrize(("raw", "normalized", "key"), BANK_STRINGS)
def test_one_tokenization_gives_the_same_text_and_key(raw: str, normalized: str, key: str) -> None:
    assert normalize_with_vendor_key(raw) == (normalized, key)


def test_one_tokenization_agrees_with_the_two_functions_on_demo_data() -> None:
    rows = itertools.chain.from_iterable(
        generate_transactions(company_slug=company.slug, count=3000, seed=11) for company in COMPANIES
    )
    mismatches = [
        row.description for row in rows
        if normalize_with_vendor_key(row.description) != (normalize_description(row.description), vendor_key(row.description))
    ]
    assert mismatches == []


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=24).map("".join))
def test_one_tokenization_agrees_with_the_two_functions_on_any_text(text: str) -> None:
    assert normalize_with_vendor_key(text) == (normalize_description(text), vendor_key(text))
