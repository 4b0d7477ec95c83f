"""The review queue in a real headless Chromium: a reviewer approves a vendor group from the keyboard, then corrects
an item through the account type-ahead with "always categorize like this". Screenshots go to var/screenshots/."""
from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from playwright.sync_api import expect

from decisions.models import Decision, DecisionMethod, DecisionStatus
from ledger_site.tests.browser import SCREENSHOTS, log_in
from rules.models import Rule, RuleStatus
from transactions.models import Account, Transaction, TransactionStatus


def waiting_for_review(company) -> None:
    """37 coffees the model suggests 6100 for, 3 staples, 2 deposits, and one line it could not place."""
    bank = company.accounts.get(code="1000")
    supplies, sales = (Account.objects.get(company=company, code=code) for code in ("6100", "8000"))
    rows = (
        [("SQ *HAMILTON COFFEE", "", Decimal("-4.75") - Decimal(i % 3) / 2, supplies, f"0.{95 - i % 20:02d}00")
         for i in range(37)]
        + [("STAPLES 00123 OFFICE", "STAPLES", Decimal("-38.20"), supplies, "0.6200")] * 3
        + [("ACH DEPOSIT ACME CORP INVOICE", "ACME CORP", Decimal("1250.00"), sales, "0.7100")] * 2
        + [("WIRE 8841 KESTREL HOLDINGS", "", Decimal("-310.00"), None, "0.3100")]
    )
    lines = Transaction.objects.bulk_create(
        Transaction(company=company, bank_account=bank, date=datetime.date(2026, 5, 1) + datetime.timedelta(days=i % 28),
                    description=f"{description} #{1000 + i}", counterparty=counterparty, amount=amount,
                    status=TransactionStatus.NEEDS_REVIEW, fingerprint=uuid.uuid4())
        for i, (description, counterparty, amount, _, _) in enumerate(rows)
    )
    Decision.objects.bulk_create(
        Decision(
            company=company, transaction=line, account=account, confidence=Decimal(confidence),
            method=DecisionMethod.ML_SUGGESTION if account else DecisionMethod.HUMAN,
            status=DecisionStatus.NEEDS_REVIEW,
            alternatives=[{"account": "8000" if account == supplies else "6100", "probability": "0.0800"}],
            explanation={"model_version": 1, "model_number": 4, "scope": "company",
                         "tokens": [[description.split()[-1], 1.1], ["vendor " + description.split()[-1], 0.6]]}
            if account else {"reason": "confidence 0.3100 is below the review threshold 0.500: no suggestion"},
        )
        for line, (description, _, _, account, confidence) in zip(lines, rows)
    )


def test_a_reviewer_works_through_the_queue_from_the_keyboard(page, company_a, reviewer_a):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    waiting_for_review(company_a)
    log_in(page, "reviewer_a")

    # The index, reached from the nav, counts what waits; the queue opens on the biggest group.
    page.click("nav >> text=Review")
    expect(page.locator(".review-companies .card")).to_contain_text("43 items to review")
    page.screenshot(path=SCREENSHOTS / "review-0-index.png")
    page.click("text=Alpha Bakery")
    groups = page.locator("section.review-group")
    expect(groups).to_have_count(4)
    expect(groups.first.locator(".group-vendor")).to_have_text("HAMILTON COFFEE")
    expect(groups.first.locator("button.approve-group")).to_have_text("Approve group (37)")
    expect(page.locator("#keyboard-help")).to_contain_text("approve group")
    expect(page.locator("li.review-item.is-focused")).to_have_count(1)  # the first item, ready for keys
    page.screenshot(path=SCREENSHOTS / "review-1-queue.png")
    page.screenshot(path=SCREENSHOTS / "review-1-queue-full.png", full_page=True)

    # j moves down inside the coffee group; g approves the whole group.
    page.keyboard.press("j")
    focused = page.locator("li.review-item.is-focused")
    expect(focused).to_have_count(1)
    assert focused.get_attribute("data-decision-id") == groups.first.locator("li.review-item").nth(1).get_attribute(
        "data-decision-id")
    page.keyboard.press("g")
    expect(page.locator(".message.success")).to_have_text("Approved 37.")
    expect(groups).to_have_count(3)
    assert Transaction.objects.filter(account__code="6100", confirmed_at__isnull=False).count() == 37

    # The staples are first now, focused where the reviewer was; tick "always", then c, type 8000, Enter.
    staples = groups.first
    expect(staples.locator(".group-vendor")).to_have_text("STAPLES")
    item = page.locator("li.review-item.is-focused")
    expect(item).to_contain_text("STAPLES 00123 OFFICE #1037")
    item.locator("label.remember input").check()
    page.keyboard.press("c")
    expect(item.locator("input.account-input")).to_be_focused()
    page.keyboard.type("8000")
    page.screenshot(path=SCREENSHOTS / "review-2-typeahead.png")
    page.keyboard.press("Enter")

    expect(page.locator(".message.success")).to_contain_text(
        "Saved “STAPLES 00123 OFFICE #1037” as 8000 Sales Revenue. Rule “STAPLES (money out)” was proposed")
    expect(page.locator("section.review-group").first.locator("li.review-item")).to_have_count(2)
    page.screenshot(path=SCREENSHOTS / "review-3-corrected.png")
    no_suggestion = page.locator("section.review-group").last
    expect(no_suggestion.locator(".no-suggestion")).to_have_text("No suggestion")
    expect(no_suggestion.locator("button.approve-group")).to_have_count(0)
    no_suggestion.screenshot(path=SCREENSHOTS / "review-4-no-suggestion.png")
    # x ticks the focused item for "Approve selected"; a approves the next one on its own.
    page.keyboard.press("x")
    expect(page.locator("#approve-selected")).to_have_text("Approve selected (1)")
    page.click("#approve-selected")
    expect(page.locator(".message.success")).to_have_text("Approved 1.")
    # One staples line is left, so the two ACME deposits are the biggest group now, and first.
    expect(page.locator("li.review-item.is-focused")).to_contain_text("ACH DEPOSIT ACME CORP INVOICE #1040")
    page.keyboard.press("a")
    expect(page.get_by_text("ACH DEPOSIT ACME CORP INVOICE #1040")).to_have_count(0)  # the page has reloaded
    expect(page.locator(".message.success")).to_have_text("Approved 1.")
    assert Transaction.objects.filter(confirmed_at__isnull=False).count() == 37 + 3
    rule = Rule.objects.get()
    assert (rule.status, rule.account_code, rule.conditions[0]["value"]) == (RuleStatus.PROPOSED, "8000", "STAPLES")

    # The dashboard reflects the work: what is still waiting, and the reviews just done.
    page.click("nav >> text=Dashboard")
    section = page.locator("section.dashboard-section[data-company='alpha-bakery']")
    waiting = Decision.objects.filter(company=company_a, is_current=True, status="needs_review").count()
    expect(section.locator(".stat-open")).to_have_text(str(waiting))
    expect(section.locator(".stat-throughput + .stat-note")).to_contain_text("40 in")
    page.screenshot(path=SCREENSHOTS / "review-5-dashboard.png", full_page=True)
    assert page.console_errors == []  # CSP: no blocked inline script or style
