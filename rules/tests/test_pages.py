"""The rule pages through Django's test client: who may see and do what, the test button, saving, and review."""
from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rules.models import Rule, RuleSource, RuleStatus
from rules.services.lifecycle import rule_create
from rules.views import conditions_text
from transactions.models import Account, Transaction, TransactionStatus

HAMILTON = [
    {"field": "counterparty", "op": "equals", "value": "HAMILTON COFFEE"},
    {"field": "direction", "op": "out", "value": ""},
]


def make_rule(company, *, name="Hamilton coffee", status=RuleStatus.ACTIVE, conditions=None, account_code="6100",
              **fields) -> Rule:
    """A rule made by the service (as a command would: no user), then given extra fields for the scenario."""
    rule = rule_create(
        company=company, user=None, activate=status != RuleStatus.PROPOSED,
        raw={"name": name, "conditions": conditions or HAMILTON, "account_code": account_code, "priority": 100},
    )
    if status not in (RuleStatus.ACTIVE, RuleStatus.PROPOSED) or fields:
        Rule.objects.filter(pk=rule.pk).update(**({"status": status} | fields))
        rule.refresh_from_db()
    return rule


def make_history(company) -> None:
    """Six HAMILTON COFFEE card payments (4 in 6100, 1 in 8000, 1 uncategorized) and three other lines."""
    bank = company.accounts.get(code="1000")
    supplies, sales = company.accounts.get(code="6100"), company.accounts.get(code="8000")
    rows = [("HAMILTON COFFEE", Decimal("-4.50"), supplies)] * 4 + [
        ("HAMILTON COFFEE", Decimal("-5.00"), sales),
        ("HAMILTON COFFEE", Decimal("-6.00"), None),
        ("STAPLES", Decimal("-30.00"), supplies),
        ("ACME CORP", Decimal("900.00"), sales),
        ("ACME CORP", Decimal("450.00"), None),
    ]
    Transaction.objects.bulk_create(
        Transaction(
            company=company, bank_account=bank, date=datetime.date(2025, 3, 1) + datetime.timedelta(days=i),
            description=f"POS {counterparty} #{i}", counterparty=counterparty, amount=amount, account=account,
            status=TransactionStatus.CATEGORIZED if account else TransactionStatus.UNCATEGORIZED,
            fingerprint=uuid.uuid4(),
        )
        for i, (counterparty, amount, account) in enumerate(rows)
    )


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(*, name="Coffee", account="6100", rows=(), action="save", combine="all", priority="100", **extra):
    """POST data of the rule form: `rows` are (field, op, value[, to]) tuples; four rows in all."""
    data = {"name": name, "combine": combine, "account_code": account, "priority": priority, "action": action,
            "conditions-TOTAL_FORMS": "4", "conditions-INITIAL_FORMS": "0",
            "conditions-MIN_NUM_FORMS": "0", "conditions-MAX_NUM_FORMS": "20", **extra}
    for index in range(4):
        field, op, value, upper = (list(rows[index]) + [""] * 4)[:4] if index < len(rows) else ("", "equals", "", "")
        data |= {f"conditions-{index}-field": field, f"conditions-{index}-op": op,
                 f"conditions-{index}-value": value, f"conditions-{index}-value_to": upper}
    return data


# ----------------------------------------------------------------------------------------------- access

COMPANY_PAGES = ["/rules/alpha-bakery/", "/rules/alpha-bakery/new/", "/rules/alpha-bakery/review/"]


