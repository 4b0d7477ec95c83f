"""The automation numbers (decisions.stats) on a hand-built set of decisions, and the three doors that show them:
the `automation_report` command, GET /api/automation/ and the /dashboard/ page; plus the SVG charts they draw."""
from __future__ import annotations

import datetime
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from decisions import charts
from decisions.models import Decision, DecisionMethod, DecisionStatus
from decisions.services import transaction_categorize
from decisions.stats import automation_stats, automation_table, format_methods
from rules.services.lifecycle import rule_create
from rules.tests.factories import add_lines, vendor_rule
from transactions.models import Account, Company
from transactions.tests.factories import AccountFactory, BankAccountFactory, CompanyFactory

SVG = "{http://www.w3.org/2000/svg}"
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def decide(company: Company, method: str, status: str, count: int, *, account: str | None = "6100",
           rule=None, created_at: datetime.datetime | None = None) -> list[Decision]:
    """`count` new transactions of the company, each with one current decision as given."""
    category = Account.objects.get(company=company, code=account) if account else None
    decisions = Decision.objects.bulk_create(
        Decision(company=company, transaction=txn, method=method, status=status, account=category, rule=rule,
                 rule_version=rule.version if rule else None)
        for txn in add_lines(company, f"{method} {status}", count)
    )
    if created_at is not None:  # created_at is auto_now_add: set it afterwards
        Decision.objects.filter(pk__in=[d.pk for d in decisions]).update(created_at=created_at)
    return decisions


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def hand_built(company_a, reviewer_a, now):
    """Company A: 10 rule + 5 ml auto-approved, 3 ml suggestions, 2 review placeholders (10 days and 2 days old);
    then a reviewer approves 2 suggestions and corrects 1 ml answer. One suggestion stays open, 5 hours old."""
    rule = rule_create(company=company_a, user=None, raw=vendor_rule("FLOUR"))
    decide(company_a, DecisionMethod.RULE, DecisionStatus.AUTO_APPROVED, 10, rule=rule)
    ml = decide(company_a, DecisionMethod.ML, DecisionStatus.AUTO_APPROVED, 5)
    suggestions = decide(company_a, DecisionMethod.ML_SUGGESTION, DecisionStatus.NEEDS_REVIEW, 3)
    decide(company_a, DecisionMethod.HUMAN, DecisionStatus.NEEDS_REVIEW, 1, account=None, created_at=now - 10 * DAY)
    decide(company_a, DecisionMethod.HUMAN, DecisionStatus.NEEDS_REVIEW, 1, account=None, created_at=now - 2 * DAY)
    Decision.objects.filter(pk=suggestions[2].pk).update(created_at=now - 5 * HOUR)
    office, sales = (Account.objects.get(company=company_a, code=code) for code in ("6100", "8000"))
    for suggestion in suggestions[:2]:
        transaction_categorize(transaction_id=suggestion.transaction_id, user=reviewer_a, account=office)
    transaction_categorize(transaction_id=ml[0].transaction_id, user=reviewer_a, account=sales)
    return company_a


@pytest.fixture
def beta_with_rules(company_b):
    AccountFactory(company=company_b, code="6100", name="Materials")
    rule = rule_create(company=company_b, user=None, raw=vendor_rule("LUMBER"))
    decide(company_b, DecisionMethod.RULE, DecisionStatus.AUTO_APPROVED, 4, rule=rule)
    return company_b


# --- the numbers -------------------------------------------------------------------------------------------


def test_counts_rates_and_methods_of_the_hand_built_set(hand_built, now):
    stats = automation_stats(companies=[hand_built], days=30, now=now)

    block = stats["companies"][0]
    assert (block["company"], block["name"]) == ("alpha-bakery", "Alpha Bakery")
    # 20 transactions: the corrected ml answer is replaced by the person's decision.
    assert (block["decided"], block["automated"], block["automation_rate"]) == (20, 14, 0.7)
    assert block["by_method"] == {"rule": 10, "ml": 4, "ml_suggestion": 3, "llm": 0, "transfer": 0, "review": 2, "human": 1}
    assert block["agreement"] == {"reviewed": 3, "agreed": 2, "corrected": 1, "rate": 0.6667}
    assert block["throughput"] == {"reviews": 3, "days": 30, "per_day": 0.1}
    assert stats["overall"]["decided"] == 20 and stats["window_days"] == 30


