"""The demo transaction generator: deterministic, streaming, realistic enough to keep classifiers honest."""
from __future__ import annotations

import collections
import csv
import dataclasses
import datetime
import gc
import io
import itertools
import sys
import time
import tracemalloc
from decimal import Decimal

import pytest

from transactions.demo_data import (
    ACCOUNT_TYPES,
    CHART_OF_ACCOUNTS,
    COMPANIES,
    GeneratedTransaction,
    chart_for,
    generate_transactions,
    write_csv,
)
from transactions.normalization import vendor_key

SLUGS = [company.slug for company in COMPANIES]
REPORT_ACCOUNTS = {
    "6100": "Office Supplies",
    "6200": "Utilities",
    "6300": "Software Subscriptions",
    "6400": "Payroll Expenses",
    "6500": "Travel & Transport",
    "6600": "Shipping & Freight",
    "7000": "Advertising",
    "8000": "Sales Revenue",
}


def generate(slug: str, count: int = 3_000, seed: int = 11) -> list[GeneratedTransaction]:
    return list(generate_transactions(company_slug=slug, count=count, seed=seed))


def vendor_only_accuracy(rows: list[GeneratedTransaction]) -> float:
    """Accuracy of predicting each row's account as its vendor's majority account, fitted on the same rows."""
    accounts_by_vendor: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for row in rows:
        accounts_by_vendor[vendor_key(row.description, row.counterparty)][row.account_code] += 1
    correct = sum(counts.most_common(1)[0][1] for counts in accounts_by_vendor.values())
    return correct / len(rows)


def test_all_five_demo_companies_are_present_with_exact_slugs() -> None:
    assert [(company.name, company.slug) for company in COMPANIES] == [
        ("Hamilton Coffee", "hamilton-coffee"),
        ("Cincy Web Builders", "cincy-web-builders"),
        ("Liberty Childcare", "liberty-childcare"),
        ("Contreras RE", "contreras-re"),
        ("Midwest Accounting", "midwest-accounting"),
    ]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_chart_has_the_report_accounts_and_the_checking_bank_account(slug: str) -> None:
    chart = {account.code: account for account in chart_for(slug)}

    assert {code: chart[code].name for code in REPORT_ACCOUNTS} == REPORT_ACCOUNTS
    assert chart["8000"].type == "income"
    assert (chart["1000"].name, chart["1000"].type, chart["1000"].is_bank) == ("Checking", "asset", True)
    assert [account.code for account in chart.values() if account.is_bank] == ["1000"]


@pytest.mark.parametrize("slug", SLUGS)
def test_charts_have_unique_codes_valid_types_and_extend_the_shared_chart(slug: str) -> None:
    chart = chart_for(slug)
    codes = [account.code for account in chart]

    assert len(codes) == len(set(codes))
    assert codes == sorted(codes)
    assert {account.type for account in chart} <= set(ACCOUNT_TYPES)
    assert set(CHART_OF_ACCOUNTS) <= set(chart)


def test_unknown_company_slug_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown company slug"):
        chart_for("acme")
    with pytest.raises(ValueError, match="unknown company slug"):
        generate_transactions(company_slug="acme", count=1, seed=1)


@pytest.mark.parametrize("slug", SLUGS)
def test_same_seed_gives_identical_transactions(slug: str) -> None:
    assert generate(slug, count=2_000, seed=3) == generate(slug, count=2_000, seed=3)


@pytest.mark.parametrize("slug", SLUGS)
def test_different_seed_gives_different_transactions(slug: str) -> None:
    first, second = generate(slug, count=500, seed=3), generate(slug, count=500, seed=4)

    assert first != second
    assert [row.description for row in first] != [row.description for row in second]


def test_companies_generate_different_streams_from_the_same_seed() -> None:
    streams = {tuple(row.description for row in generate(slug, count=200, seed=1)) for slug in SLUGS}

    assert len(streams) == len(SLUGS)


@pytest.mark.parametrize("count", [0, 1, 7, 250, 12_345])
def test_count_is_honored_exactly(count: int) -> None:
    assert sum(1 for _ in generate_transactions(company_slug="contreras-re", count=count, seed=2)) == count


def test_negative_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="count"):
        generate_transactions(company_slug="contreras-re", count=-1, seed=2)


@pytest.mark.parametrize("slug", SLUGS)
def test_amounts_are_nonzero_decimals_with_exactly_two_places(slug: str) -> None:
    for row in generate(slug):
        assert isinstance(row.amount, Decimal)
        assert row.amount.as_tuple().exponent == -2
        assert row.amount != 0
        assert row.currency == "USD"


