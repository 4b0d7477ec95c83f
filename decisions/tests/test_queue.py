"""The review queue: its order (vendor groups, biggest and least certain first), filters and pagination, a bounded
number of queries, the HTML page and its POSTs per role, and the API with the same rules."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from decisions.exceptions import DecisionInvalid
from decisions.models import Decision, DecisionMethod, DecisionStatus
from decisions.selectors import REVIEW_GROUPS_PER_PAGE, review_queue
from decisions.services import transaction_categorize
from rules.models import Rule, RuleStatus
from rules.tests.factories import add_lines
from transactions.models import Account, Transaction

NATO = ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL", "INDIA", "JULIETT", "KILO",
        "LIMA", "MIKE", "NOVEMBER", "OSCAR", "PAPA", "QUEBEC", "ROMEO", "SIERRA", "TANGO", "UNIFORM", "VICTOR",
        "WHISKEY", "XRAY", "YANKEE"]


def open_items(company, description, count, *, account="6100", confidence="0.8000", amount="-12.50",
               method=DecisionMethod.ML_SUGGESTION, counterparty="", status=DecisionStatus.NEEDS_REVIEW):
    """`count` bank lines of one vendor, each with an open (needs_review) decision; account=None: a placeholder."""
    lines = add_lines(company, description, count, amount=amount, counterparty=counterparty)
    target = Account.objects.get(company=company, code=account) if account else None
    return Decision.objects.bulk_create(
        Decision(
            company=company, transaction=line, method=method if target else DecisionMethod.HUMAN, account=target,
            confidence=Decimal(confidence) if confidence else None, status=status,
            alternatives=[{"account": "8000", "probability": "0.1500"}, {"account": "6100", "probability": "0.0500"}],
            explanation={"model_version": 1, "model_number": 3, "scope": "company",
                         "tokens": [["HAMILTON", 1.2], ["COFFEE", 0.8]], "vendor": "HAMILTON COFFEE"}
            if target else {"reason": "confidence 0.31 is below the review threshold 0.5: no suggestion"},
        )
        for line in lines
    )


@pytest.fixture
def known_queue(company_a):
    """37 coffees (one suggestion), 3 staples, 1 line without a suggestion."""
    coffee = open_items(company_a, "SQ *HAMILTON COFFEE", 37, confidence="0.9000", amount="-4.75")
    staples = open_items(company_a, "STAPLES STORE", 3, account="8000", confidence="0.6000", amount="-38.20")
    [placeholder] = open_items(company_a, "NEW VENDOR", 1, account=None, amount="-99.00")
    return {"coffee": coffee, "staples": staples, "placeholder": placeholder}


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# ------------------------------------------------------------------------------------------------ selector


def test_queue_groups_by_vendor_biggest_group_first(company_a, known_queue):
    queue = review_queue(company=company_a, params={})

    assert [(group.vendor, group.count) for group in queue.groups] == [
        ("HAMILTON COFFEE", 37), ("STAPLES", 3), ("NEW VENDOR", 1)]
    assert (queue.group_count, queue.item_count) == (3, 41)
    coffee, staples, placeholder = queue.groups
    assert coffee.shared_account.code == "6100" and coffee.suggested_count == 37
    assert set(coffee.decision_ids) == {decision.pk for decision in known_queue["coffee"]}
    assert (coffee.uncertainty, coffee.total_amount) == (Decimal("0.1"), Decimal("175.75"))
    assert placeholder.shared_account is None and placeholder.suggested_count == 0
    assert placeholder.uncertainty == Decimal(1)  # no suggestion: the most uncertain


def test_equal_groups_go_by_uncertainty_then_amount_and_items_too(company_a):
    sure = open_items(company_a, "SURE THING", 2, confidence="0.9500", amount="-500.00")
    small = open_items(company_a, "SMALL DOUBT", 2, confidence="0.5000", amount="-5.00")
    big = open_items(company_a, "BIG DOUBT", 2, confidence="0.5000", amount="-80.00")
    mixed = open_items(company_a, "MIXED BAG", 1, confidence="0.9900", amount="-1.00")
    mixed += open_items(company_a, "MIXED BAG", 1, confidence="0.7000", amount="-2.00")
    mixed += open_items(company_a, "MIXED BAG", 1, confidence="0.7000", amount="-30.00")

    groups = review_queue(company=company_a, params={}).groups

    assert [group.vendor for group in groups] == ["MIXED BAG", "BIG DOUBT", "SMALL DOUBT", "SURE THING"]
    assert groups[0].decision_ids == [mixed[2].pk, mixed[1].pk, mixed[0].pk]  # least certain, then largest
    assert {group.vendor: len(group.items) for group in groups} == {
        "MIXED BAG": 3, "BIG DOUBT": 2, "SMALL DOUBT": 2, "SURE THING": 2}
    assert sure and small and big


def test_queue_holds_only_current_open_decisions_of_the_company(company_a, company_b, reviewer_a):
    [open_one, decided] = open_items(company_a, "STAPLES STORE", 2)
    open_items(company_a, "AUTO VENDOR", 1, status=DecisionStatus.AUTO_APPROVED)
    transaction_categorize(transaction_id=decided.transaction_id, user=reviewer_a, account=decided.account)
    Account.objects.create(company=company_b, code="6100", name="Office", type="expense")
    open_items(company_b, "STAPLES STORE", 4)

    queue = review_queue(company=company_a, params={})

    assert [group.decision_ids for group in queue.groups] == [[open_one.pk]]


def test_queue_is_paginated_by_groups(company_a):
    for word in NATO:
        open_items(company_a, f"SUPPLIER {word}", 1)

    first = review_queue(company=company_a, params={})
    second = review_queue(company=company_a, params={"page": "2"})

    assert (len(first.groups), len(second.groups)) == (REVIEW_GROUPS_PER_PAGE, len(NATO) - REVIEW_GROUPS_PER_PAGE)
    assert first.page.paginator.num_pages == 2 and first.group_count == len(NATO)
    assert not {g.vendor for g in first.groups} & {g.vendor for g in second.groups}


@pytest.mark.parametrize(("params", "vendors"), [
    ({"q": "hamilton"}, ["HAMILTON COFFEE"]),
    ({"q": "store"}, ["STAPLES"]),  # the raw description matches too
    ({"method": "human"}, ["NEW VENDOR"]),
    ({"method": "ml_suggestion"}, ["HAMILTON COFFEE", "STAPLES"]),
    ({"method": "llm"}, []),
    ({"min_amount": "38.20"}, ["STAPLES", "NEW VENDOR"]),  # on |amount|
    ({"min_amount": "50", "method": "ml_suggestion"}, []),
])
def test_queue_filters(company_a, known_queue, params, vendors):
    assert [group.vendor for group in review_queue(company=company_a, params=params).groups] == vendors


@pytest.mark.parametrize("params", [{"method": "rule"}, {"min_amount": "ten"}, {"min_amount": "-1"},
                                    {"min_amount": "NaN"}])
def test_bad_filters_are_refused_by_name(company_a, params):
    with pytest.raises(DecisionInvalid) as error:
        review_queue(company=company_a, params=params)
    assert set(error.value.extra["fields"]) == set(params)


def test_a_page_of_200_items_takes_a_bounded_number_of_queries(company_a, reviewer_a):
    client = web(reviewer_a)
    open_items(company_a, "SUPPLIER ALPHA", 1)
    with CaptureQueriesContext(connection) as one_item:
        assert client.get("/review/alpha-bakery/").status_code == 200
    for word in NATO[1:20]:
        open_items(company_a, f"SUPPLIER {word}", 10)
    open_items(company_a, "SUPPLIER ALPHA", 9)
    for word in NATO[20:]:  # a second page of groups, not loaded
        open_items(company_a, f"SUPPLIER {word}", 3)

    with CaptureQueriesContext(connection) as many:
        response = client.get("/review/alpha-bakery/")

    assert response.content.decode().count('class="review-item"') == 200
    # session, user, company, role, the open-item scan, the page's items, the chart, the admin check
    assert len(many) == len(one_item) <= 8, [query["sql"] for query in many.captured_queries]


# -------------------------------------------------------------------------------------------- HTML pages


@pytest.mark.parametrize(("actor", "expected"), [
    ("accountant_a", 403), ("reviewer_a", 200), ("admin_a", 200), ("outsider", 404), ("superuser", 200)])
def test_queue_page_needs_the_reviewer_role(request, company_a, known_queue, actor, expected):
    response = web(request.getfixturevalue(actor)).get("/review/alpha-bakery/")

    assert response.status_code == expected
    if expected == 200:
        assert "HAMILTON COFFEE" in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(db):
    assert Client().get("/review/alpha-bakery/").status_code == 302
    assert Client().get("/review/").status_code == 302


def test_queue_page_shows_each_item_with_suggestion_alternatives_and_why(company_a, reviewer_a, known_queue):
    html = web(reviewer_a).get("/review/alpha-bakery/").content.decode()

    assert "Approve group (37)" in html and "all suggest" in html
    assert "SQ *HAMILTON COFFEE #1000" in html and "-4.75" in html and "90%" in html
    assert "8000 Sales Revenue" in html and "15%" in html  # an alternative, named
    assert "model v3: HAMILTON, COFFEE" in html
    assert "No suggestion" in html and "below the review threshold" in html
    assert '<option value="6100 Office Supplies">' in html and '<option value="1000' not in html  # no bank
    assert "<script>" not in html and "style=" not in html  # CSP: no inline script or style


def test_review_index_lists_companies_with_open_counts(company_a, company_b, reviewer_a, accountant_a, known_queue):
    html = web(reviewer_a).get("/review/").content.decode()
    assert 'href="/review/alpha-bakery/"' in html and '<strong class="open-count">41</strong>' in html
    assert "Beta Builders" not in html

    html = web(accountant_a).get("/review/").content.decode()
    assert 'href="/review/alpha-bakery/"' not in html and "needs the reviewer role" in html


def test_approving_a_group_approves_all_of_it(company_a, reviewer_a, known_queue):
    ids = ",".join(str(decision.pk) for decision in known_queue["coffee"])

    response = web(reviewer_a).post("/review/alpha-bakery/approve/", {"ids": ids, "query": "q=coffee"}, follow=True)

    assert response.redirect_chain[-1][0] == "/review/alpha-bakery/?q=coffee"
    assert page_messages(response) == ["Approved 37."]
    assert Transaction.objects.filter(account__code="6100", confirmed_at__isnull=False).count() == 37
    assert Decision.objects.filter(status=DecisionStatus.APPROVED, reviewer=reviewer_a).count() == 37


def test_approving_a_group_counts_what_someone_else_decided(company_a, reviewer_a, admin_a, known_queue):
    coffee = known_queue["coffee"]
    transaction_categorize(transaction_id=coffee[0].transaction_id, user=admin_a,
                           account=Account.objects.get(company=company_a, code="8000"))

    response = web(reviewer_a).post("/review/alpha-bakery/approve/", {
        "ids": ",".join(str(decision.pk) for decision in coffee)}, follow=True)

    assert page_messages(response) == ["Approved 36; 1 was already decided by someone else."]
    assert Transaction.objects.get(pk=coffee[0].transaction_id).account.code == "8000"


def test_approving_selected_items_and_a_placeholder(company_a, reviewer_a, known_queue):
    staples, placeholder = known_queue["staples"], known_queue["placeholder"]

    response = web(reviewer_a).post("/review/alpha-bakery/approve/", {
        "decision": [staples[0].pk, staples[1].pk, placeholder.pk]}, follow=True)

    assert page_messages(response) == [
        "Approved 2; 1 has no suggestion to approve: pick an account for it."]
    assert Decision.objects.filter(status=DecisionStatus.APPROVED).count() == 2


def test_approve_without_a_selection_says_so(company_a, reviewer_a, known_queue):
    response = web(reviewer_a).post("/review/alpha-bakery/approve/", {}, follow=True)
    assert page_messages(response) == ["Tick at least one item first."]


def test_approve_refuses_decisions_of_another_company(company_a, company_b, reviewer_a, known_queue):
    Account.objects.create(company=company_b, code="6100", name="Office", type="expense")
    [foreign] = open_items(company_b, "BETA LUMBER", 1)

    response = web(reviewer_a).post("/review/alpha-bakery/approve/", {
        "ids": f"{known_queue['staples'][0].pk},{foreign.pk}"})

    assert response.status_code == 404
    assert not Decision.objects.filter(status=DecisionStatus.APPROVED).exists()


@pytest.mark.parametrize(("actor", "expected"), [("accountant_a", 403), ("outsider", 404)])
def test_posts_need_the_reviewer_role_and_change_nothing_otherwise(request, company_a, known_queue, actor,
                                                                     expected):
    client = web(request.getfixturevalue(actor))
    staples = known_queue["staples"][0]

    approve = client.post("/review/alpha-bakery/approve/", {"ids": str(staples.pk)})
    correct = client.post("/review/alpha-bakery/correct/", {"decision": staples.pk, "account": "6100"})

    assert (approve.status_code, correct.status_code) == (expected, expected)
    assert Decision.objects.filter(status=DecisionStatus.NEEDS_REVIEW).count() == 41
    assert not Transaction.objects.filter(confirmed_at__isnull=False).exists()


def test_get_is_not_allowed_on_the_posts(company_a, reviewer_a):
    client = web(reviewer_a)
    assert client.get("/review/alpha-bakery/approve/").status_code == 405
    assert client.get("/review/alpha-bakery/correct/").status_code == 405


@pytest.mark.parametrize(("actor", "status"), [("reviewer_a", RuleStatus.PROPOSED), ("admin_a", RuleStatus.ACTIVE)])
def test_correcting_with_always_like_this_creates_a_rule(request, company_a, known_queue, actor, status):
    decision = known_queue["coffee"][0]

    response = web(request.getfixturevalue(actor)).post("/review/alpha-bakery/correct/", {
        "decision": decision.pk, "expected_decision": decision.pk, "account": "8000 Sales Revenue",
        "remember_as_rule": "on"}, follow=True)

    [message] = page_messages(response)
    assert message.startswith("Saved “SQ *HAMILTON COFFEE #1000” as 8000 Sales Revenue. Rule “HAMILTON COFFEE")
    rule = Rule.objects.get()
    assert (rule.status, rule.account_code, rule.company) == (status, "8000", company_a)
    assert rule.conditions[0] == {"field": "counterparty", "op": "equals", "value": "HAMILTON COFFEE"}
    assert Transaction.objects.get(pk=decision.transaction_id).account.code == "8000"
    assert Decision.objects.get(pk=decision.pk).status == DecisionStatus.CORRECTED


def test_answering_a_placeholder_by_code(company_a, reviewer_a, known_queue):
    placeholder = known_queue["placeholder"]

    response = web(reviewer_a).post("/review/alpha-bakery/correct/", {
        "decision": placeholder.pk, "account": "6100"}, follow=True)

    assert page_messages(response) == ["Saved “NEW VENDOR #1000” as 6100 Office Supplies."]
    assert not Rule.objects.exists()
    assert Decision.objects.get(pk=placeholder.pk).status == DecisionStatus.APPROVED


@pytest.mark.parametrize("typed", ["9999 Nothing", "1000", ""])
def test_an_account_outside_the_chart_is_refused(company_a, reviewer_a, known_queue, typed):
    decision = known_queue["staples"][0]

    response = web(reviewer_a).post("/review/alpha-bakery/correct/", {"decision": decision.pk, "account": typed},
                                    follow=True)

    assert "pick one from the list" in page_messages(response)[0] or page_messages(response) == [
        "Pick an account first."]
    assert Decision.objects.get(pk=decision.pk).status == DecisionStatus.NEEDS_REVIEW


def test_a_stale_correction_shows_the_conflict_and_changes_nothing(company_a, reviewer_a, admin_a, known_queue):
    decision = known_queue["staples"][0]
    transaction_categorize(transaction_id=decision.transaction_id, user=admin_a,
                           account=Account.objects.get(company=company_a, code="6100"),
                           expected_decision_id=decision.pk)
    before = list(Decision.objects.order_by("pk").values_list("pk", "status", "account_id", "is_current"))

    response = web(reviewer_a).post("/review/alpha-bakery/correct/", {
        "decision": decision.pk, "expected_decision": decision.pk, "account": "6100", "remember_as_rule": "on"},
        follow=True)

    assert page_messages(response) == [
        "Someone else has already decided this transaction by admin_a; the page shows an old state. Reload to see it."]
    assert list(Decision.objects.order_by("pk").values_list("pk", "status", "account_id", "is_current")) == before
    assert not Rule.objects.exists()


def test_always_like_this_twice_for_one_vendor_saves_both_corrections_and_one_rule(company_a, reviewer_a, known_queue):
    first, second = known_queue["coffee"][:2]
    client = web(reviewer_a)
    client.post("/review/alpha-bakery/correct/", {"decision": first.pk, "account": "8000", "remember_as_rule": "on"},
                follow=True)

    client.post("/review/alpha-bakery/correct/", {
        "decision": second.pk, "account": "8000", "remember_as_rule": "on"}, follow=True)

    assert Decision.objects.get(pk=second.pk).status == DecisionStatus.CORRECTED
    assert Rule.objects.filter(company=company_a).count() == 1


def test_bad_filters_on_the_page_show_a_message(company_a, reviewer_a):
    response = web(reviewer_a).get("/review/alpha-bakery/?min_amount=ten", follow=True)
    assert response.redirect_chain[-1][0] == "/review/alpha-bakery/"
    assert page_messages(response)[0].startswith("Some filters are not valid. min_amount:")


# ------------------------------------------------------------------------------------------------------ API


def test_api_review_queue_lists_groups_with_items(company_a, reviewer_a, token_client_for, known_queue):
    response = token_client_for(reviewer_a).get("/api/review/", {"company": "alpha-bakery"})

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["items"], body["page"], body["pages"], body["next"], body["previous"]) == (
        3, 41, 1, 1, None, None)
    coffee = body["results"][0]
    assert (coffee["vendor"], coffee["count"], coffee["shared_account"], coffee["uncertainty"]) == (
        "HAMILTON COFFEE", 37, "6100", "0.1000")
    assert len(coffee["items"]) == 37 and len(coffee["decision_ids"]) == 37
    item = coffee["items"][0]
    assert (item["account"], item["confidence"], item["status"]) == ("6100", "0.9000", "needs_review")
    assert item["transaction"]["description"].startswith("SQ *HAMILTON COFFEE") and item["transaction"]["amount"] == "-4.75"
    assert body["results"][2]["shared_account"] is None


def test_api_review_queue_filters_and_pages(company_a, reviewer_a, token_client_for):
    for word in NATO:
        open_items(company_a, f"SUPPLIER {word}", 1)
    client = token_client_for(reviewer_a)

    first = client.get("/api/review/", {"company": company_a.pk}).json()
    second = client.get(first["next"]).json()
    filtered = client.get("/api/review/", {"company": "alpha-bakery", "q": "tango"}).json()
    bad = client.get("/api/review/", {"company": "alpha-bakery", "method": "rule"})

    assert (len(first["results"]), len(second["results"]), second["next"]) == (20, 5, None)
    assert second["previous"].endswith("/api/review/?company=" + str(company_a.pk))
    assert [group["vendor"] for group in filtered["results"]] == ["SUPPLIER TANGO"]
    assert bad.status_code == 400 and bad.json()["extra"]["fields"] == {"method": [
        "expected one of ml_suggestion, human, llm"]}


@pytest.mark.parametrize(("actor", "expected"), [
    ("accountant_a", 403), ("reviewer_a", 200), ("admin_a", 200), ("outsider", 404), ("superuser", 200)])
def test_api_operations_per_role(request, company_a, token_client_for, known_queue, actor, expected):
    client = token_client_for(request.getfixturevalue(actor))
    staples = known_queue["staples"]

    statuses = [
        client.get("/api/review/", {"company": "alpha-bakery"}).status_code,
        client.post(f"/api/decisions/{staples[0].pk}/approve", format="json").status_code,
        client.post(f"/api/decisions/{staples[1].pk}/correct", {"account": "6100"}, format="json").status_code,
        client.post("/api/decisions/approve", {"ids": [staples[2].pk]}, format="json").status_code,
    ]

    assert statuses == [expected] * 4
    confirmed = Transaction.objects.filter(confirmed_at__isnull=False).count()
    assert confirmed == (3 if expected == 200 else 0)


def test_api_anonymous_gets_401(company_a, api_client, known_queue):
    decision = known_queue["staples"][0]
    assert api_client.get("/api/review/", {"company": "alpha-bakery"}).status_code == 401
    assert api_client.post(f"/api/decisions/{decision.pk}/approve").status_code == 401
    assert api_client.post(f"/api/decisions/{decision.pk}/correct", {"account": "6100"}).status_code == 401
    assert api_client.post("/api/decisions/approve", {"ids": [decision.pk]}).status_code == 401


def test_api_approve_and_correct_answer_with_the_current_decision(company_a, reviewer_a, token_client_for,
                                                                  known_queue):
    client = token_client_for(reviewer_a)
    coffee = known_queue["coffee"]

    approved = client.post(f"/api/decisions/{coffee[0].pk}/approve", {}, format="json")
    corrected = client.post(f"/api/decisions/{coffee[1].pk}/correct",
                            {"account": "8000", "remember_as_rule": True}, format="json")

    assert approved.status_code == 200
    assert (approved.json()["id"], approved.json()["status"], approved.json()["account"]) == (
        coffee[0].pk, "approved", "6100")
    assert corrected.status_code == 200
    body = corrected.json()
    assert (body["method"], body["status"], body["account"], body["reviewer"]) == (
        "human", "approved", "8000", "reviewer_a")
    assert body["id"] != coffee[1].pk and body["explanation"] == {"corrects": coffee[1].pk}
    assert Rule.objects.get().status == RuleStatus.PROPOSED


def test_api_conflicts_are_409_and_change_nothing(company_a, reviewer_a, admin_a, token_client_for, known_queue):
    decision = known_queue["staples"][0]
    transaction_categorize(transaction_id=decision.transaction_id, user=admin_a,
                           account=Account.objects.get(company=company_a, code="6100"))
    client = token_client_for(reviewer_a)

    approve = client.post(f"/api/decisions/{decision.pk}/approve")
    correct = client.post(f"/api/decisions/{decision.pk}/correct", {"account": "8000"}, format="json")

    for response in (approve, correct):
        assert response.status_code == 409
        assert response.json()["code"] == "decision_conflict"
        assert "already decided this transaction by admin_a" in response.json()["message"]
    assert Transaction.objects.get(pk=decision.transaction_id).account.code == "6100"


def test_api_bad_requests_are_400(company_a, reviewer_a, token_client_for, known_queue):
    client = token_client_for(reviewer_a)
    placeholder, staples = known_queue["placeholder"], known_queue["staples"][0]

    no_suggestion = client.post(f"/api/decisions/{placeholder.pk}/approve")
    bank = client.post(f"/api/decisions/{staples.pk}/correct", {"account": "1000"}, format="json")
    unknown = client.post(f"/api/decisions/{staples.pk}/correct", {"account": "9999"}, format="json")
    empty = client.post("/api/decisions/approve", {"ids": []}, format="json")

    assert [r.status_code for r in (no_suggestion, bank, unknown, empty)] == [400, 400, 400, 400]
    assert bank.json()["code"] == unknown.json()["code"] == "decision_invalid"
    assert Decision.objects.filter(status=DecisionStatus.NEEDS_REVIEW).count() == 41


def test_api_bulk_approve_reports_what_it_skipped(company_a, reviewer_a, admin_a, token_client_for, known_queue):
    staples, placeholder = known_queue["staples"], known_queue["placeholder"]
    transaction_categorize(transaction_id=staples[0].transaction_id, user=admin_a,
                           account=Account.objects.get(company=company_a, code="6100"))

    response = token_client_for(reviewer_a).post(
        "/api/decisions/approve", {"ids": [d.pk for d in staples] + [placeholder.pk]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"approved": 2, "skipped": {"already_decided": 1, "no_suggestion": 1},
                               "approved_ids": [staples[1].pk, staples[2].pk]}


def test_api_bulk_approve_refuses_another_companys_ids_whole(company_a, company_b, reviewer_a, token_client_for,
                                                             known_queue):
    Account.objects.create(company=company_b, code="6100", name="Office", type="expense")
    [foreign] = open_items(company_b, "BETA LUMBER", 1)

    response = token_client_for(reviewer_a).post(
        "/api/decisions/approve", {"ids": [known_queue["staples"][0].pk, foreign.pk]}, format="json")

    assert response.status_code == 404
    assert not Decision.objects.filter(status=DecisionStatus.APPROVED).exists()


def test_api_session_posts_need_the_csrf_token(company_a, reviewer_a, client_for, known_queue):
    response = client_for(reviewer_a).post(f"/api/decisions/{known_queue['staples'][0].pk}/approve")
    assert response.status_code == 403
    assert not Decision.objects.filter(status=DecisionStatus.APPROVED).exists()


def test_a_huge_group_is_approved_in_bounded_steps(company_a, reviewer_a, known_queue, monkeypatch):
    from decisions import views

    monkeypatch.setattr(views, "MAX_APPROVALS_PER_REQUEST", 2)
    ids = ",".join(str(decision.pk) for decision in known_queue["coffee"][:3])

    response = web(reviewer_a).post("/review/alpha-bakery/approve/", {"ids": ids}, follow=True)

    assert page_messages(response)[0].endswith("1 more of this group wait: approve it again.")
    assert Decision.objects.filter(pk__in=[d.pk for d in known_queue["coffee"][:3]], status="approved").count() == 2
