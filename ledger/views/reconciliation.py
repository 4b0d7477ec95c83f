"""The reconciliation pages: start a run, the list of runs, one run (statement vs books, the difference, the
unmatched items of both sides, suggested matches to accept with one click), unreconcile.

Thin: reads through ledger.reconciliation_selectors, writes through ledger.services.reconciliation (the functions
the API calls). Every state change is a POST that redirects; DomainErrors become messages.
"""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ledger.models import MatchStatus, Reconciliation, ReconciliationStatus
from ledger.reconciliation_selectors import (
    bank_accounts_of,
    bank_match_get_for_user,
    reconciliation_get_for_user,
    reconciliation_marked_count,
    reconciliation_matches,
    reconciliations_for_company,
)
from ledger.services.reconciliation import (
    DEFAULT_WINDOW_DAYS,
    MAX_WINDOW_DAYS,
    bank_match_accept,
    bank_match_reject,
    reconciliation_start,
    reconciliation_unreconcile,
)
from ledger_site.exceptions import DomainError
from transactions.models import Company, Role
from transactions.selectors import company_get_for_user, user_has_role

RUNS_LISTED = 50


class ReconciliationRunForm(forms.Form):
    bank_account = forms.ChoiceField(label="Bank account")
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    closing_balance = forms.DecimalField(
        label="Closing balance", max_digits=14, decimal_places=2, required=False,
        help_text="From the bank statement; needed when the file has no balance column.")
    opening_balance = forms.DecimalField(label="Opening balance", max_digits=14, decimal_places=2, required=False,
                                         help_text="Optional: default from the file, else the books.")
    window_days = forms.IntegerField(label="Match window (days)", min_value=0, max_value=MAX_WINDOW_DAYS,
                                     initial=DEFAULT_WINDOW_DAYS)

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts = bank_accounts_of(company=company)
        self.fields["bank_account"].choices = [(account.code, f"{account.code} {account.name}") for account in accounts]


@login_required
@require_GET
def reconciliation_list(request: HttpRequest, company_slug: str) -> HttpResponse:
    """The company's runs, newest first, and (for reviewers) the form to start one."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ACCOUNTANT)
    return _list_page(request, company, form=ReconciliationRunForm(company=company, initial=_last_month()))


@login_required
@require_POST
def reconciliation_run_view(request: HttpRequest, company_slug: str) -> HttpResponse:
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.REVIEWER)
    form = ReconciliationRunForm(request.POST, company=company)
    if not form.is_valid():
        return _list_page(request, company, form=form, status=400)
    data = form.cleaned_data
    try:
        reconciliation = reconciliation_start(
            company=company, bank_account_code=data["bank_account"], date_from=data["date_from"],
            date_to=data["date_to"], closing_balance=data["closing_balance"], opening_balance=data["opening_balance"],
            window_days=data["window_days"], user=request.user,
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _list_page(request, company, form=form, status=400)
    return redirect("ledger:reconciliation-detail", company_slug=company.slug, reconciliation_id=reconciliation.pk)


@login_required
@require_GET
def reconciliation_detail(request: HttpRequest, company_slug: str, reconciliation_id: int) -> HttpResponse:
    """One run: statement vs books side by side, the difference, unmatched items, matches."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ACCOUNTANT)
    reconciliation = _reconciliation_of(company, request.user, reconciliation_id)
    matches = reconciliation_matches(reconciliation=reconciliation)
    summary = reconciliation.summary
    problems = summary.get("problems", [])
    return render(request, "ledger/reconciliation_detail.html", {
        "company": company,
        "run": reconciliation,
        "summary": summary,
        "counts": summary.get("counts", {}),
        "is_running": reconciliation.status == ReconciliationStatus.RUNNING,
        "suggested": [m for m in matches if m.status == MatchStatus.SUGGESTED],
        "decided": [m for m in matches if m.status != MatchStatus.SUGGESTED],
        "blocking": [p for p in problems if p.get("blocking")],
        "warnings": [p for p in problems if not p.get("blocking")],
        "marked": reconciliation_marked_count(reconciliation=reconciliation),
        "may_decide": user_has_role(user=request.user, company=company, role=Role.REVIEWER),
        "remainder": _remainder(reconciliation),
        "books_opening_differs": _books_opening_differs(reconciliation),
    })


