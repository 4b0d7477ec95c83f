"""The model pages in a real headless Chromium: an admin compares two trained versions, reads one in depth (three
charts) and rolls back to version 1 with its button. Screenshots go to var/screenshots/models-*.png."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ledger_site.tests.browser import SCREENSHOTS, log_in
from mlmodels.inference import forget_loaded_models
from mlmodels.models import ModelVersion
from mlmodels.services import model_activate, model_train
from mlmodels.tests.factories import demo_company_with_history
from transactions.models import Role
from transactions.tests.factories import MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def models_dir(settings, tmp_path):
    settings.LEDGER_MODELS_DIR = tmp_path / "models"
    forget_loaded_models()
    yield
    forget_loaded_models()


def test_an_admin_compares_versions_reads_the_charts_and_rolls_back(page, transactional_db):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    company = demo_company_with_history(1500)
    admin = MembershipFactory(user=UserFactory(username="admin_h"), company=company, role=Role.ADMIN).user
    first = model_train(company=company, user=admin)
    second = model_train(company=company, user=admin)
    model_activate(version=second, user=admin)  # v2 is in use; v1 is the one to roll back to
    log_in(page, "admin_h")

    # The index, reached from the nav: the company with the version in use.
    page.click("nav >> text=Models")
    card = page.locator(".model-companies .card", has_text=company.name)
    expect(card.locator(".model-in-use")).to_contain_text("Version 2")
    page.screenshot(path=SCREENSHOTS / "models-0-companies.png")

    # The comparison table: both versions, newest first, buttons for the admin.
    card.get_by_role("link", name=company.name).click()
    rows = page.locator("#versions tbody tr.version-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("v2")
    expect(rows.nth(0).locator(".badge.status-active")).to_be_visible()
    expect(rows.nth(1)).to_contain_text("First version of this scope: activated.")
    expect(page.locator("#train-button")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "models-1-list.png", full_page=True)

    # One version in depth: three charts with titles, the per-account table with names from the chart.
    rows.nth(0).get_by_role("link", name="v2").click()
    expect(page.get_by_role("heading", name="Company model, version 2")).to_be_visible()
    for chart in ("confusion-chart", "reliability-chart", "coverage-chart"):
        expect(page.locator(f"svg.{chart}")).to_be_visible()
    labels = len(second.metrics["confusion"]["labels"])
    expect(page.locator("svg.confusion-chart rect.cell")).to_have_count(labels * labels)
    expect(page.locator("svg.reliability-chart circle.bin-point").first).to_be_visible()
    expect(page.locator("svg.coverage-chart .threshold-label")).to_have_text("current threshold 0.85")
    expect(page.locator("#accounts tr.account-row", has_text="5000")).to_contain_text("Cost of Goods Sold")
    assert page.locator("svg.confusion-chart").bounding_box()["width"] <= 1280
    page.screenshot(path=SCREENSHOTS / "models-2-detail.png", full_page=True)
    page.screenshot(path=SCREENSHOTS / "models-2-detail-top.png")
    page.locator("#confusion").screenshot(path=SCREENSHOTS / "models-3-heatmap.png")
    page.locator(".chart-grid").screenshot(path=SCREENSHOTS / "models-4-curves.png")
    page.locator("#accounts").screenshot(path=SCREENSHOTS / "models-5-accounts.png")
    page.locator("#training").screenshot(path=SCREENSHOTS / "models-6-training.png")

    # Roll back to version 1 with its button.
    page.click("text=← Models — Hamilton Coffee")
    rows.nth(1).get_by_role("button", name="Roll back to this").click()
    expect(page.locator("p.message.success")).to_contain_text(
        "Rolled back: version 1 is the active company model again (instead of version 2).")
    expect(rows.nth(1).locator(".badge.status-active")).to_be_visible()
    expect(rows.nth(0).get_by_role("button", name="Activate")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "models-7-rolled-back.png", full_page=True)
    assert list(ModelVersion.objects.filter(is_active=True)) == [ModelVersion.objects.get(pk=first.pk)]
    assert page.console_errors == []