@pytest.mark.parametrize("url", ["/rules/", *COMPANY_PAGES])
def test_anonymous_visitors_are_sent_to_log_in(client, company_a, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", COMPANY_PAGES)
def test_an_outsider_gets_404_for_every_page_of_another_company(company_a, outsider, url):
    assert logged_in(outsider).get(url).status_code == 404


def test_an_outsider_cannot_open_or_change_another_companys_rule(company_a, outsider):
    rule = make_rule(company_a, status=RuleStatus.PROPOSED)
    client = logged_in(outsider)

    assert client.get(f"/rules/alpha-bakery/{rule.pk}/edit/").status_code == 404
    assert client.post("/rules/alpha-bakery/review/", {"action": f"approve:{rule.pk}"}).status_code == 404
    assert client.post(f"/rules/alpha-bakery/{rule.pk}/retire/").status_code == 404
    # Through their own company's queue, company A's rule is simply not there.
    response = client.post("/rules/beta-builders/review/", {"action": f"approve:{rule.pk}"}, follow=True)
    assert "do not belong to this company" in response.content.decode()
    # Nor through their own company's edit page.
    assert client.get(f"/rules/beta-builders/{rule.pk}/edit/").status_code == 404
    rule.refresh_from_db()
    assert rule.status == RuleStatus.PROPOSED


@pytest.mark.parametrize(
    ("role", "url", "expected"),
    [
        ("accountant", "/rules/alpha-bakery/", 200),
        ("accountant", "/rules/alpha-bakery/new/", 403),
        ("accountant", "/rules/alpha-bakery/review/", 403),
        ("reviewer", "/rules/alpha-bakery/", 200),
        ("reviewer", "/rules/alpha-bakery/new/", 200),
        ("reviewer", "/rules/alpha-bakery/review/", 403),
        ("admin", "/rules/alpha-bakery/", 200),
        ("admin", "/rules/alpha-bakery/new/", 200),
        ("admin", "/rules/alpha-bakery/review/", 200),
    ],
)
def test_pages_need_the_right_role(request, role, url, expected):
    user = request.getfixturevalue(f"{role}_a")

    assert logged_in(user).get(url).status_code == expected


# ------------------------------------------------------------------------------------------ index, list


def test_the_index_lists_my_companies_with_rule_counts(company_a, company_b, accountant_a):
    make_rule(company_a, name="Active one")
    make_rule(company_a, name="Flagged one", flagged_at=timezone.now(), flag_reason="too many corrections")
    make_rule(company_a, name="Waiting", status=RuleStatus.PROPOSED)
    make_rule(company_a, name="Old", status=RuleStatus.RETIRED)
    make_rule(None, name="Everyone's")

    response = logged_in(accountant_a).get("/rules/")

    assert response.status_code == 200
    assert [row["company"].slug for row in response.context["rows"]] == ["alpha-bakery"]
    assert response.context["rows"][0]["counts"] == {"active": 3, "proposed": 1, "flagged": 1}
    assert 'href="/rules/alpha-bakery/"' in response.content.decode()


def test_the_list_shows_rules_readably(company_a, accountant_a):
    make_rule(company_a, hit_count=40, corrected_count=2, source=RuleSource.AUTO_PROMOTED)
    make_rule(company_a, name="Slipping", conditions=[{"field": "description", "op": "contains", "value": "ACME"}],
              account_code="8000", hit_count=10, corrected_count=4, flagged_at=timezone.now(),
              flag_reason="Reviewers corrected 4 of its 10 decisions")
    make_rule(None, name="Shared rule", conditions=[
        {"field": "amount", "op": "between", "value": ["10.00", "20.00"]},
        {"field": "bank_account", "op": "equals", "value": "1000"},
    ])

    response = logged_in(accountant_a).get("/rules/alpha-bakery/")

    page = response.content.decode()
    assert "counterparty equals &quot;HAMILTON COFFEE&quot; and money out" in page
    assert "Office Supplies" in page and "Sales Revenue" in page
    assert "95%" in page and "60%" in page
    assert "Auto-promoted" in page
    assert 'class="badge flagged"' in page and "Reviewers corrected 4 of its 10 decisions" in page
    assert "amount between 10.00 and 20.00 and bank account 1000" in page
    assert 'class="badge global"' in page
    # An accountant only reads.
    assert 'id="new-rule"' not in page and ">Retire</button>" not in page and 'id="queue-link"' not in page


def test_reviewers_get_new_rule_and_admins_also_retire_and_the_queue(company_a, reviewer_a, admin_a):
    make_rule(company_a)
    make_rule(company_a, name="Waiting", status=RuleStatus.PROPOSED)
    make_rule(company_a, name="Flagged", flagged_at=timezone.now())

    as_reviewer = logged_in(reviewer_a).get("/rules/alpha-bakery/").content.decode()
    as_admin = logged_in(admin_a).get("/rules/alpha-bakery/")

    assert 'id="new-rule"' in as_reviewer and ">Retire</button>" not in as_reviewer
    assert 'id="queue-link"' not in as_reviewer
    assert as_admin.context["queue_count"] == 2
    assert as_admin.content.decode().count(">Retire</button>") == 2  # the two active rules


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Flagged", "Hamilton coffee", "Old", "Waiting"]),
        ("?status=proposed", ["Waiting"]),
        ("?status=active", ["Flagged", "Hamilton coffee"]),
        ("?status=flagged", ["Flagged"]),
        ("?status=retired", ["Old"]),
        ("?q=hamil", ["Hamilton coffee"]),
        ("?status=active&q=flag", ["Flagged"]),
    ],
)
def test_the_list_filters_by_status_tab_and_search(company_a, accountant_a, query, expected):
    make_rule(company_a)
    make_rule(company_a, name="Waiting", status=RuleStatus.PROPOSED)
    make_rule(company_a, name="Flagged", flagged_at=timezone.now())
    make_rule(company_a, name="Old", status=RuleStatus.RETIRED)

    response = logged_in(accountant_a).get(f"/rules/alpha-bakery/{query}")

    assert sorted(rule.name for rule in response.context["page"]) == expected


