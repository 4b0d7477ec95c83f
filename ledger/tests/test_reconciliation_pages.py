"""The reconciliation pages without a browser: who sees and may do what, and how refusals read."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from jobs.services import job_run
from ledger.models import BankMatch, MatchStatus, Reconciliation
from ledger.services.reconciliation import reconciliation_start
from ledger.tests.reconciliation_data import bank_row, june, manual_entry

LIST = "/ledger/alpha-bakery/reconciliation/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def suggested(company_a, reviewer_a):
    bank_row(company_a, june(3), "ACME RENT", "-750.00")
    manual_entry(company_a, june(3), "ACME rent", "-750.00")
    run = reconciliation_start(company=company_a, bank_account_code="1000", date_from=june(1), date_to=june(30),
                               user=reviewer_a, closing_balance=Decimal("-750.00"))
    job_run(job_id=run.job_id, worker="test")
    return run, BankMatch.objects.get()


def test_the_ledger_links_each_company_to_its_reconciliation(company_a, accountant_a):
    response = _client(accountant_a).get("/ledger/")

    assert f'href="{LIST}"' in response.content.decode()


def test_accountants_see_the_runs_but_not_the_form_and_may_not_decide(suggested, accountant_a):
    run, match = suggested
    client = _client(accountant_a)

    listing = client.get(LIST)
    detail = client.get(f"{LIST}{run.pk}/")
    accept = client.post(f"{LIST}matches/{match.pk}/accept/")
    start = client.post(f"{LIST}run/", {"bank_account": "1000", "date_from": "2026-06-01", "date_to": "2026-06-30",
                                        "window_days": "3"})

    assert listing.status_code == 200 and 'id="reconcile-form"' not in listing.content.decode()
    assert f'data-reconciliation-id="{run.pk}"' in listing.content.decode()
    assert detail.status_code == 200 and "ACME RENT" in detail.content.decode()
    assert "accept-match" not in detail.content.decode()
    assert (accept.status_code, start.status_code) == (403, 403)
    assert (BankMatch.objects.get().status, Reconciliation.objects.count()) == (MatchStatus.SUGGESTED, 1)


def test_another_companys_run_and_match_are_not_found(suggested, outsider):
    run, match = suggested
    client = _client(outsider)

    answers = [client.get(f"{LIST}{run.pk}/"), client.post(f"{LIST}matches/{match.pk}/accept/"),
               client.get(f"/ledger/beta-builders/reconciliation/{run.pk}/"),
               client.post(f"/ledger/beta-builders/reconciliation/matches/{match.pk}/accept/")]

    assert [answer.status_code for answer in answers] == [404, 404, 404, 404]
    assert BankMatch.objects.get().status == MatchStatus.SUGGESTED


def test_a_bad_period_is_refused_on_the_form_with_the_reason(company_a, reviewer_a):
    response = _client(reviewer_a).post(f"{LIST}run/", {
        "bank_account": "1000", "date_from": "2026-06-30", "date_to": "2026-06-01", "window_days": "3"})

    assert response.status_code == 400
    assert "date_from (2026-06-30) must not be after date_to (2026-06-01)" in response.content.decode()
    assert Reconciliation.objects.count() == 0


def test_a_started_run_redirects_to_its_page_which_shows_it_running(company_a, reviewer_a):
    client = _client(reviewer_a)

    response = client.post(f"{LIST}run/", {"bank_account": "1000", "date_from": "2026-06-01",
                                           "date_to": "2026-06-30", "closing_balance": "12.50", "window_days": "2"})

    run = Reconciliation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{LIST}{run.pk}/"
    assert run.job.params == {"reconciliation_id": run.pk, "closing_balance": "12.50", "opening_balance": None,
                              "window_days": 2}
    page = client.get(response["Location"]).content.decode()
    assert "Reconciling…" in page and f'data-job-url="/api/jobs/{run.job_id}"' in page
