"""Reconciliation in a real headless Chromium: a reviewer starts a run from the ledger, watches it finish, reads the
difference and the unmatched items of both sides, and accepts the suggested match with one click; a balanced run is
unreconciled with one click too. Screenshots go to var/screenshots/."""
from __future__ import annotations

from playwright.sync_api import expect

from jobs.models import Job, JobKind
from jobs.services import job_run
from ledger.models import BankMatch, MatchStatus
from ledger.tests.reconciliation_data import bank_row, book, hand_checked_statement, june
from ledger_site.tests.browser import SCREENSHOTS, log_in
from transactions.models import AuditEvent, Transaction


def _start_run(page, *, closing_balance: str = "") -> None:
    page.click("nav >> text=Ledger")
    page.locator(".ledger-companies [data-company='alpha-bakery']").get_by_role("link", name="Reconciliation").click()
    expect(page.get_by_role("heading", name="Reconciliation — Alpha Bakery")).to_be_visible()
    page.select_option("#id_bank_account", "1000")
    page.fill("#id_date_from", "2026-06-01")
    page.fill("#id_date_to", "2026-06-30")
    if closing_balance:
        page.fill("#id_closing_balance", closing_balance)
    page.screenshot(path=SCREENSHOTS / "reconciliation-0-form.png", full_page=True)
    page.click("#reconcile-button")
    expect(page.locator(".recon-running h2")).to_have_text("Reconciling…")
    expect(page.locator(".recon-running .state")).to_have_text("Waiting for a worker…")
    # The job machinery runs the queued job here (the page polls the job and reloads when it is final).
    job_run(job_id=Job.objects.get(kind=JobKind.RECONCILE).id, worker="browser-test")


def test_a_reviewer_reconciles_june_and_accepts_the_suggested_match_with_one_click(page, company_a, reviewer_a):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    statement = hand_checked_statement(company_a)
    log_in(page, "reviewer_a")

    _start_run(page)

    expect(page.locator("#difference .difference-amount")).to_have_text("125.00")
    expect(page.locator("#difference")).to_have_class("panel recon-difference is-off")
    expect(page.locator("#statement-closing .amount")).to_have_text("882.50")
    expect(page.locator("#ledger-movements .amount")).to_have_text("7.50")
    expect(page.locator("#unmatched-statement tbody tr")).to_have_count(1)
    expect(page.locator(f"#unmatched-statement tr[data-transaction-id='{statement.fee.pk}']")).to_contain_text(
        "MONTHLY SERVICE CHARGE")
    expect(page.locator(f"#unmatched-ledger tr[data-entry-id='{statement.cash_sale.pk}']")).to_contain_text("120.00")
    suggestion = page.locator("#suggested-matches tbody tr")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_contain_text("ACME PROPERTIES RENT JUNE")
    expect(suggestion).to_contain_text("Rent June - Acme Properties")
    expect(suggestion.locator(".reasons")).to_contain_text("2 days apart")
    page.screenshot(path=SCREENSHOTS / "reconciliation-1-run.png", full_page=True)

    suggestion.get_by_role("button", name="Accept").click()

    expect(page.locator(".message.success")).to_contain_text(
        f"Matched “ACME PROPERTIES RENT JUNE” (2026-06-10, -750.00) with entry #{statement.rent_entry.pk}")
    expect(page.locator("#suggested-matches")).to_contain_text("No suggestions left.")
    expect(page.locator("#decided-matches .badge")).to_have_text("Accepted")
    page.screenshot(path=SCREENSHOTS / "reconciliation-2-accepted.png", full_page=True)
    match = BankMatch.objects.get()
    assert (match.status, match.decided_by, match.transaction_id) == (MatchStatus.ACCEPTED, reviewer_a,
                                                                      statement.rent.pk)
    assert page.console_errors == []  # CSP: no blocked inline script or style


def test_a_balanced_run_is_unreconciled_with_one_click(page, company_a, reviewer_a):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    rows = [bank_row(company_a, june(day), f"SALE {day}", "100.00", f"{100 * day}.00", line=day) for day in (1, 2)]
    book(company_a, *[(row, "8000") for row in rows])
    log_in(page, "reviewer_a")
    _start_run(page)
    expect(page.locator("#run-status")).to_have_text("Balanced")
    expect(page.locator("#difference .difference-amount")).to_have_text("0.00")
    expect(page.locator("#marked-count")).to_have_text("2")
    page.screenshot(path=SCREENSHOTS / "reconciliation-3-balanced.png", full_page=True)

    page.click("#unreconcile-button")

    expect(page.locator(".message.success")).to_have_text("Unreconciled 2 bank rows.")
    expect(page.locator("#marked-count")).to_have_text("0")
    assert not Transaction.objects.filter(reconciled_at__isnull=False).exists()
    assert AuditEvent.objects.filter(action="ledger.unreconcile", actor=reviewer_a).count() == 1
    page.click("text=← Reconciliation")
    expect(page.locator("#reconciliation-runs tbody tr")).to_have_count(1)
    expect(page.locator("#reconciliation-runs tbody tr .badge")).to_have_text("Balanced")
    page.screenshot(path=SCREENSHOTS / "reconciliation-4-runs.png", full_page=True)
    assert page.console_errors == []
