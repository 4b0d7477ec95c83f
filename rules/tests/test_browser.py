"""The rule pages in a real headless Chromium: an admin works through the approval queue, then writes a rule,
tests it on history and saves it. Screenshots go to var/screenshots/ for a human look."""
from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from ledger_site.tests.browser import SCREENSHOTS, log_in
from rules.models import Rule, RuleStatus
from rules.services.lifecycle import rule_correction_record, rule_create, rule_hits_record
from rules.services.promotion import rules_promote
from transactions.models import Transaction, TransactionStatus





def confirmed_history(company) -> None:
    """People's categorizations for promotion to learn from, plus uncategorized STAPLES lines to test on."""
    bank, supplies, sales = (company.accounts.get(code=code) for code in ("1000", "6100", "8000"))
    now = timezone.now()
    rows = (
        [("SQ *HAMILTON COFFEE", "HAMILTON COFFEE", Decimal("-4.75"), supplies)] * 24
        + [("SQ *HAMILTON COFFEE", "HAMILTON COFFEE", Decimal("-5.25"), sales)]
        + [("ACH DEPOSIT ACME CORP INVOICE", "ACME CORP", Decimal("1250.00"), sales)] * 21
        + [("STAPLES 00123 OFFICE", "STAPLES", Decimal("-38.20"), None)] * 7
        + [("STAPLES 00123 OFFICE", "STAPLES", Decimal("-12.00"), sales)] * 2
    )
    Transaction.objects.bulk_create(
        Transaction(
            company=company, bank_account=bank, date=datetime.date(2025, 2, 1) + datetime.timedelta(days=i),
            description=f"{description} #{i}", counterparty=counterparty, amount=amount, account=account,
            status=TransactionStatus.CATEGORIZED if account else TransactionStatus.UNCATEGORIZED,
            confirmed_at=now if account else None, fingerprint=uuid.uuid4(),
        )
        for i, (description, counterparty, amount, account) in enumerate(rows)
    )


def flagged_rule(company) -> Rule:
    """An active rule people corrected 4 times in 10 decisions: the monitor flags it."""
    rule = rule_create(company=company, user=None, raw={
        "name": "Office depot", "conditions": [{"field": "description", "op": "contains", "value": "OFFICE DEPOT"}],
        "account_code": "6100", "priority": 50,
    })
    rule_hits_record(hits={rule.pk: 10})
    for _ in range(4):
        rule_correction_record(rule_id=rule.pk, version=rule.version)
    return rule


