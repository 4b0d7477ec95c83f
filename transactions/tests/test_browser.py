"""The upload flow in a real headless Chromium: upload, check the preview, watch progress reach 100%,
see the summary and the transactions. Screenshots go to var/screenshots/ for a human look."""
from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from ledger_site.tests.browser import SCREENSHOTS, log_in
from jobs.tests.helpers import bank_csv
from transactions.models import Transaction

pytestmark = pytest.mark.worker




def test_upload_preview_progress_summary_and_transactions(page, company_a, accountant_a, worker_factory, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    good = tmp_path / "january.csv"
    later = datetime.date(2025, 6, 1)
    good.write_bytes(bank_csv(1500) + b"2025-03-01,BROKEN ROW,abc\n" + bank_csv(1500, start=later, header=False))
    worker_factory()
    log_in(page, "accountant_a")

    page.click("text=Upload")
    page.select_option("select[name=bank_account]", label="Alpha Bakery — 1000 Checking")
    page.set_input_files("input[type=file]", str(good))
    expect(page.locator("#chosen-files")).to_contain_text("january.csv")
    page.screenshot(path=SCREENSHOTS / "1-upload.png", full_page=True)
    page.click("#upload-button")

    review = page.locator("section.file-review")
    expect(review.locator("h2")).to_have_text("january.csv")
    expect(review.locator("table.preview tbody tr")).to_have_count(10)
    expect(review.locator("table.preview tbody tr").first).to_contain_text("STAPLES 00123 REF0")
    page.screenshot(path=SCREENSHOTS / "2-review.png", full_page=True)
    page.click("#confirm-button")

    section = page.locator("section.import")
    expect(section.locator(".summary")).to_be_visible(timeout=60_000)
    expect(section.locator(".progress")).to_have_attribute("aria-valuenow", "100")
    expect(section.locator(".imported")).to_have_text("3000")
    expect(section.locator(".duplicates")).to_have_text("0")
    expect(section.locator(".rejected")).to_have_text("1")
    expect(section.locator("table.errors tbody tr")).to_have_count(1)
    expect(section.locator("table.errors tbody tr")).to_contain_text("1502")
    expect(section.locator("table.errors tbody tr")).to_contain_text("abc")
    page.screenshot(path=SCREENSHOTS / "3-status.png", full_page=True)

    page.click("text=See the transactions")
    expect(page.locator("main p.muted")).to_have_text("3000 transactions")
    expect(page.locator("#transactions tbody tr")).to_have_count(50)
    page.screenshot(path=SCREENSHOTS / "4-transactions.png", full_page=True)
    assert Transaction.objects.filter(company=company_a).count() == 3000
    assert page.console_errors == []


def test_uploading_the_same_file_again_lists_the_duplicates(page, company_a, accountant_a, worker_factory, tmp_path):
    statement = tmp_path / "statement.csv"
    statement.write_bytes(bank_csv(40))
    worker_factory()
    log_in(page, "accountant_a")

    for _ in range(2):  # the second upload is the same file
        page.goto("/imports/new/")
        page.set_input_files("input[type=file]", str(statement))
        page.click("#upload-button")
        page.click("#confirm-button")
        expect(page.locator("section.import .summary")).to_be_visible(timeout=60_000)

    section = page.locator("section.import")
    expect(section.locator("strong.imported")).to_have_text("0")
    expect(section.locator("strong.duplicates")).to_have_text("40")
    section.locator("details.duplicate-rows summary").click()
    expect(section.locator("details.duplicate-rows tbody tr")).to_have_count(40)
    page.screenshot(path=SCREENSHOTS / "5-duplicates.png", full_page=True)
    assert page.console_errors == []


def test_tokens_page_shows_a_new_key_once_and_revokes_it(page, accountant_a):
    log_in(page, "accountant_a")

    page.click("text=Tokens")
    page.fill("input[name=name]", "nightly sync")
    page.click("text=Create token")
    key = page.locator("#new-key").inner_text()
    page.screenshot(path=SCREENSHOTS / "6-tokens.png", full_page=True)
    page.reload()

    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.locator("table")).to_contain_text(key[:8])
    page.click("text=Revoke")
    expect(page.locator("table")).to_contain_text("revoked")
    assert page.console_errors == []


def test_the_interactive_api_docs_render_under_the_content_security_policy(page, accountant_a):
    log_in(page, "accountant_a")

    page.click("text=API")

    expect(page.get_by_text("Autoledger API").first).to_be_visible(timeout=20_000)
    expect(page.get_by_text("/api/jobs/{job_id}").first).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "7-api-docs.png")
    assert page.console_errors == []
