"""The automation dashboard in a real headless Chromium: an admin of two companies opens it from the nav and sees
the overall section and one per company, each with its five charts and its warnings (a flagged rule, a drifting
model), then switches the period. Screenshots go to var/screenshots/dashboard-*.png."""
from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from decisions.models import Decision, DecisionMethod, DecisionStatus
from ledger_site.tests.browser import SCREENSHOTS, log_in
from mlmodels.models import ModelVersion
from rules.models import Rule
from rules.services.lifecycle import rule_create
from rules.tests.factories import add_lines, vendor_rule
from transactions.models import Account, Company, Role
from transactions.tests.factories import AccountFactory, MembershipFactory

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def decide(company: Company, method: str, status: str, count: int, *, when: datetime.datetime,
           account: str | None = "6100", **fields: object) -> list[Decision]:
    category = Account.objects.get(company=company, code=account) if account else None
    decisions = Decision.objects.bulk_create(
        Decision(company=company, transaction=txn, method=method, status=status, account=category, **fields)
        for txn in add_lines(company, f"{company.slug} {method}", count)
    )
    Decision.objects.filter(pk__in=[d.pk for d in decisions]).update(created_at=when)
    return decisions


def history(company: Company, reviewer, *, days: int = 30, volume: int = 1, model: ModelVersion | None = None) -> None:
    """A month of decisions: rules take over more and more, the classifier decides or suggests the rest,
    a reviewer approves or corrects the suggestions a few hours later, a placeholder now and then stays open."""
    rule = rule_create(company=company, user=None, raw=vendor_rule(f"{company.slug} vendor"))
    now = timezone.now()
    for ago in range(days - 1, -1, -1):
        when = now - ago * DAY
        decide(company, DecisionMethod.RULE, DecisionStatus.AUTO_APPROVED, volume * (4 + (days - ago) // 3),
               when=when, rule=rule, rule_version=rule.version)
        decide(company, DecisionMethod.ML, DecisionStatus.AUTO_APPROVED, volume * (3 + ago % 4), when=when,
               model_version=model)
        suggestions = decide(company, DecisionMethod.ML_SUGGESTION, DecisionStatus.NEEDS_REVIEW, 3 + ago % 3,
                             when=when, model_version=model)
        if ago % 6 == 0:
            decide(company, DecisionMethod.HUMAN, DecisionStatus.NEEDS_REVIEW, 1 + ago // 6, when=when, account=None)
        if ago < 2:
            continue  # the newest suggestions still wait for review
        reviewed_at = when + 3 * HOUR
        Decision.objects.filter(pk__in=[d.pk for d in suggestions[:-1]]).update(
            status=DecisionStatus.APPROVED, reviewer=reviewer, reviewed_at=reviewed_at)
        corrected = suggestions[-1]
        Decision.objects.filter(pk=corrected.pk).update(
            status=DecisionStatus.CORRECTED, is_current=False, reviewer=reviewer, reviewed_at=reviewed_at)
        person = Decision.objects.create(
            company=company, transaction_id=corrected.transaction_id, method=DecisionMethod.HUMAN,
            account=Account.objects.get(company=company, code="8000"), status=DecisionStatus.APPROVED,
            reviewer=reviewer, reviewed_at=reviewed_at, explanation={"corrects": corrected.pk})
        Decision.objects.filter(pk=person.pk).update(created_at=reviewed_at)


@pytest.fixture
def two_companies(company_a, company_b, admin_a, settings):
    settings.ML_DRIFT_MIN_DECISIONS = 20  # enough evidence in a month of test data to call the drift
    AccountFactory(company=company_b, code="6100", name="Materials")
    AccountFactory(company=company_b, code="8000", name="Contract Revenue", type="income")
    MembershipFactory(user=admin_a, company=company_b, role=Role.ADMIN)
    model = ModelVersion.objects.create(
        company=company_a, number=3, algorithm="test", artifact="alpha/none.joblib", sha256="0" * 64,
        is_active=True, metrics={"coverage_at_threshold": 0.95, "precision_at_threshold": 0.99})
    history(company_a, admin_a, model=model)
    history(company_b, admin_a, volume=2)
    flagged = rule_create(company=company_b, user=None, raw=vendor_rule("TIMBER"))
    Rule.objects.filter(pk=flagged.pk).update(flagged_at=timezone.now(), flag_reason="corrected 4 times in 10")
    return company_a, company_b


def test_an_admin_reads_the_automation_dashboard(transactional_db, page, two_companies):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, "admin_a")

    page.click("nav >> text=Dashboard")

    expect(page.get_by_role("heading", name="Automation dashboard")).to_be_visible()
    sections = page.locator("section.dashboard-section")
    expect(sections).to_have_count(3)  # overall, Alpha Bakery, Beta Builders
    expect(sections.nth(0).locator("h2")).to_have_text("All your companies")
    for css in ("method-chart", "rate-chart", "backlog-chart", "throughput-chart", "agreement-chart"):
        expect(page.locator(f"svg.{css}")).to_have_count(3)
    alpha = page.locator("section[data-company=alpha-bakery]")
    beta = page.locator("section[data-company=beta-builders]")
    expect(alpha.locator("svg.rate-chart circle.rate-point")).to_have_count(30)
    expect(alpha.locator("svg.throughput-chart rect.review-bar")).to_have_count(28)
    expect(alpha.locator(".warning.drifting-model")).to_contain_text("The company model (version 3) is drifting")
    expect(alpha.locator(".warning.drifting-model a")).to_have_attribute("href", "/models/alpha-bakery/")
    expect(beta.locator(".warning.flagged-rules")).to_contain_text("1 flagged rule")
    expect(beta.locator(".warning.flagged-rules a")).to_have_attribute("href", "/rules/beta-builders/review/")
    expect(page.locator("#dashboard-warnings")).to_contain_text("2 companies need attention")
    for chart in page.locator("svg.chart").all():
        assert chart.bounding_box()["width"] <= 500
    page.screenshot(path=SCREENSHOTS / "dashboard-0-full.png", full_page=True)
    page.screenshot(path=SCREENSHOTS / "dashboard-1-top.png")
    sections.nth(0).screenshot(path=SCREENSHOTS / "dashboard-2-overall.png")
    alpha.screenshot(path=SCREENSHOTS / "dashboard-3-alpha.png")

    # Another period: the time series follow, the totals do not.
    page.select_option("#dashboard-days", "7")
    page.get_by_role("button", name="Show").click()
    expect(alpha.locator("svg.rate-chart circle.rate-point")).to_have_count(7)
    expect(alpha.locator("svg.rate-chart .chart-subtitle")).to_contain_text("Last 7 days")
    beta.screenshot(path=SCREENSHOTS / "dashboard-4-beta-7-days.png")
    assert page.url.endswith("/dashboard/?days=7")
    assert page.console_errors == []