def test_the_list_pages_after_100_rules_with_a_fixed_number_of_queries(company_a, accountant_a):
    client = logged_in(accountant_a)
    make_rule(company_a, name="Rule 000")
    with CaptureQueriesContext(connection) as few:
        client.get("/rules/alpha-bakery/")
    Rule.objects.bulk_create(
        Rule(company=company_a, name=f"Rule {i:03}", conditions=HAMILTON, account_code="6100",
             status=RuleStatus.ACTIVE, created_by=accountant_a, approved_by=accountant_a)
        for i in range(1, 101)
    )

    with CaptureQueriesContext(connection) as many:
        first = client.get("/rules/alpha-bakery/")
    second = client.get("/rules/alpha-bakery/?page=2")

    assert len(first.context["page"]) == 100
    assert [rule.name for rule in second.context["page"]] == ["Rule 100"]
    assert "Page 1 of 2" in first.content.decode()
    assert len(many) == len(few)  # no query per rule


# ---------------------------------------------------------------------------------------------- the form


def test_the_new_rule_form_offers_four_rows_and_the_non_bank_accounts(company_a, reviewer_a):
    response = logged_in(reviewer_a).get("/rules/alpha-bakery/new/")

    assert len(response.context["formset"].forms) == 4
    codes = [code for code, _ in response.context["form"].fields["account_code"].choices]
    assert codes == ["", "6100", "8000"]


def test_the_test_button_shows_what_the_rule_would_do_and_saves_nothing(company_a, reviewer_a):
    make_history(company_a)

    response = logged_in(reviewer_a).post("/rules/alpha-bakery/new/", form_data(
        name="", rows=[("counterparty", "equals", "hamilton coffee"), ("direction", "out")], action="test",
    ))

    assert response.status_code == 200
    page = response.content.decode()
    assert "This rule would match <strong>6</strong> past transactions; <strong>1</strong> of them is currently " \
           "categorized differently." in page
    assert "1 of the matches is not categorized yet" in page
    result = response.context["result"]
    assert (result["would_match"], result["conflicts"], result["uncategorized"]) == (6, 1, 1)
    assert [example["current_account"] for example in result["conflict_examples"]] == ["8000"]
    assert len(result["match_examples"]) == 5
    assert "Sales Revenue" in page  # the conflicting example names its current account
    assert Rule.objects.count() == 0


@pytest.mark.parametrize(("role", "status"), [("reviewer", RuleStatus.PROPOSED), ("admin", RuleStatus.ACTIVE)])
def test_save_creates_the_rule_proposed_for_reviewers_and_active_for_admins(request, company_a, role, status):
    user = request.getfixturevalue(f"{role}_a")

    response = logged_in(user).post("/rules/alpha-bakery/new/", form_data(
        name="Small coffees", rows=[("counterparty", "contains", "COFFEE"), ("", "equals", ""),
                                    ("amount", "between", "1.00", "9.99"), ("direction", "out")],
    ), follow=True)

    rule = Rule.objects.get()
    assert (rule.name, rule.status, rule.account_code, rule.company) == ("Small coffees", status, "6100", company_a)
    assert rule.conditions == [
        {"field": "counterparty", "op": "contains", "value": "COFFEE"},
        {"field": "amount", "op": "between", "value": ["1.00", "9.99"]},
        {"field": "direction", "op": "out", "value": ""},
    ]
    assert response.redirect_chain[-1][0] == "/rules/alpha-bakery/"
    assert "Small coffees" in response.content.decode()


