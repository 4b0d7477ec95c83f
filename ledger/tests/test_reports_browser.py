"""The report pages in a real headless Chromium: an accountant opens the trial balance from the ledger index,
changes the period, downloads the journal, and goes on to the profit & loss. Screenshots go to
var/screenshots/ledger-reports-*.png."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from playwright.sync_api import expect

from ledger.tests.report_books import company_a_books
from ledger_site.tests.browser import SCREENSHOTS, log_in


def test_an_accountant_reads_the_trial_balance_and_downloads_the_journal(page, company_a, company_b, accountant_a):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    company_a_books(company_a, company_b)
    log_in(page, "accountant_a")

    # From the nav to the company's trial balance.
    page.click("nav >> text=Ledger")
    page.locator('.ledger-companies [data-company="alpha-bakery"]').get_by_role("link", name="Trial balance").click()
    expect(page.get_by_role("heading", name="Trial balance — Alpha Bakery")).to_be_visible()

    # As of the end of March 2025: six accounts, totals equal and marked balanced.
    page.fill("input[name=date_to]", "2025-03-31")
    page.click("form.report-period button[type=submit]")
    table = page.locator("#trial-balance")
    expect(table.locator("tbody tr")).to_have_count(6)
    expect(page.locator("#total-debit")).to_have_text("13,250.38")
    expect(page.locator("#total-credit")).to_have_text("13,250.38")
    expect(table.locator("tfoot .badge")).to_have_text("balanced")
    expect(table.locator('tr[data-account="1000"] td.balance')).to_have_text("11,149.60 Dr")
    expect(table.locator('tr[data-account="3000"] td.balance')).to_have_text("10,000.00 Cr")
    page.screenshot(path=SCREENSHOTS / "ledger-reports-1-trial-balance.png", full_page=True)

    # The CSV download of that period: what the page shows, line by line.
    with page.expect_download() as download_info:
        page.click('.report-downloads a[data-format="csv"]')
    download = download_info.value
    assert download.suggested_filename == "journal-alpha-bakery-start-to-2025-03-31.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    debits, credits = (sum(Decimal(row[side]) for row in rows) for side in ("debit", "credit"))
    assert debits == credits == Decimal("13250.38")

    # A period that ends before it starts is explained, not computed.
    page.fill("input[name=date_from]", "2025-04-01")
    page.click("form.report-period button[type=submit]")
    expect(page.locator(".message.error")).to_have_text(
        "The period ends before it starts: date_from 2025-04-01 is after date_to 2025-03-31.")
    expect(page.locator("#trial-balance")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / "ledger-reports-3-reversed-period.png")

    # On to the profit & loss of the first quarter: a small loss.
    page.get_by_role("link", name="Profit & loss →").click()
    page.fill("input[name=date_from]", "2025-01-01")
    page.fill("input[name=date_to]", "2025-03-31")
    page.click("form.report-period button[type=submit]")
    expect(page.locator("#total-income")).to_have_text("1,500.00")
    expect(page.locator("#total-expenses")).to_have_text("1,550.40")
    expect(page.locator("#net-income")).to_have_text("-50.40")
    expect(page.locator("tfoot th")).to_have_text("Net loss")
    page.screenshot(path=SCREENSHOTS / "ledger-reports-2-profit-and-loss.png", full_page=True)
    assert page.console_errors == []  # CSP: no blocked inline script or style
