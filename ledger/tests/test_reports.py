"""Trial balance and profit & loss: hand-checked numbers of the books in report_books.py, through the services,
the API and the pages. Reversed entries count with their reversals, proposed entries and other companies never."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.exceptions import LedgerInvalid
from ledger.services.reports import profit_and_loss, trial_balance
from ledger.tests.report_books import company_a_books, d
from transactions.models import AuditEvent


@pytest.fixture
def books(company_a, company_b):
    return company_a_books(company_a, company_b)


def _rows(report):
    return [(row.code, row.name, row.type, row.debit, row.credit, row.balance) for row in report.accounts]


def D(text):  # noqa: N802 - reads like the literal it builds
    return Decimal(text)


# ---------------------------------------------------------------------------------------------- trial balance


def test_trial_balance_as_of_a_day_sums_every_booked_entry_up_to_it(books, company_a):
    report = trial_balance(company=company_a, date_to=d("2025-03-31"))

    assert _rows(report) == [
        ("1000", "Checking", "asset", D("11599.99"), D("450.39"), D("11149.60")),
        ("2000", "Credit Card", "liability", D("0.00"), D("1200.00"), D("-1200.00")),
        ("3000", "Owner's Equity", "equity", D("0.00"), D("10000.00"), D("-10000.00")),
        ("6100", "Office Supplies", "expense", D("380.39"), D("99.99"), D("280.40")),
        ("6200", "Rent", "expense", D("1270.00"), D("0.00"), D("1270.00")),
        ("8000", "Sales Revenue", "income", D("0.00"), D("1500.00"), D("-1500.00")),
    ]
    assert (report.total_debit, report.total_credit, report.is_balanced) == (D("13250.38"), D("13250.38"), True)
    assert (report.date_from, report.date_to, report.currency) == (None, d("2025-03-31"), "USD")


def test_trial_balance_stops_at_date_to(books, company_a):
    report = trial_balance(company=company_a, date_to=d("2025-01-31"))

    assert _rows(report) == [
        ("1000", "Checking", "asset", D("10000.00"), D("250.40"), D("9749.60")),
        ("3000", "Owner's Equity", "equity", D("0.00"), D("10000.00"), D("-10000.00")),
        ("6100", "Office Supplies", "expense", D("250.40"), D("0.00"), D("250.40")),
    ]
    assert report.total_debit == report.total_credit == D("10250.40")


def test_trial_balance_with_date_from_shows_the_periods_movements_only(books, company_a):
    # March: the reversal of #5 (dated 03-02) and the split purchase #7; #6 is only proposed.
    report = trial_balance(company=company_a, date_from=d("2025-03-01"), date_to=d("2025-03-31"))

    assert [(row.code, row.debit, row.credit, row.balance, row.balance_side) for row in report.accounts] == [
        ("1000", D("99.99"), D("100.00"), D("-0.01"), "Cr"),
        ("6100", D("30.00"), D("99.99"), D("-69.99"), "Cr"),
        ("6200", D("70.00"), D("0.00"), D("70.00"), "Dr"),
    ]
    assert report.total_debit == report.total_credit == D("199.99")


def test_a_reversed_entry_and_its_reversal_cancel_out(books, company_a):
    # #5 (02-20) and its reversal (03-02) are the only entries of that fortnight.
    report = trial_balance(company=company_a, date_from=d("2025-02-16"), date_to=d("2025-03-05"))

    assert [(row.code, row.debit, row.credit, row.balance) for row in report.accounts] == [
        ("1000", D("99.99"), D("99.99"), D("0.00")),
        ("6100", D("99.99"), D("99.99"), D("0.00")),
    ]


def test_proposed_entries_and_other_companies_never_count(books, company_a, company_b):
    report = trial_balance(company=company_a, date_from=d("2025-03-10"), date_to=d("2025-03-10"))
    report_b = trial_balance(company=company_b, date_to=d("2025-12-31"))

    assert report.accounts == []  # only the proposed #6 is dated 03-10
    assert (report.total_debit, report.total_credit, report.is_balanced) == (D("0.00"), D("0.00"), True)
    assert _rows(report_b) == [
        ("1000", "Checking", "asset", D("777.77"), D("0.00"), D("777.77")),
        ("4000", "Beta Income", "income", D("0.00"), D("777.77"), D("-777.77")),
    ]


def test_trial_balance_is_one_grouped_query(books, company_a, django_assert_num_queries):
    with django_assert_num_queries(1):
        trial_balance(company=company_a, date_to=d("2025-03-31"))


def test_a_period_that_ends_before_it_starts_is_refused_with_both_dates(company_a):
    with pytest.raises(LedgerInvalid) as refused:
        trial_balance(company=company_a, date_from=d("2025-03-01"), date_to=d("2025-02-01"))

    assert refused.value.message == (
        "The period ends before it starts: date_from 2025-03-01 is after date_to 2025-02-01.")
    assert refused.value.extra == {"date_from": "2025-03-01", "date_to": "2025-02-01"}
    with pytest.raises(LedgerInvalid):
        profit_and_loss(company=company_a, date_from=d("2025-03-01"), date_to=d("2025-02-01"))


# ---------------------------------------------------------------------------------------------- profit and loss


def test_profit_and_loss_of_february(books, company_a):
    report = profit_and_loss(company=company_a, date_from=d("2025-02-01"), date_to=d("2025-02-28"))

    assert [(line.code, line.name, line.amount) for line in report.income] == [("8000", "Sales Revenue", D("1500.00"))]
    assert [(line.code, line.amount) for line in report.expenses] == [("6100", D("99.99")), ("6200", D("1200.00"))]
    assert (report.total_income, report.total_expenses, report.net_income) == (D("1500.00"), D("1299.99"), D("200.01"))


def test_profit_and_loss_of_the_quarter_is_a_loss_and_ignores_balance_sheet_accounts(books, company_a):
    report = profit_and_loss(company=company_a, date_from=d("2025-01-01"), date_to=d("2025-03-31"))

    assert [(line.code, line.amount) for line in report.income] == [("8000", D("1500.00"))]
    assert [(line.code, line.amount) for line in report.expenses] == [("6100", D("280.40")), ("6200", D("1270.00"))]
    assert (report.total_income, report.total_expenses, report.net_income) == (D("1500.00"), D("1550.40"), D("-50.40"))


def test_profit_and_loss_defaults_to_the_year_of_date_to(books, company_a):
    report = profit_and_loss(company=company_a, date_to=d("2025-02-28"))

    assert (report.date_from, report.date_to) == (d("2025-01-01"), d("2025-02-28"))
    assert (report.total_expenses, report.net_income) == (D("1550.39"), D("-50.39"))


def test_net_income_equals_the_change_in_equity_the_trial_balance_implies(books, company_a):
    # Income and expense balances over all time are the only non-balance-sheet rows: their sum is -net income.
    tb = trial_balance(company=company_a, date_to=d("2025-03-31"))
    pnl = profit_and_loss(company=company_a, date_from=d("2025-01-01"), date_to=d("2025-03-31"))

    assert -sum(row.balance for row in tb.accounts if row.type in ("income", "expense")) == pnl.net_income


# ---------------------------------------------------------------------------------------------- API


def test_trial_balance_api_answers_money_as_strings(books, accountant_a, token_client_for):
    response = token_client_for(accountant_a).get(
        "/api/ledger/trial-balance?company=alpha-bakery&date_to=2025-03-31")

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("company", "date_from", "date_to", "currency", "is_balanced")} == {
        "company": "alpha-bakery", "date_from": None, "date_to": "2025-03-31", "currency": "USD", "is_balanced": True}
    assert (body["total_debit"], body["total_credit"]) == ("13250.38", "13250.38")
    assert body["accounts"][0] == {"code": "1000", "name": "Checking", "type": "asset", "debit": "11599.99",
                                   "credit": "450.39", "balance": "11149.60"}
    assert [row["code"] for row in body["accounts"]] == ["1000", "2000", "3000", "6100", "6200", "8000"]


def test_trial_balance_api_takes_the_company_by_id_too(books, company_a, reviewer_a, token_client_for):
    response = token_client_for(reviewer_a).get(
        f"/api/ledger/trial-balance?company={company_a.pk}&date_from=2025-03-01&date_to=2025-03-31")

    assert response.status_code == 200
    assert response.json()["total_debit"] == "199.99"


def test_profit_and_loss_api(books, admin_a, token_client_for):
    response = token_client_for(admin_a).get(
        "/api/ledger/profit-and-loss?company=alpha-bakery&date_from=2025-02-01&date_to=2025-02-28")

    assert response.status_code == 200
    body = response.json()
    assert body["income"] == [{"code": "8000", "name": "Sales Revenue", "amount": "1500.00"}]
    assert body["expenses"] == [{"code": "6100", "name": "Office Supplies", "amount": "99.99"},
                                {"code": "6200", "name": "Rent", "amount": "1200.00"}]
    assert (body["total_income"], body["total_expenses"], body["net_income"]) == ("1500.00", "1299.99", "200.01")
    assert (body["date_from"], body["date_to"]) == ("2025-02-01", "2025-02-28")


@pytest.mark.parametrize("path", ["/api/ledger/trial-balance", "/api/ledger/profit-and-loss"])
def test_a_reversed_period_is_a_400_naming_both_dates(path, accountant_a, token_client_for):
    response = token_client_for(accountant_a).get(
        f"{path}?company=alpha-bakery&date_from=2025-03-01&date_to=2025-02-01")

    assert response.status_code == 400
    assert response.json() == {
        "code": "ledger_invalid",
        "message": "The period ends before it starts: date_from 2025-03-01 is after date_to 2025-02-01.",
        "extra": {"date_from": "2025-03-01", "date_to": "2025-02-01"},
    }


@pytest.mark.parametrize(("query", "field"), [
    ("company=alpha-bakery&date_to=2025-13-01", "date_to"),
    ("company=alpha-bakery&date_from=yesterday", "date_from"),
    ("date_to=2025-03-31", "company"),
])
@pytest.mark.parametrize("path", ["/api/ledger/trial-balance", "/api/ledger/profit-and-loss"])
def test_malformed_report_queries_are_400s_naming_the_field(path, query, field, accountant_a, token_client_for):
    response = token_client_for(accountant_a).get(f"{path}?{query}")

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["extra"]["fields"])) == ("invalid", [field])


@pytest.mark.parametrize("path", ["/api/ledger/trial-balance", "/api/ledger/profit-and-loss"])
def test_another_companys_reports_are_a_404_without_its_numbers(path, books, outsider, token_client_for):
    response = token_client_for(outsider).get(f"{path}?company=alpha-bakery&date_to=2025-03-31")

    assert response.status_code == 404
    assert "11149.60" not in response.content.decode() and "Checking" not in response.content.decode()


def test_reports_need_credentials(api_client):
    assert api_client.get("/api/ledger/trial-balance?company=alpha-bakery").status_code == 401


# ---------------------------------------------------------------------------------------------- pages


def test_trial_balance_page_shows_the_rows_totals_and_downloads(books, accountant_a, client):
    client.force_login(accountant_a)

    response = client.get("/ledger/alpha-bakery/trial-balance/?date_to=2025-03-31")

    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["report"].total_debit == D("13250.38")
    assert '<td class="num" id="total-debit">13,250.38</td>' in html
    assert '<td class="num" id="total-credit">13,250.38</td>' in html
    assert "11,149.60 <span class=\"side\">Dr</span>" in html
    assert "10,000.00 <span class=\"side\">Cr</span>" in html
    assert "balanced" in html and "Proposed rent" not in html and "Beta Income" not in html
    for name in ("csv", "hledger", "beancount"):
        assert f"/api/ledger/export?company=alpha-bakery&amp;format={name}&amp;date_to=2025-03-31" in html


def test_profit_and_loss_page_shows_the_net_income(books, accountant_a, client):
    client.force_login(accountant_a)

    response = client.get("/ledger/alpha-bakery/profit-and-loss/?date_from=2025-01-01&date_to=2025-03-31")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<td class="num" id="net-income">-50.40</td>' in html and "Net loss" in html
    assert '<td class="num" id="total-expenses">1,550.40</td>' in html
    assert 'value="2025-01-01"' in html and 'value="2025-03-31"' in html


def test_a_reversed_period_on_the_page_is_explained_not_computed(accountant_a, client):
    client.force_login(accountant_a)

    response = client.get("/ledger/alpha-bakery/profit-and-loss/?date_from=2025-03-01&date_to=2025-02-01")

    assert response.status_code == 200 and response.context["report"] is None
    assert "The period ends before it starts: date_from 2025-03-01 is after date_to 2025-02-01." in (
        response.content.decode())


def test_a_malformed_date_on_the_page_names_the_field(accountant_a, client):
    client.force_login(accountant_a)

    response = client.get("/ledger/alpha-bakery/trial-balance/?date_to=someday")

    assert response.status_code == 200 and response.context["report"] is None
    assert "date_to: Enter a valid date." in response.content.decode()


@pytest.mark.parametrize("page", ["trial-balance", "profit-and-loss"])
def test_report_pages_of_another_company_are_404s(page, books, outsider, client):
    client.force_login(outsider)

    assert client.get(f"/ledger/alpha-bakery/{page}/").status_code == 404


def test_report_pages_need_a_login(client):
    response = client.get("/ledger/alpha-bakery/trial-balance/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_ledger_index_links_to_both_reports(accountant_a, client):
    client.force_login(accountant_a)

    html = client.get("/ledger/").content.decode()

    assert '<li><a href="/ledger/alpha-bakery/trial-balance/">Trial balance</a></li>' in html
    assert '<li><a href="/ledger/alpha-bakery/profit-and-loss/">Profit &amp; loss</a></li>' in html


def test_reports_write_nothing(books, accountant_a, token_client_for):
    client = token_client_for(accountant_a)
    events = AuditEvent.objects.count()

    response = client.get("/api/ledger/trial-balance?company=alpha-bakery")

    assert response.status_code == 200 and AuditEvent.objects.count() == events


def test_date_to_defaults_to_today(books, company_a):
    report = trial_balance(company=company_a)

    assert report.date_to == timezone.localdate()
    assert report.total_debit == D("13250.38")  # every entry is dated before today