@login_required
@require_POST
def match_accept_view(request: HttpRequest, company_slug: str, match_id: int) -> HttpResponse:
    return _decide(request, company_slug, match_id, accept=True)


@login_required
@require_POST
def match_reject_view(request: HttpRequest, company_slug: str, match_id: int) -> HttpResponse:
    return _decide(request, company_slug, match_id, accept=False)


@login_required
@require_POST
def reconciliation_unreconcile_view(request: HttpRequest, company_slug: str, reconciliation_id: int) -> HttpResponse:
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.REVIEWER)
    reconciliation = _reconciliation_of(company, request.user, reconciliation_id, role=Role.REVIEWER)
    try:
        count = reconciliation_unreconcile(reconciliation=reconciliation, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Unreconciled {count} bank row{'s' if count != 1 else ''}.")
    return redirect("ledger:reconciliation-detail", company_slug=company.slug, reconciliation_id=reconciliation.pk)


# --------------------------------------------------------------------------------------------- helpers


def _list_page(request: HttpRequest, company: Company, *, form: ReconciliationRunForm,
               status: int = 200) -> HttpResponse:
    return render(request, "ledger/reconciliation_list.html", {
        "company": company,
        "form": form,
        "runs": list(reconciliations_for_company(company=company)[:RUNS_LISTED]),
        "may_run": user_has_role(user=request.user, company=company, role=Role.REVIEWER),
        "has_bank_accounts": bool(form.fields["bank_account"].choices),
    }, status=status)


def _decide(request: HttpRequest, company_slug: str, match_id: int, *, accept: bool) -> HttpResponse:
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.REVIEWER)
    match = bank_match_get_for_user(user=request.user, match_id=match_id, role=Role.REVIEWER)
    if match.company_id != company.pk:
        raise Http404("No such match.")
    row, entry = match.transaction, match.entry
    try:
        (bank_match_accept if accept else bank_match_reject)(match=match, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        verb = "Matched" if accept else "Rejected the match of"
        messages.success(request, f"{verb} “{row.description}” ({row.date}, {row.amount}) with entry #{entry.pk} "
                                  f"“{entry.memo}”.")
    if match.reconciliation_id is None:
        return redirect("ledger:reconciliation-list", company_slug=company.slug)
    return redirect("ledger:reconciliation-detail", company_slug=company.slug,
                    reconciliation_id=match.reconciliation_id)


def _reconciliation_of(company: Company, user: Any, reconciliation_id: int, *, role: str = Role.ACCOUNTANT
                       ) -> Reconciliation:
    reconciliation = reconciliation_get_for_user(user=user, reconciliation_id=reconciliation_id, role=role)
    if reconciliation.company_id != company.pk:
        raise Http404("No such reconciliation.")
    return reconciliation


def _remainder(reconciliation: Reconciliation) -> str | None:
    """The part of the difference the unmatched items do not explain (opening balance, amounts booked differently)."""
    explained = reconciliation.summary.get("explained")
    if reconciliation.difference is None or explained is None:
        return None
    rest = reconciliation.difference - Decimal(explained)
    return None if rest == 0 else str(rest)


def _books_opening_differs(reconciliation: Reconciliation) -> bool:
    books = reconciliation.summary.get("ledger_opening_balance")
    return books is not None and reconciliation.opening_balance is not None and \
        Decimal(books) != reconciliation.opening_balance


def _last_month() -> dict[str, Any]:
    first_of_this_month = datetime.date.today().replace(day=1)
    last_day = first_of_this_month - datetime.timedelta(days=1)
    return {"date_from": last_day.replace(day=1), "date_to": last_day, "window_days": DEFAULT_WINDOW_DAYS}