def test_an_invalid_regex_is_shown_on_its_row_and_nothing_is_saved(company_a, admin_a):
    response = logged_in(admin_a).post("/rules/alpha-bakery/new/", form_data(
        name="Broken", rows=[("counterparty", "contains", "COFFEE"), ("", "equals", ""),
                             ("description", "regex", "(A+)+B")],
    ))

    assert response.status_code == 200
    formset = response.context["formset"]
    assert formset.forms[2].errors["value"]  # the third row: the empty second row is skipped, yet mapped back
    assert not formset.forms[0].errors and not formset.forms[1].errors
    assert "correct the marked fields" in response.content.decode()
    assert Rule.objects.count() == 0


def test_errors_of_the_rule_itself_go_next_to_its_fields(company_a, admin_a):
    response = logged_in(admin_a).post("/rules/alpha-bakery/new/", form_data(name="  ", rows=[]))

    assert response.context["form"].errors["name"] == ["a rule needs a name"]
    assert response.context["condition_errors"] == ["a rule needs at least one condition"]
    assert Rule.objects.count() == 0


def test_a_taken_name_is_shown_next_to_the_name(company_a, admin_a):
    make_rule(company_a, name="Coffee")

    response = logged_in(admin_a).post("/rules/alpha-bakery/new/", form_data(
        name="Coffee", rows=[("counterparty", "contains", "COFFEE")]))

    assert response.context["form"].errors["name"] == ["already taken"]
    assert Rule.objects.count() == 1


def test_the_edit_form_is_filled_with_the_rule(company_a, reviewer_a):
    rule = make_rule(company_a, status=RuleStatus.PROPOSED, conditions=[
        {"field": "amount", "op": "between", "value": ["10.00", "20.00"]}])

    response = logged_in(reviewer_a).get(f"/rules/alpha-bakery/{rule.pk}/edit/")

    rows = response.context["formset"]
    assert len(rows.forms) == 4
    assert rows.forms[0].initial == {"field": "amount", "op": "between", "value": "10.00", "value_to": "20.00"}
    assert response.context["form"].initial["name"] == "Hamilton coffee"


def test_a_reviewer_edits_a_proposed_rule(company_a, reviewer_a):
    rule = make_rule(company_a, status=RuleStatus.PROPOSED)

    logged_in(reviewer_a).post(f"/rules/alpha-bakery/{rule.pk}/edit/", form_data(
        name="Hamilton", account="8000", rows=[("counterparty", "equals", "HAMILTON COFFEE")]))

    rule.refresh_from_db()
    assert (rule.name, rule.account_code, rule.version, rule.status) == ("Hamilton", "8000", 2, RuleStatus.PROPOSED)


def test_a_reviewer_cannot_save_an_active_rule_but_an_admin_can(company_a, reviewer_a, admin_a):
    rule = make_rule(company_a)
    data = form_data(name="Hamilton", rows=[("counterparty", "equals", "HAMILTON COFFEE")])

    page = logged_in(reviewer_a).get(f"/rules/alpha-bakery/{rule.pk}/edit/").content.decode()
    denied = logged_in(reviewer_a).post(f"/rules/alpha-bakery/{rule.pk}/edit/", data)
    rule.refresh_from_db()
    assert "only an admin can save changes" in page
    assert denied.status_code == 403
    assert (rule.name, rule.version) == ("Hamilton coffee", 1)

    logged_in(admin_a).post(f"/rules/alpha-bakery/{rule.pk}/edit/", data)
    rule.refresh_from_db()
    assert (rule.name, rule.version, rule.status) == ("Hamilton", 2, RuleStatus.ACTIVE)


def test_a_retired_rule_cannot_be_edited(company_a, admin_a):
    rule = make_rule(company_a, status=RuleStatus.RETIRED)

    response = logged_in(admin_a).post(f"/rules/alpha-bakery/{rule.pk}/edit/", form_data(
        name="Again", rows=[("counterparty", "equals", "HAMILTON COFFEE")]))

    assert "cannot be edited" in response.content.decode()
    rule.refresh_from_db()
    assert rule.name == "Hamilton coffee"


# --------------------------------------------------------------------------------------- review queue


