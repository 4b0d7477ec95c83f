"""The journal pages: the user's companies' books, and one company's journal entries (post, reverse).

Thin: reads through ledger.selectors, changes through ledger.services.postings; DomainErrors become messages.
Every state change is a POST (CSRF-protected).
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ledger.models import EntryKind, EntryStatus
from ledger.selectors import entry_get_for_user, journal_entries_for_company
from ledger.services.postings import journal_entries_post, journal_entry_post, journal_entry_reverse
from ledger.services.undo import import_undo_request
from ledger_site.exceptions import DomainError
from transactions.models import Company, Role
from transactions.selectors import company_get_for_user, import_batch_get_for_user, user_has_role

ENTRIES_PER_PAGE = 50


@login_required
@require_GET
def company_list(request: HttpRequest) -> HttpResponse:
    """The user's companies, each with links to its journal, reports and reconciliation."""
    return render(request, "ledger/company_list.html", {"companies": list(Company.objects.for_user(request.user))})


@login_required
@require_GET
def journal_list(request: HttpRequest, company_slug: str) -> HttpResponse:
    """The company's entries, newest first, with their lines; reviewers post and reverse from here."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ACCOUNTANT)
    params = {key: request.GET.get(key, "") for key in ("status", "kind", "q")}
    try:
        entries = journal_entries_for_company(company=company, params=params)
    except DomainError as error:
        messages.error(request, error.message)
        entries = journal_entries_for_company(company=company, params={})
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    proposed = journal_entries_for_company(company=company, params={"status": EntryStatus.PROPOSED}).count()
    return render(request, "ledger/journal.html", {
        "company": company, "page": page, "params": params, "proposed_count": proposed,
        "statuses": EntryStatus.choices, "kinds": EntryKind.choices,
        "query": urlencode({key: value for key, value in params.items() if value}),
        "is_reviewer": user_has_role(user=request.user, company=company, role=Role.REVIEWER),
    })


@login_required
@require_POST
def entry_action(request: HttpRequest, company_slug: str, entry_id: int, action: str) -> HttpResponse:
    """Post one proposed entry, or reverse (unpost) a posted one."""
    entry = entry_get_for_user(user=request.user, entry_id=entry_id, role=Role.REVIEWER)
    try:
        if action == "post":
            journal_entry_post(entry=entry, user=request.user)
            messages.success(request, f"Entry #{entry.pk} is posted.")
        else:
            reversal = journal_entry_reverse(entry=entry, user=request.user)
            messages.success(request, f"Entry #{entry.pk} is reversed by #{reversal.pk}; its transaction is back "
                                      "in the review queue.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(_back(request, entry.company))


@login_required
@require_POST
def post_all(request: HttpRequest, company_slug: str) -> HttpResponse:
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.REVIEWER)
    posted = journal_entries_post(company=company, entry_ids=None, user=request.user)
    messages.success(request, f"Posted {posted} entr{'y' if posted == 1 else 'ies'}.")
    return redirect(_back(request, company))


@login_required
@require_POST
def import_undo_view(request: HttpRequest, import_id: str) -> HttpResponse:
    batch = import_batch_get_for_user(user=request.user, import_id=import_id, role=Role.REVIEWER)
    try:
        import_undo_request(batch=batch, user=request.user)
        messages.success(request, f"Undoing the import of {batch.original_filename}; this page shows how far it got.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(f"{reverse('import-status')}?{urlencode({'batch': batch.pk})}")


def _back(request: HttpRequest, company: Company) -> str:
    """Back to the journal page the button was on (only our own journal URL, never an arbitrary one)."""
    url = reverse("ledger:journal", args=[company.slug])
    query = request.POST.get("query", "")
    return f"{url}?{query}" if query and "//" not in query else url