def test_backlog_ages_oldest_median_and_buckets(hand_built, now):
    backlog = automation_stats(companies=[hand_built], now=now)["companies"][0]["backlog"]

    assert backlog["open"] == 3  # two placeholders and the suggestion nobody reviewed
    assert backlog["oldest_age_hours"] == 240.0
    assert backlog["median_age_hours"] == 48.0  # of 5 h, 48 h and 240 h
    assert backlog["oldest_created_at"] == (now - 10 * DAY).isoformat()
    assert [(bucket["key"], bucket["count"]) for bucket in backlog["age_buckets"]] == [
        ("under_1_day", 1), ("1_to_3_days", 1), ("3_to_7_days", 0), ("over_7_days", 1)]


def test_the_median_of_an_even_backlog_is_between_the_middle_two(company_a, now):
    for hours in (1, 3, 10, 50):
        decide(company_a, DecisionMethod.HUMAN, DecisionStatus.NEEDS_REVIEW, 1, account=None,
               created_at=now - hours * HOUR)

    backlog = automation_stats(companies=[company_a], now=now)["companies"][0]["backlog"]

    assert (backlog["open"], backlog["median_age_hours"], backlog["oldest_age_hours"]) == (4, 6.5, 50.0)


def test_the_daily_series_covers_every_day_and_counts_first_decisions(hand_built, now):
    daily = automation_stats(companies=[hand_built], days=30, now=now)["companies"][0]["daily"]

    assert len(daily) == 30 and daily[-1]["date"] == timezone.localdate(now).isoformat()
    assert [day["date"] for day in daily] == sorted(day["date"] for day in daily)
    # Every first decision: 10 rule + 5 ml (one corrected later, still automated that day) + 3 + 2; the
    # person's correction re-decides a transaction and is not counted again.
    assert sum(day["decided"] for day in daily) == 20
    assert sum(day["automated"] for day in daily) == 15
    assert sum(day["reviews"] for day in daily) == 3
    ten_days_ago = next(day for day in daily if day["date"] == timezone.localdate(now - 10 * DAY).isoformat())
    assert (ten_days_ago["decided"], ten_days_ago["automated"], ten_days_ago["automation_rate"]) == (1, 0, 0.0)
    assert all(day["automation_rate"] is None for day in daily if not day["decided"])


def test_overall_adds_up_the_companies(hand_built, beta_with_rules, now):
    stats = automation_stats(companies=Company.objects.all(), now=now)

    assert [block["company"] for block in stats["companies"]] == ["alpha-bakery", "beta-builders"]
    overall = stats["overall"]
    assert (overall["decided"], overall["automated"], overall["automation_rate"]) == (24, 18, 0.75)
    assert overall["by_method"]["rule"] == 14
    assert overall["backlog"]["open"] == 3 and overall["backlog"]["median_age_hours"] == 48.0
    assert overall["agreement"]["rate"] == 0.6667


def test_an_llm_answer_counts_as_automated_only_while_auto_approved(company_a):
    decide(company_a, DecisionMethod.LLM, DecisionStatus.AUTO_APPROVED, 2)
    decide(company_a, DecisionMethod.LLM, DecisionStatus.APPROVED, 1)  # maybe a suggestion a person accepted

    block = automation_stats(companies=[company_a])["companies"][0]

    assert (block["decided"], block["automated"], block["by_method"]["llm"]) == (3, 2, 3)


def test_no_companies_and_no_decisions_give_zeros_not_errors(company_a):
    assert automation_stats(companies=[])["overall"]["automation_rate"] is None

    block = automation_stats(companies=[company_a])["companies"][0]
    assert (block["decided"], block["automation_rate"], block["backlog"]["median_age_hours"]) == (0, None, None)
    assert block["agreement"]["rate"] is None and block["throughput"]["per_day"] == 0.0


def _five_companies() -> list[Company]:
    companies = []
    for index in range(5):
        company = CompanyFactory(name=f"Company {index}", slug=f"company-{index}")
        BankAccountFactory(company=company)
        AccountFactory(company=company, code="6100", name="Supplies")
        rule = rule_create(company=company, user=None, raw=vendor_rule(f"VENDOR {index}"))
        decide(company, DecisionMethod.RULE, DecisionStatus.AUTO_APPROVED, 3 + index, rule=rule)
        decide(company, DecisionMethod.ML_SUGGESTION, DecisionStatus.NEEDS_REVIEW, 2,
               created_at=timezone.now() - index * DAY)
        companies.append(company)
    return companies