def test_the_queue_shows_proposals_with_their_evidence_and_the_flagged_rules(company_a, admin_a):
    make_history(company_a)
    promoted = make_rule(company_a, status=RuleStatus.PROPOSED, source=RuleSource.AUTO_PROMOTED, support=25,
                         precision=Decimal("0.9600"), backtest={
                             "would_match": 6, "conflicts": 1, "uncategorized": 1, "scanned": 9, "truncated": False,
                             "accounts": {"6100": 24, "8000": 1},
                             "conflict_examples": [{"id": 1, "date": "2025-03-05", "description": "POS HAMILTON #4",
                                                    "amount": "-5.00", "current_account": "8000"}],
                             "match_examples": [],
                         })
    manual = make_rule(company_a, name="Acme sales", status=RuleStatus.PROPOSED, account_code="8000",
                       conditions=[{"field": "counterparty", "op": "equals", "value": "ACME CORP"}])
    make_rule(company_a, name="Slipping", flagged_at=timezone.now(), flag_reason="precision 60.0% is below 95%")
    make_rule(company_a, name="Fine")

    response = logged_in(admin_a).get("/rules/alpha-bakery/review/")

    page = response.content.decode()
    by_name = {rule.name: rule for rule in response.context["proposals"]}
    assert set(by_name) == {"Hamilton coffee", "Acme sales"}
    assert by_name["Hamilton coffee"].precision_percent == "96%"
    assert [(a["code"], a["count"], a["share"]) for a in by_name["Hamilton coffee"].accounts] == [
        ("6100", 24, "96%"), ("8000", 1, "4%")]
    assert "POS HAMILTON #4" in page
    # The manual proposal has no stored backtest: the page computes one.
    assert by_name["Acme sales"].evidence_is_live
    assert (by_name["Acme sales"].evidence["would_match"], by_name["Acme sales"].evidence["uncategorized"]) == (2, 1)
    assert [rule.name for rule in response.context["flagged"]] == ["Slipping"]
    assert "precision 60.0% is below 95%" in page
    assert f'value="approve:{promoted.pk}"' in page and f'value="reject:{manual.pk}"' in page


@pytest.mark.parametrize(("action", "expected"), [("approve", RuleStatus.ACTIVE), ("reject", RuleStatus.REJECTED)])
def test_one_rule_is_approved_or_rejected_with_its_button(company_a, admin_a, action, expected):
    rule = make_rule(company_a, status=RuleStatus.PROPOSED)
    other = make_rule(company_a, name="Other", status=RuleStatus.PROPOSED)

    response = logged_in(admin_a).post("/rules/alpha-bakery/review/", {"action": f"{action}:{rule.pk}",
                                                                       "rule": [other.pk]})

    assert response.status_code == 302
    rule.refresh_from_db()
    other.refresh_from_db()
    assert rule.status == expected
    assert other.status == RuleStatus.PROPOSED  # a ticked box does not ride along with another rule's button


def test_bulk_approve_and_bulk_reject_change_the_ticked_rules(company_a, admin_a):
    first, second, third = (make_rule(company_a, name=name, status=RuleStatus.PROPOSED) for name in "ABC")
    client = logged_in(admin_a)

    client.post("/rules/alpha-bakery/review/", {"action": "approve", "rule": [first.pk, second.pk]})
    response = client.post("/rules/alpha-bakery/review/", {"action": "reject", "rule": [third.pk], "reason": "dup"},
                           follow=True)

    assert {rule.name: rule.status for rule in Rule.objects.all()} == {
        "A": RuleStatus.ACTIVE, "B": RuleStatus.ACTIVE, "C": RuleStatus.REJECTED}
    assert first.pk and Rule.objects.get(pk=first.pk).approved_by == admin_a
    assert "Rejected rule “C”." in response.content.decode()


def test_a_bulk_action_without_ticked_rules_changes_nothing(company_a, admin_a):
    rule = make_rule(company_a, status=RuleStatus.PROPOSED)

    response = logged_in(admin_a).post("/rules/alpha-bakery/review/", {"action": "approve"}, follow=True)

    assert "Tick at least one rule first." in response.content.decode()
    rule.refresh_from_db()
    assert rule.status == RuleStatus.PROPOSED


def test_a_state_conflict_is_a_message_and_changes_nothing(company_a, admin_a):
    proposed = make_rule(company_a, status=RuleStatus.PROPOSED)
    retired = make_rule(company_a, name="Gone", status=RuleStatus.RETIRED)

    response = logged_in(admin_a).post("/rules/alpha-bakery/review/",
                                       {"action": "approve", "rule": [proposed.pk, retired.pk]}, follow=True)

    assert "is retired" in response.content.decode()
    proposed.refresh_from_db()
    assert proposed.status == RuleStatus.PROPOSED  # all or nothing