@pytest.mark.parametrize("slug", SLUGS)
def test_every_account_code_exists_in_the_company_chart(slug: str) -> None:
    codes = {account.code for account in chart_for(slug)}

    used = {row.account_code for row in generate(slug)}

    assert used <= codes
    assert "1000" not in used  # the bank account is the other side of every line, never the category


@pytest.mark.parametrize("slug", SLUGS)
def test_company_specific_accounts_are_used(slug: str) -> None:
    company = next(company for company in COMPANIES if company.slug == slug)

    used = {row.account_code for row in generate(slug, count=5_000)}

    assert {account.code for account in company.extra_accounts} <= used


@pytest.mark.parametrize("slug", SLUGS)
def test_dates_are_non_decreasing_and_start_at_start(slug: str) -> None:
    start = datetime.date(2024, 6, 3)

    dates = [row.date for row in generate_transactions(company_slug=slug, count=3_000, seed=1, start=start)]

    assert dates == sorted(dates)
    assert dates[0] >= start
    assert dates[-1] <= start + datetime.timedelta(days=4 * 365)


def test_large_streams_are_packed_into_about_three_years() -> None:
    last = None
    for last in generate_transactions(company_slug="contreras-re", count=100_000, seed=1):
        pass

    assert last is not None
    assert datetime.date(2027, 6, 1) < last.date < datetime.date(2028, 6, 1)


@pytest.mark.parametrize("slug", SLUGS)
def test_money_in_is_positive_and_money_out_is_negative(slug: str) -> None:
    types = {account.code: account.type for account in chart_for(slug)}
    rows = generate(slug, count=5_000)

    income = [row for row in rows if types[row.account_code] == "income"]
    expenses = [row for row in rows if types[row.account_code] == "expense"]

    assert income and all(row.amount > 0 for row in income)
    # Expenses go out, except refunds and reimbursements that come back.
    negative_share = sum(row.amount < 0 for row in expenses) / len(expenses)
    assert 0.9 < negative_share < 1.0


@pytest.mark.parametrize("slug", SLUGS)
def test_vendor_name_alone_is_informative_but_not_sufficient(slug: str) -> None:
    accuracy = vendor_only_accuracy(generate(slug, count=10_000, seed=1))

    assert 0.5 < accuracy < 0.99


def test_ambiguous_vendors_map_to_several_accounts() -> None:
    rows = generate("hamilton-coffee", count=10_000)
    accounts: dict[str, set[str]] = collections.defaultdict(set)
    for row in rows:
        accounts[vendor_key(row.description, row.counterparty)].add(row.account_code)

    assert {"6100", "5100", "1500"} <= accounts["AMAZON"]
    assert {"5000", "6100", "6900"} <= accounts["COSTCO"]
    assert len(accounts["CHECK"]) >= 3
    assert len(accounts["VENMO"]) >= 3