def test_an_admin_reviews_proposals_then_tests_and_saves_a_new_rule(page, company_a, admin_a):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    confirmed_history(company_a)
    promoted = rules_promote(company=company_a)
    assert promoted["proposed"] == 2
    flagged = flagged_rule(company_a)
    assert Rule.objects.get(pk=flagged.pk).flagged_at is not None
    log_in(page, "admin_a")

    # The queue, reached from the nav: two proposals with their evidence, and the flagged rule.
    page.click("nav >> text=Rules")
    expect(page.locator(".rule-companies .card")).to_contain_text("2 proposed")
    page.screenshot(path=SCREENSHOTS / "rules-0-companies.png")
    page.click("text=Approval queue")
    cards = page.locator("article.rule-card")
    expect(cards).to_have_count(2)
    coffee = cards.filter(has_text="HAMILTON COFFEE")
    expect(coffee.locator(".stats")).to_contain_text("25")  # support
    expect(coffee.locator(".stats")).to_contain_text("96%")  # precision
    expect(coffee.locator(".accounts-breakdown")).to_contain_text("Sales Revenue")
    expect(coffee.locator("table.examples.conflict tbody tr")).to_have_count(1)
    expect(page.locator("#flagged tbody tr")).to_contain_text("Office depot")
    page.screenshot(path=SCREENSHOTS / "rules-1-queue.png", full_page=True)

    # Approve one with its own button.
    coffee.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("p.message.success")).to_contain_text("Approved rule “Auto: HAMILTON COFFEE (money out)”")
    expect(cards).to_have_count(1)

    # Reject the other with its checkbox and the bulk button.
    cards.first.locator("input.rule-check").check()
    page.fill("input[name=reason]", "Invoices vary; categorize by hand")
    page.click("#reject-selected")
    expect(page.locator("p.message.success")).to_contain_text("Rejected rule “Auto: ACME CORP (money in)”")
    expect(page.locator("#no-proposals")).to_be_visible()
    statuses = dict(Rule.objects.values_list("name", "status"))
    assert statuses["Auto: HAMILTON COFFEE (money out)"] == RuleStatus.ACTIVE
    assert statuses["Auto: ACME CORP (money in)"] == RuleStatus.REJECTED

    # A new rule: test it on history first, then save it.
    page.click("text=← Rules — Alpha Bakery")
    page.click("#new-rule")
    page.fill("#id_name", "Staples supplies")
    page.select_option("#id_account_code", "6100")
    page.select_option("#id_conditions-0-field", "counterparty")
    page.select_option("#id_conditions-0-op", "contains")
    page.fill("#id_conditions-0-value", "staples")
    page.click("#test-button")
    result = page.locator("#test-result")
    expect(result).to_contain_text("This rule would match 9 past transactions; 2 of them are currently categorized "
                                   "differently.")
    expect(result.locator("table.examples.conflict tbody tr")).to_have_count(2)
    expect(page.locator("#id_conditions-0-value")).to_have_value("staples")  # the form keeps what was typed
    assert not Rule.objects.filter(name="Staples supplies").exists()
    page.screenshot(path=SCREENSHOTS / "rules-2-form.png", full_page=True)

    page.click("#save-button")
    expect(page.locator("p.message.success")).to_contain_text("Saved rule “Staples supplies”: it is active")
    row = page.locator("#rules tbody tr", has_text="Staples supplies")
    expect(row.locator(".badge.status-active")).to_have_text("Active")
    expect(row).to_contain_text('counterparty contains "staples"')
    expect(page.locator("#rules tbody tr", has_text="Office depot").locator(".badge.flagged")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "rules-3-list.png", full_page=True)
    assert page.console_errors == []


def test_the_condition_rows_offer_only_the_operators_of_their_field(page, company_a, admin_a):
    log_in(page, "admin_a")
    page.goto("/rules/alpha-bakery/new/")

    page.select_option("#id_conditions-0-field", "amount")
    expect(page.locator("#id_conditions-0-op option[value=contains]")).to_be_disabled()
    expect(page.locator("#id_conditions-0-value_to")).to_be_hidden()
    page.select_option("#id_conditions-0-op", "between")
    expect(page.locator("#id_conditions-0-value_to")).to_be_visible()
    page.select_option("#id_conditions-1-field", "direction")
    expect(page.locator("#id_conditions-1-value")).to_be_disabled()

    page.click("#add-condition")
    expect(page.locator("tr.condition-row")).to_have_count(5)
    page.fill("#id_name", "Mid-size amounts")
    page.select_option("#id_account_code", "6100")
    page.fill("#id_conditions-0-value", "10.00")
    page.fill("#id_conditions-0-value_to", "20.00")
    page.select_option("#id_conditions-1-op", "out")
    page.select_option("#id_conditions-4-field", "description")
    page.select_option("#id_conditions-4-op", "regex")
    page.fill("#id_conditions-4-value", "(A+)+B")
    page.click("#save-button")

    expect(page.locator("tr.condition-errors")).to_have_count(1)
    expect(page.locator("tr.condition-errors")).to_contain_text("nested")
    expect(page.locator("#id_conditions-0-value_to")).to_be_visible()  # still "between" after the round trip
    page.screenshot(path=SCREENSHOTS / "rules-4-form-errors.png", full_page=True)
    assert not Rule.objects.exists()
    page.fill("#id_conditions-4-value", "GUSTO|ADP")
    page.click("#save-button")
    expect(page.locator("#rules tbody tr", has_text="Mid-size amounts")).to_contain_text(
        "amount between 10.00 and 20.00 and money out and description matches /GUSTO|ADP/")
    assert page.console_errors == []