def test_keep_clears_the_flag_and_retire_retires_a_flagged_rule(company_a, admin_a):
    kept = make_rule(company_a, name="Kept", flagged_at=timezone.now(), flag_reason="low precision")
    retired = make_rule(company_a, name="Retired", flagged_at=timezone.now(), flag_reason="low precision")
    client = logged_in(admin_a)

    client.post("/rules/alpha-bakery/review/", {"action": f"keep:{kept.pk}"})
    client.post("/rules/alpha-bakery/review/", {"action": f"retire:{retired.pk}"})

    kept.refresh_from_db()
    retired.refresh_from_db()
    assert (kept.status, kept.flagged_at, kept.flag_reason) == (RuleStatus.ACTIVE, None, "")
    assert retired.status == RuleStatus.RETIRED


@pytest.mark.parametrize("role", ["accountant", "reviewer"])
def test_non_admins_posting_approve_get_403_and_nothing_changes(request, company_a, role):
    user = request.getfixturevalue(f"{role}_a")
    rule = make_rule(company_a, status=RuleStatus.PROPOSED)

    response = logged_in(user).post("/rules/alpha-bakery/review/", {"action": "approve", "rule": [rule.pk]})

    assert response.status_code == 403
    rule.refresh_from_db()
    assert (rule.status, rule.approved_by) == (RuleStatus.PROPOSED, None)


def test_the_admin_retires_an_active_rule_from_the_list(company_a, reviewer_a, admin_a):
    rule = make_rule(company_a)

    denied = logged_in(reviewer_a).post(f"/rules/alpha-bakery/{rule.pk}/retire/")
    rule.refresh_from_db()
    assert denied.status_code == 403 and rule.status == RuleStatus.ACTIVE

    response = logged_in(admin_a).post(f"/rules/alpha-bakery/{rule.pk}/retire/", {"query": "status=active"})
    rule.refresh_from_db()
    assert response["Location"] == "/rules/alpha-bakery/?status=active"
    assert rule.status == RuleStatus.RETIRED


def test_a_company_admin_cannot_approve_a_global_rule(company_a, admin_a):
    shared = make_rule(None, name="Shared", status=RuleStatus.ACTIVE)

    response = logged_in(admin_a).post(f"/rules/alpha-bakery/{shared.pk}/retire/")

    assert response.status_code == 403
    shared.refresh_from_db()
    assert shared.status == RuleStatus.ACTIVE


def test_posts_without_a_csrf_token_are_refused(company_a, admin_a):
    rule = make_rule(company_a, status=RuleStatus.PROPOSED)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_a)

    response = client.post("/rules/alpha-bakery/review/", {"action": f"approve:{rule.pk}"})

    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.status == RuleStatus.PROPOSED


def test_get_never_changes_a_rule(company_a, admin_a):
    rule = make_rule(company_a, status=RuleStatus.PROPOSED)

    response = logged_in(admin_a).get(f"/rules/alpha-bakery/{rule.pk}/retire/")

    assert response.status_code == 405
    rule.refresh_from_db()
    assert rule.status == RuleStatus.PROPOSED


# ------------------------------------------------------------------------------------------ readable text


@pytest.mark.parametrize(
    ("conditions", "combine", "text"),
    [
        (HAMILTON, "all", 'counterparty equals "HAMILTON COFFEE" and money out'),
        ([{"field": "description", "op": "starts_with", "value": "PAYROLL"},
          {"field": "description", "op": "regex", "value": "ADP|GUSTO"}], "any",
         'description starts with "PAYROLL" or description matches /ADP|GUSTO/'),
        ([{"field": "amount", "op": "gt", "value": "100.00"}, {"field": "direction", "op": "in", "value": ""}],
         "all", "amount > 100.00 and money in"),
    ],
)
def test_conditions_read_as_words(conditions, combine, text):
    assert conditions_text(conditions, combine) == text


def test_the_nav_links_to_the_rules(company_a, accountant_a):
    assert '<a href="/rules/">Rules</a>' in logged_in(accountant_a).get("/").content.decode()


def test_an_account_missing_from_the_chart_is_not_offered(company_a, admin_a):
    Account.objects.filter(company=company_a, code="8000").update(is_active=False)

    response = logged_in(admin_a).get("/rules/alpha-bakery/new/")

    assert [code for code, _ in response.context["form"].fields["account_code"].choices] == ["", "6100"]
