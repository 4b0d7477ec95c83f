"""POST/GET /api/transactions/{id}/split: the answer's shape, the error statuses and who may split."""
from __future__ import annotations

from decimal import Decimal

import pytest

from decisions.models import Decision
from decisions.services import transaction_categorize
from ledger.models import JournalEntry, SplitLine
from ledger.services.postings import journal_entries_post
from ledger.tests.test_splits import a_transaction, chart, waiting_with_suggestion  # noqa: F401 (fixture)

PARTS = [{"account": "6100", "amount": "-12.50", "memo": "paper"}, {"account": "6200", "percent": "40"},
         {"account": "6300"}]


def url(txn) -> str:
    return f"/api/transactions/{txn.pk}/split"


def test_a_reviewer_splits_a_transaction_and_gets_the_parts_and_the_entry_lines(chart, company_a, reviewer_a,
                                                                                 token_client_for):
    txn, suggestion = waiting_with_suggestion(company_a, chart["6100"])

    response = token_client_for(reviewer_a).post(url(txn), {"parts": PARTS, "expected_decision_id": suggestion.pk},
                                                 format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    decision = Decision.objects.get(transaction=txn, is_current=True)
    entry = JournalEntry.objects.get(source_transaction=txn)
    assert {key: body[key] for key in ("transaction", "amount", "decision")} == {
        "transaction": txn.pk, "amount": "-100.00", "decision": decision.pk}
    assert body["parts"] == [
        {"position": 0, "account": "6100", "account_name": "Office Supplies", "amount": "-12.50", "percent": None,
         "memo": "paper"},
        {"position": 1, "account": "6200", "account_name": "Meals", "amount": "-35.00", "percent": "40.0000",
         "memo": ""},
        {"position": 2, "account": "6300", "account_name": "Inventory", "amount": "-52.50", "percent": None,
         "memo": ""},
    ]
    assert (body["entry"]["id"], body["entry"]["status"], body["entry"]["date"]) == (entry.pk, "proposed", "2026-05-04")
    assert sorted((line["account"], line["debit"], line["credit"]) for line in body["entry"]["lines"]) == sorted([
        ("6100", "12.50", "0.00"), ("6200", "35.00", "0.00"), ("6300", "52.50", "0.00"), ("1000", "0.00", "100.00")])


def test_members_read_the_split_and_an_unsplit_transaction_has_no_parts(chart, company_a, reviewer_a, accountant_a,
                                                                         token_client_for):
    split, plain = a_transaction(company_a), a_transaction(company_a, "-5.00", "COFFEE")
    token_client_for(reviewer_a).post(url(split), {"parts": PARTS}, format="json")

    read = token_client_for(accountant_a).get(url(split))
    unsplit = token_client_for(accountant_a).get(url(plain))

    assert read.status_code == 200
    assert [(part["account"], part["amount"]) for part in read.json()["parts"]] == [
        ("6100", "-12.50"), ("6200", "-35.00"), ("6300", "-52.50")]
    assert len(read.json()["entry"]["lines"]) == 4
    assert unsplit.json() == {"transaction": plain.pk, "amount": "-5.00", "decision": None, "parts": [], "entry": None}


def test_a_split_that_does_not_add_up_is_a_400_naming_the_part(chart, company_a, reviewer_a, token_client_for):
    txn = a_transaction(company_a)

    response = token_client_for(reviewer_a).post(url(txn), {"parts": [
        {"account": "6100", "percent": "60"}, {"account": "6200", "percent": "30"}]}, format="json")

    assert response.status_code == 400
    assert response.json() == {"code": "ledger_invalid", "message": (
        "The split is not valid: parts[1].percent: the percentages add up to 90, expected 100 (within 0.01 for "
        "rounding each to two decimals); or leave one part's amount and percent empty to take the rest."),
        "extra": {"fields": {"parts[1].percent": [
            "the percentages add up to 90, expected 100 (within 0.01 for rounding each to two decimals); or leave "
            "one part's amount and percent empty to take the rest"]}}}
    assert not SplitLine.objects.exists() and not Decision.objects.filter(transaction=txn).exists()


@pytest.mark.parametrize(("body", "fields"), [
    pytest.param({}, {"parts": ["This field is required."]}, id="no parts"),
    pytest.param({"parts": [{"amount": "-1"}, {"account": "6200"}]},
                 {"parts": {"0": {"account": ["This field is required."]}}}, id="a part without account"),
    pytest.param({"parts": [{"account": "6100", "amount": "lots"}, {"account": "6200"}]},
                 {"parts[0].amount": ["expected a number like -12.50, got 'lots'"]}, id="not a number"),
    pytest.param({"parts": PARTS, "expected_decision_id": 0},
                 {"expected_decision_id": ["Ensure this value is greater than or equal to 1."]},
                 id="a bad decision id"),
])
def test_malformed_requests_are_400s(chart, company_a, reviewer_a, token_client_for, body, fields):
    txn = a_transaction(company_a)

    response = token_client_for(reviewer_a).post(url(txn), body, format="json")

    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == fields
    assert not SplitLine.objects.exists()


def test_a_posted_transaction_is_a_409(chart, company_a, reviewer_a, token_client_for):
    txn = a_transaction(company_a)
    transaction_categorize(transaction_id=txn.pk, user=reviewer_a, account=chart["6100"])
    entry = JournalEntry.objects.get(source_transaction=txn)
    journal_entries_post(company=company_a, entry_ids=[entry.pk], user=reviewer_a)

    response = token_client_for(reviewer_a).post(url(txn), {"parts": PARTS}, format="json")

    assert response.status_code == 409
    assert (response.json()["code"], response.json()["extra"]) == ("ledger_conflict", {"entry": entry.pk})
    assert not SplitLine.objects.exists()
    assert [line.account.code for line in entry.lines.all()] == ["6100", "1000"]


def test_a_decision_made_meanwhile_is_a_409(chart, company_a, reviewer_a, admin_a, token_client_for):
    txn, suggestion = waiting_with_suggestion(company_a, chart["6100"])
    transaction_categorize(transaction_id=txn.pk, user=admin_a, account=chart["6200"])

    response = token_client_for(reviewer_a).post(url(txn), {"parts": PARTS, "expected_decision_id": suggestion.pk},
                                                 format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "decision_conflict"
    assert not SplitLine.objects.exists()
    assert Decision.objects.get(transaction=txn, is_current=True).account.code == "6200"


def test_another_companys_transaction_is_a_404_for_reading_and_splitting(chart, company_a, outsider,
                                                                          token_client_for):
    txn = a_transaction(company_a)
    client = token_client_for(outsider)

    read, write = client.get(url(txn)), client.post(url(txn), {"parts": PARTS}, format="json")

    assert (read.status_code, write.status_code) == (404, 404)
    assert "COSTCO" not in read.content.decode() + write.content.decode()
    assert not SplitLine.objects.exists() and not Decision.objects.exists()


def test_accountants_may_read_but_not_split(chart, company_a, accountant_a, token_client_for):
    txn = a_transaction(company_a)

    response = token_client_for(accountant_a).post(url(txn), {"parts": PARTS}, format="json")

    assert response.status_code == 403
    assert not SplitLine.objects.exists() and not Decision.objects.exists()


def test_the_browser_session_needs_the_csrf_token_and_anonymous_callers_a_login(chart, company_a, reviewer_a,
                                                                               client_for, api_client):
    txn = a_transaction(company_a)

    without_csrf = client_for(reviewer_a).post(url(txn), {"parts": PARTS}, format="json")
    anonymous = api_client.post(url(txn), {"parts": PARTS}, format="json")

    assert (without_csrf.status_code, anonymous.status_code) == (403, 401)
    assert not SplitLine.objects.exists()


def test_amounts_given_as_json_numbers_are_read_from_their_text(chart, company_a, reviewer_a, token_client_for):
    txn = a_transaction(company_a, "-0.30")

    response = token_client_for(reviewer_a).post(url(txn), {"parts": [
        {"account": "6100", "amount": 0.1}, {"account": "6200", "percent": 50}, {"account": "6300"}]}, format="json")

    assert response.status_code == 200, response.content
    assert [part["amount"] for part in response.json()["parts"]] == ["-0.10", "-0.10", "-0.10"]
    assert sum(line.amount for line in SplitLine.objects.filter(transaction=txn)) == Decimal("-0.30")
