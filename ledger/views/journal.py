"""The journal pages: the user's companies' books, and one company's journal entries (post, reverse)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from transactions.models import Company, Role
from transactions.selectors import company_get_for_user


@login_required
@require_GET
def company_list(request: HttpRequest) -> HttpResponse:
    """The user's companies, each with links to its journal, reports and reconciliation."""
    return render(request, "ledger/company_list.html", {"companies": list(Company.objects.for_user(request.user))})


@login_required
@require_GET
def journal_list(request: HttpRequest, company_slug: str) -> HttpResponse:
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ACCOUNTANT)
    return render(request, "ledger/journal.html", {"company": company})