def test_the_number_of_queries_does_not_grow_with_companies_or_days(db):
    companies = _five_companies()

    with CaptureQueriesContext(connection) as one:
        automation_stats(companies=Company.objects.filter(pk=companies[0].pk), days=7)
    with CaptureQueriesContext(connection) as five:
        stats = automation_stats(companies=Company.objects.filter(pk__in=[c.pk for c in companies]), days=90)

    assert len(five) == len(one) == 7  # companies, current, 2 medians, agreement, decided/day, reviews/day
    assert stats["overall"]["decided"] == sum(3 + i + 2 for i in range(5))


def test_a_user_sees_only_the_companies_of_their_memberships(hand_built, beta_with_rules, accountant_a, outsider,
                                                             superuser):
    def slugs(user) -> list[str]:
        return [block["company"] for block in automation_stats(companies=Company.objects.for_user(user))["companies"]]

    assert slugs(accountant_a) == ["alpha-bakery"]
    assert slugs(outsider) == ["beta-builders"]
    assert slugs(superuser) == ["alpha-bakery", "beta-builders"]


# --- the command ---------------------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("automation_report", *args, stdout=out)
    return out.getvalue()


def test_the_report_prints_the_table_with_a_total_row(hand_built, beta_with_rules):
    assert run() == (
        "| Company | Txns | Auto-Approved | Rate | Methods |\n"
        "|---------|------|---------------|------|---------|\n"
        "| Alpha Bakery | 20 | 14 | 70.0% | RULE=10, ML=4, ML_SUGGESTION=3, REVIEW=2, HUMAN=1 |\n"
        "| Beta Builders | 4 | 4 | 100.0% | RULE=4 |\n"
        "| **TOTAL** | **24** | **18** | **75.0%** | **RULE=14, ML=4, ML_SUGGESTION=3, REVIEW=2, HUMAN=1** |\n"
    )


def test_the_report_of_one_company_and_of_nothing_decided(hand_built, beta_with_rules, company_b):
    assert run("--company", "beta-builders").splitlines()[2:] == [
        "| Beta Builders | 4 | 4 | 100.0% | RULE=4 |",
        "| **TOTAL** | **4** | **4** | **100.0%** | **RULE=4** |",
    ]
    Decision.objects.filter(company=company_b).delete()
    assert run("--company", "beta-builders").splitlines()[-1] == "| **TOTAL** | **0** | **0** | **-** | **-** |"


def test_the_report_as_json_has_the_same_numbers(hand_built, beta_with_rules):
    report = json.loads(run("--json", "--days", "7"))

    assert report["window_days"] == 7 and len(report["overall"]["daily"]) == 7
    assert [(c["company"], c["decided"], c["automated"]) for c in report["companies"]] == [
        ("alpha-bakery", 20, 14), ("beta-builders", 4, 4)]
    assert report["overall"]["automation_rate"] == 0.75


def test_the_report_refuses_an_unknown_company(db):
    with pytest.raises(CommandError, match="No company with slug 'nope'"):
        run("--company", "nope")


def test_the_table_rows_and_the_methods_column(hand_built):
    rows = automation_table(Company.objects.all())
    assert [(row["company"], row["is_total"]) for row in rows] == [("Alpha Bakery", False), ("TOTAL", True)]
    assert format_methods({"rule": 40, "ml": 50, "review": 10}) == "RULE=40, ML=50, REVIEW=10"
    assert format_methods({}) == "-"


# --- the API -------------------------------------------------------------------------------------------------


def test_the_api_answers_by_actor(hand_built, beta_with_rules, accountant_a, reviewer_a, admin_a, outsider,
                                  superuser, token_client_for):
    url = "/api/automation/?company=alpha-bakery"
    assert APIClient().get(url).status_code == 401
    for user in (accountant_a, reviewer_a, admin_a, superuser):
        response = token_client_for(user).get(url)
        assert response.status_code == 200, user.username
        assert [c["company"] for c in response.json()["companies"]] == ["alpha-bakery"]
    refused = token_client_for(outsider).get(url)
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert "alpha" not in refused.content.decode().lower()