def test_amount_carries_signal_for_an_ambiguous_vendor() -> None:
    rows = [row for row in generate("cincy-web-builders", count=10_000) if row.amount < 0]

    amazon = [row for row in rows if vendor_key(row.description, row.counterparty) == "AMAZON"]
    equipment = sorted(-row.amount for row in amazon if row.account_code == "1500")
    supplies = sorted(-row.amount for row in amazon if row.account_code == "6100")

    # Laptops cost more than paper, but the ranges overlap: amount helps without settling it.
    assert equipment[len(equipment) // 2] > 5 * supplies[len(supplies) // 2]
    assert equipment[0] < supplies[-1]


def test_descriptions_look_like_bank_exports() -> None:
    rows = [row for slug in SLUGS for row in generate(slug, count=3_000)]
    descriptions = [row.description for row in rows]

    assert any(text.startswith("AMZN MKTP US*") for text in descriptions)
    assert any(text.startswith("SQ *") for text in descriptions)
    assert any(text.startswith("POS DEBIT ") for text in descriptions)
    assert any("PPD ID:" in text for text in descriptions)
    assert any(text.startswith("CHECK ") for text in descriptions)
    assert any(text != text.upper() for text in descriptions)  # some banks print lower or mixed case
    # Store and reference numbers are randomised, so one vendor prints many distinct lines.
    amazon = {text for text in descriptions if text.startswith("AMZN MKTP US*")}
    assert len(amazon) > 50
    # Many banks give no counterparty at all.
    empty_share = sum(not row.counterparty for row in rows) / len(rows)
    assert 0.3 < empty_share < 0.9


def test_rent_recurs_monthly_with_the_same_amount() -> None:
    rows = generate("hamilton-coffee", count=6_000)

    rent = [row for row in rows if row.account_code == "6700"]
    months = [(row.date.year, row.date.month) for row in rent]

    assert len(months) == len(set(months)) >= 12
    assert {row.amount for row in rent} == {Decimal("-3200.00")}
    assert all(row.date.day <= 3 for row in rent)  # the 1st, or the Monday after a weekend


def test_payroll_runs_twice_a_month() -> None:
    rows = generate("cincy-web-builders", count=6_000)

    payroll = [row for row in rows if row.description.upper().startswith(("GUSTO NET", "GUSTO PAYROLL"))]
    per_month = collections.Counter((row.date.year, row.date.month) for row in payroll)

    assert per_month and all(count <= 3 for count in per_month.values())
    assert sum(per_month.values()) / len(per_month) > 1.5


def test_refunds_come_back_as_money_in_on_expense_or_other_income_accounts() -> None:
    rows = generate("midwest-accounting", count=20_000)

    refunds = [row for row in rows if row.amount > 0 and row.account_code in {"6100", "1500", "6300", "8100"}]

    assert refunds
    assert any(row.account_code == "8100" for row in refunds)
    assert any(row.account_code != "8100" for row in refunds)


@pytest.mark.parametrize("labeled", [False, True])
def test_write_csv_round_trips_through_dictreader(labeled: bool) -> None:
    rows = generate("liberty-childcare", count=500)
    buffer = io.StringIO()

    written = write_csv(rows, buffer, labeled=labeled)

    buffer.seek(0)
    reader = csv.DictReader(buffer)
    parsed = list(reader)
    expected_header = ["date", "description", "counterparty", "amount", "currency"] + (["account"] if labeled else [])
    assert written == len(parsed) == 500
    assert reader.fieldnames == expected_header
    for original, record in zip(rows, parsed):
        assert datetime.date.fromisoformat(record["date"]) == original.date
        assert record["description"] == original.description
        assert record["counterparty"] == original.counterparty
        assert Decimal(record["amount"]) == original.amount
        assert record["amount"] == f"{original.amount:.2f}"
        assert record["currency"] == "USD"
        if labeled:
            assert record["account"] == original.account_code


def test_write_csv_of_nothing_writes_only_the_header() -> None:
    buffer = io.StringIO()

    assert write_csv([], buffer) == 0
    assert buffer.getvalue() == "date,description,counterparty,amount,currency\n"


def test_generated_transactions_are_immutable() -> None:
    row = generate("contreras-re", count=1)[0]

    with pytest.raises(dataclasses.FrozenInstanceError):
        row.amount = Decimal("1.00")  # type: ignore[misc]


def _peak_memory_consuming(rows: int, count: int) -> int:
    """Peak traced bytes while consuming `rows` rows of a `count`-row stream."""
    tracemalloc.start()
    try:
        for _ in itertools.islice(generate_transactions(company_slug="hamilton-coffee", count=count, seed=9), rows):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_million_row_stream_peaks_no_higher_than_a_thousand_row_stream() -> None:
    small = _peak_memory_consuming(rows=1_000, count=1_000)

    # tracemalloc slows every allocation down a lot, so the traced run is kept short; the next test
    # covers 200,000 rows without tracing.
    large = _peak_memory_consuming(rows=20_000, count=1_000_000)

    assert large < 1_000_000  # bytes
    assert large < small + 200_000


def test_consuming_200_000_rows_allocates_nothing_that_stays() -> None:
    stream = generate_transactions(company_slug="hamilton-coffee", count=1_000_000, seed=9)
    for _ in itertools.islice(stream, 1_000):
        pass
    gc.collect()
    blocks_before = sys.getallocatedblocks()

    for _ in itertools.islice(stream, 200_000):
        pass

    gc.collect()
    # Anything kept per row would add at least 200,000 blocks; allow for interpreter caches.
    assert sys.getallocatedblocks() - blocks_before < 5_000


def test_generation_is_fast_enough_for_benchmarks() -> None:
    # A loose floor (the measured rate is 10x higher) that only catches a pathological slowdown;
    # CPU time keeps it independent of other load on the machine.
    started = time.process_time()

    produced = sum(1 for _ in generate_transactions(company_slug="cincy-web-builders", count=50_000, seed=1))

    assert produced / max(time.process_time() - started, 1e-9) > 10_000
