"""Splitting from the review queue in a real headless Chromium (the inline form, its live shares and the server's
answers next to the rows), and the same form without JavaScript: its own page, plain POSTs. Screenshots go to
var/screenshots/."""
from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import expect

from decisions.models import Decision, DecisionMethod, DecisionStatus
from ledger.models import JournalEntry, SplitLine
from ledger.tests.test_splits import a_transaction, chart, waiting_with_suggestion  # noqa: F401 (fixture)
from ledger_site.tests.browser import SCREENSHOTS, log_in

D = Decimal


def test_a_reviewer_splits_an_item_of_the_queue_into_three_accounts(page, chart, company_a, reviewer_a):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    costco, suggestion = waiting_with_suggestion(company_a, chart["6100"])
    waiting_with_suggestion(company_a, chart["6200"], amount="-8.40")  # another item, left alone
    log_in(page, "reviewer_a")
    page.goto("/review/alpha-bakery/")
    item = page.locator(f"li.review-item[data-decision-id='{suggestion.pk}']")
    expect(page.locator("#keyboard-help")).to_contain_text("p split")

    # p on the focused item opens the form under it, the suggestion in the first row, the cursor on its amount.
    item.click(position={"x": 60, "y": 10})
    page.keyboard.press("p")
    form = item.locator("form.split-form")
    expect(form).to_be_visible()
    rows = form.locator(".split-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("select")).to_have_value("6100")
    expect(rows.nth(0).locator("input.split-amount")).to_be_focused()
    expect(form.locator(".split-total")).to_have_text("-100.00")

    # Live: 30.00 fixed, the second row takes the remainder.
    page.keyboard.type("30")
    rows.nth(1).locator("select").select_option("6200")
    expect(rows.nth(0).locator("output.split-share")).to_have_text("-30.00")
    expect(rows.nth(1).locator("output.split-share")).to_have_text("-70.00")
    expect(form.locator("output.split-remaining")).to_have_text("The remainder row gets -70.00")

    # A third row: 50 % of what the fixed amount leaves goes to row 2, the rest to row 3 - by mistake 6200 again.
    form.locator("button.split-add").click()
    expect(rows).to_have_count(3)
    rows.nth(1).locator("input.split-percent").fill("50")
    rows.nth(2).locator("select").select_option("6200")
    expect(rows.nth(1).locator("output.split-share")).to_have_text("-35.00")
    expect(rows.nth(2).locator("output.split-share")).to_have_text("-35.00")
    page.screenshot(path=SCREENSHOTS / "splits-1-form.png")
    form.locator("button.split-save").click()

    # The server's answer is shown next to the row it concerns; nothing was saved, the form keeps its values.
    expect(rows.nth(2).locator("ul.split-row-errors")).to_have_text(
        "Account: 6200 is already row 2's account: give each account once")
    expect(form.locator(".split-message")).to_have_text("Nothing was saved: see the problems below.")
    assert not SplitLine.objects.exists()
    item.screenshot(path=SCREENSHOTS / "splits-2-refused.png")

    rows.nth(2).locator("select").select_option("6300")
    form.locator("button.split-save").click()

    expect(page.locator(".message.success")).to_have_text(
        "Split “COSTCO WHOLESALE #1” into 3 parts: 6100 -30.00, 6200 -35.00, 6300 -35.00.")
    expect(page.locator(f"li.review-item[data-decision-id='{suggestion.pk}']")).to_have_count(0)
    expect(page.locator("li.review-item")).to_have_count(1)
    page.screenshot(path=SCREENSHOTS / "splits-3-saved.png")
    parts = SplitLine.objects.filter(transaction=costco).select_related("account")
    assert [(line.account.code, line.amount, line.percent) for line in parts] == [
        ("6100", D("-30.00"), None), ("6200", D("-35.00"), D("50.0000")), ("6300", D("-35.00"), None)]
    decision = Decision.objects.get(transaction=costco, is_current=True)
    assert (decision.account.code, decision.reviewer, decision.status) == ("6200", reviewer_a, DecisionStatus.APPROVED)
    assert JournalEntry.objects.get(source_transaction=costco).lines.count() == 4
    # Only the refused save's 400, which Chromium logs; no CSP violation (inline script or style).
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]


def test_escape_closes_the_form_and_the_queue_keys_work_again(page, chart, company_a, reviewer_a):
    _, first = waiting_with_suggestion(company_a, chart["6100"])
    waiting_with_suggestion(company_a, chart["6200"], amount="-8.40")
    log_in(page, "reviewer_a")
    page.goto("/review/alpha-bakery/")
    item = page.locator(f"li.review-item[data-decision-id='{first.pk}']")
    item.locator("a.split-link").click()
    form = item.locator("form.split-form")
    expect(form).to_be_visible()

    page.keyboard.type("a")  # typed into the amount field: not "approve"
    expect(form.locator(".split-row").nth(0).locator("output.split-share")).to_have_text("?")
    page.keyboard.press("Escape")

    expect(item.locator("form.split-form")).to_have_count(0)
    assert Decision.objects.get(pk=first.pk).status == DecisionStatus.NEEDS_REVIEW
    page.keyboard.press("j")
    expect(page.locator("li.review-item.is-focused")).not_to_have_attribute("data-decision-id", str(first.pk))
    assert page.console_errors == []