def test_the_api_without_a_company_covers_all_of_the_users_companies(hand_built, beta_with_rules, outsider,
                                                                    superuser, client_for):
    mine = client_for(outsider).get("/api/automation/").json()
    assert [c["company"] for c in mine["companies"]] == ["beta-builders"]
    assert mine["overall"]["decided"] == 4 and "alpha" not in json.dumps(mine).lower()

    everything = client_for(superuser).get("/api/automation/?days=7").json()
    assert [c["company"] for c in everything["companies"]] == ["alpha-bakery", "beta-builders"]
    assert everything["overall"]["automated"] == 18 and len(everything["overall"]["daily"]) == 7


def test_the_api_matches_the_selector_and_validates_days(hand_built, accountant_a, client_for):
    client = client_for(accountant_a)
    body = client.get("/api/automation/?company=alpha-bakery").json()
    expected = automation_stats(companies=[hand_built])
    assert body["companies"][0]["by_method"] == expected["companies"][0]["by_method"]
    assert body["companies"][0]["agreement"] == expected["companies"][0]["agreement"]

    for bad in ("0", "367", "many"):
        response = client.get(f"/api/automation/?days={bad}")
        assert response.status_code == 400 and "days" in response.json()["extra"]["fields"]


# --- the page and its charts -----------------------------------------------------------------------------------


def test_the_dashboard_needs_a_login_and_shows_only_the_users_companies(hand_built, beta_with_rules, outsider,
                                                                         client):
    assert client.get("/dashboard/").status_code == 302

    client.force_login(outsider)
    page = client.get("/dashboard/").content.decode()
    assert "Beta Builders" in page and "Alpha Bakery" not in page
    assert page.count('class="chart ') == 5  # one company: no overall section


def test_the_dashboard_escapes_names_and_warns_about_flagged_rules(hand_built, admin_a, client):
    Company.objects.filter(pk=hand_built.pk).update(name='<script>alert("x")</script> & Co')
    rule = rule_create(company=hand_built, user=None, raw=vendor_rule("SUGAR"))
    type(rule).objects.filter(pk=rule.pk).update(flagged_at=timezone.now())
    client.force_login(admin_a)

    page = client.get("/dashboard/?days=7").content.decode()

    assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
    assert "1 flagged rule" in page and 'href="/rules/alpha-bakery/review/"' in page
    assert "last 7 days" in page and "<svg" in page


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)  # raises on anything not well-formed
    assert root.tag == f"{SVG}svg"
    return root


def test_every_chart_is_well_formed_with_data_and_without(hand_built, now):
    block = automation_stats(companies=[hand_built], days=30, now=now)["companies"][0]
    empty = automation_stats(companies=[], days=30)["overall"]
    for data in (block, empty):
        for markup in (
            charts.method_share_chart(data["by_method"], automation_rate=data["automation_rate"], ident="x-m"),
            charts.automation_rate_chart(data["daily"], ident="x-r"),
            charts.backlog_age_chart(data["backlog"], ident="x-b"),
            charts.throughput_chart(data["daily"], ident="x-t"),
            charts.agreement_chart(data["agreement"], ident="x-a"),
        ):
            parse(markup)

    methods = parse(charts.method_share_chart(block["by_method"], automation_rate=0.7, ident="m"))
    segments = [e for e in methods.iter(f"{SVG}rect") if "segment" in (e.get("class") or "").split()]
    assert [(s.get("data-method"), s.get("data-count")) for s in segments] == [
        ("rule", "10"), ("ml", "4"), ("ml_suggestion", "3"), ("review", "2"), ("human", "1")]
    agreement = parse(charts.agreement_chart(block["agreement"], ident="a"))
    assert "67% approved as suggested · 3 answers reviewed" in [t.text for t in agreement.iter(f"{SVG}text")]


def test_charts_escape_what_they_draw_and_format_ages():
    markup = charts.backlog_age_chart(
        {"open": 1, "oldest_age_hours": 3, "median_age_hours": 3,
         "age_buckets": [{"key": "k", "label": '<b>"x"</b>', "count": 1}]}, ident='a"b')
    parse(markup)
    assert '<b>' not in markup and "&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in markup
    assert [charts.format_age(h) for h in (None, 0.5, 5, 47.9, 48, 75)] == [
        "—", "< 1 h", "5 h", "47 h", "2 d", "3 d 3 h"]
    assert [charts.nice_ceiling(v) for v in (0, 1, 3, 7, 12, 101)] == [1, 1, 5, 10, 20, 200]
    assert [charts.count_axis(v) for v in (1, 5, 10, 23, 100)] == [(2, 1), (6, 1), (12, 2), (25, 5), (120, 20)]
