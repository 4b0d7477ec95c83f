"""The report pages: a company's trial balance and profit & loss for a period, with the journal downloads.

Thin: the period comes from a GET form, the numbers from ledger.services.reports, and a refused period
(LedgerInvalid) is shown on the form. The download links point at the export API (`GET /api/ledger/export`),
which the browser session may call: one door for every export.
"""
from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from ledger.exceptions import LedgerInvalid
from ledger.services.exports import EXPORT_FORMATS
from ledger.services.reports import profit_and_loss, trial_balance
from transactions.models import Company, Role
from transactions.selectors import company_get_for_user

FORMAT_LABELS = {"csv": "CSV", "hledger": "hledger", "beancount": "beancount"}


class ReportPeriodForm(forms.Form):
    """The period of a report; both ends optional (the services fill in their defaults)."""

    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _report_page(request: HttpRequest, company_slug: str, *, build: Any, template: str) -> HttpResponse:
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ACCOUNTANT)
    form = ReportPeriodForm(request.GET)
    report = None
    if form.is_valid():
        try:
            report = build(company=company, date_from=form.cleaned_data["date_from"],
                           date_to=form.cleaned_data["date_to"])
        except LedgerInvalid as error:
            form.add_error(None, error.message)
    return render(request, template, {
        "company": company, "form": form, "report": report,
        "downloads": _downloads(company, report.date_from, report.date_to) if report else [],
    })


def _downloads(company: Company, date_from: datetime.date | None, date_to: datetime.date) -> list[dict[str, str]]:
    """Links to the journal export of the report's period, one per format."""
    period = {"date_from": date_from.isoformat()} if date_from else {}
    period["date_to"] = date_to.isoformat()
    return [
        {"format": name, "label": FORMAT_LABELS.get(name, name),
         "url": reverse("api-ledger-export") + "?" + urlencode({"company": company.slug, "format": name, **period})}
        for name in EXPORT_FORMATS
    ]


@login_required
@require_GET
def trial_balance_page(request: HttpRequest, company_slug: str) -> HttpResponse:
    """Debits, credits and balance per account, as of a day (or over a period), with the totals."""
    return _report_page(request, company_slug, build=trial_balance, template="ledger/trial_balance.html")


@login_required
@require_GET
def profit_and_loss_page(request: HttpRequest, company_slug: str) -> HttpResponse:
    """Income and expenses over a period (default: the year to date) and the net income."""
    return _report_page(request, company_slug, build=profit_and_loss, template="ledger/profit_and_loss.html")