def test_the_forms_own_page_posts_plainly_and_shows_the_problems_next_to_the_rows(page, chart, company_a, reviewer_a):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    txn, suggestion = waiting_with_suggestion(company_a, chart["6100"], amount="250.00")
    log_in(page, "reviewer_a")
    page.goto(f"{page_url(txn)}?decision={suggestion.pk}")
    rows = page.locator(".split-row")
    expect(rows).to_have_count(4)  # four rows for a browser without the script; it only adds live shares

    rows.nth(0).locator("input.split-amount").fill("-20")
    rows.nth(2).locator("select").select_option("8000")
    expect(page.locator("output.split-remaining")).to_have_text("The remainder row gets 250.00")  # -20 unread
    page.click("button.split-save")

    # A blank row in between: the problem is still on the row that has it, counted as the page shows them.
    expect(page.locator(".split-message")).to_have_text("Nothing was saved: see the problems below.")
    expect(rows.nth(0).locator("ul.split-row-errors")).to_have_text(
        "Amount: the transaction is money in: expected a positive amount, got -20")
    expect(rows.nth(0).locator("input.split-amount")).to_have_value("-20")
    expect(rows.nth(0).locator("output.split-share")).to_have_text("?")  # the preview refuses it too
    page.screenshot(path=SCREENSHOTS / "splits-4-page.png", full_page=True)
    rows.nth(0).locator("input.split-amount").fill("20")
    page.click("button.split-save")

    expect(page.locator(".message.success")).to_contain_text("into 2 parts: 6100 20.00, 8000 230.00.")
    assert page.url.endswith("/review/alpha-bakery/")
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]


# ---------------------------------------------------------------- without JavaScript: the form's own page


def page_url(txn) -> str:
    return f"/ledger/alpha-bakery/transactions/{txn.pk}/split/"


def test_without_javascript_the_split_link_opens_a_page_that_saves_with_a_plain_post(chart, company_a, reviewer_a,
                                                                                    client):
    txn, suggestion = waiting_with_suggestion(company_a, chart["6100"])
    client.force_login(reviewer_a)

    shown = client.get(page_url(txn), {"decision": suggestion.pk, "next": "/review/alpha-bakery/?q=COSTCO"})
    saved = client.post(page_url(txn), {
        "expected_decision": suggestion.pk, "next": "/review/alpha-bakery/?q=COSTCO",
        "account": ["6100", "", "6300", ""], "amount": ["12.50", "", "", ""], "percent": ["", "", "", ""],
        "memo": ["paper", "", "", ""]})

    assert shown.status_code == 200
    html = shown.content.decode()
    assert html.count('name="amount"') == 4 and '<option value="6100" selected>' in html
    assert f'name="expected_decision" value="{suggestion.pk}"' in html
    assert (saved.status_code, saved["Location"]) == (302, "/review/alpha-bakery/?q=COSTCO")
    assert [(line.account.code, line.amount, line.memo) for line in SplitLine.objects.filter(transaction=txn)] == [
        ("6100", D("-12.50"), "paper"), ("6300", D("-87.50"), "")]


def test_a_refused_split_shows_the_page_again_with_the_problems_next_to_the_rows(chart, company_a, reviewer_a, client):
    txn = a_transaction(company_a)
    client.force_login(reviewer_a)

    response = client.post(page_url(txn), {
        "account": ["6100", "", "6200", "9999"], "amount": ["120", "", "", ""], "percent": ["", "", "", "10"],
        "memo": ["", "", "", ""],
        "next": "https://evil.example/"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Amount: the fixed amounts reach 120.00 here, more than the transaction&#x27;s 100.00" in html
    assert "Account: &#x27;9999&#x27; is not an account of Alpha Bakery&#x27;s chart" in html
    assert 'name="next" value="/review/alpha-bakery/"' in html  # not another site
    assert 'value="120"' in html  # what was typed stays
    assert not SplitLine.objects.exists()


def test_the_inline_form_gets_json_answers(chart, company_a, reviewer_a, client):
    txn, suggestion = waiting_with_suggestion(company_a, chart["6100"])
    client.force_login(reviewer_a)
    post = {"expected_decision": suggestion.pk, "account": ["6100", "8000"], "amount": ["1.005", ""],
            "percent": ["", ""], "memo": ["", ""]}

    refused = client.post(page_url(txn), post, HTTP_ACCEPT="application/json")
    saved = client.post(page_url(txn), {**post, "amount": ["1.00", ""]}, HTTP_ACCEPT="application/json")

    assert refused.status_code == 400
    assert refused.json()["rows"] == {"0": ["Amount: expected at most 2 decimal places (cents), got 1.005"]}
    assert (saved.status_code, saved.json()) == (200, {"redirect": "/review/alpha-bakery/"})
    assert SplitLine.objects.filter(transaction=txn).count() == 2


def test_the_page_is_for_reviewers_of_the_company(chart, company_a, accountant_a, outsider, client):
    txn = a_transaction(company_a)
    body = {"account": ["6100", "6200"], "amount": ["10", ""], "percent": ["", ""], "memo": ["", ""]}

    client.force_login(accountant_a)
    as_accountant = (client.get(page_url(txn)).status_code, client.post(page_url(txn), body).status_code)
    client.force_login(outsider)
    as_outsider = (client.get(page_url(txn)).status_code, client.post(page_url(txn), body).status_code)

    assert (as_accountant, as_outsider) == ((403, 403), (404, 404))
    assert not SplitLine.objects.exists() and not Decision.objects.filter(method=DecisionMethod.HUMAN).exists()
