"""HTML pages. Thin: each view reads through selectors, writes through services, and shows DomainErrors."""
from __future__ import annotations

import csv
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from jobs.models import Job, JobStatus
from ledger_site.exceptions import DomainError
from ledger_site.spreadsheets import csv_safe
from transactions.forms import MappingForm, UploadForm
from transactions.models import IMPORT_FINISHED, ApiToken, Company, ImportStatus, Role
from transactions.pagination import CappedPaginator
from transactions.parsing import Layout
from transactions.selectors import (
    audit_events_for_company,
    company_get_for_user,
    company_ids_administered_by,
    import_batch_get_for_user,
    import_batch_undo_job,
    transaction_list_for_user,
)
from transactions.services.imports import import_batch_confirm, import_batch_upload
from transactions.services.audit import audit_record
from transactions.services.preview import import_preview
from transactions.services.tokens import api_token_create, api_token_revoke

PREVIEW_ROWS = 10
UNDO_STATUSES = (ImportStatus.UNDOING, ImportStatus.UNDONE)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    companies = Company.objects.for_user(request.user)
    jobs = Job.objects.for_user(request.user).select_related("company")[:20]
    administered = company_ids_administered_by(user=request.user)
    return render(
        request, "transactions/home.html", {"companies": companies, "jobs": jobs, "administered": administered}
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        bank_account = form.cleaned_data["bank_account"]
        uploaded = []
        for upload in form.cleaned_data["files"]:
            try:
                batch = import_batch_upload(
                    company=bank_account.company, bank_account=bank_account, upload=upload,
                    filename=upload.name, user=request.user, labeled=form.cleaned_data["labeled"],
                )
            except DomainError as error:
                messages.error(request, error.message)  # this file only; the others go on
                continue
            uploaded.append(str(batch.id))
        if uploaded:
            return redirect(_with_batches("import-review", uploaded))
    return render(request, "transactions/import_upload.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def import_review(request: HttpRequest) -> HttpResponse:
    """Show each file as parsed with its column mapping; confirm (or correct) and start the imports."""
    batches = [import_batch_get_for_user(user=request.user, import_id=i) for i in request.GET.getlist("batch")]
    waiting = [batch for batch in batches if batch.status == ImportStatus.PREVIEW]
    forms = {
        batch.id: MappingForm(request.POST or None, prefix=str(batch.id), layout=Layout.from_dict(batch.layout))
        for batch in waiting
        if batch.layout.get("kind") == "csv"
    }
    if request.method == "POST" and request.POST.get("action") == "confirm":
        if all(form.is_valid() for form in forms.values()):
            refused = False
            for batch in waiting:
                form = forms.get(batch.id)
                try:
                    import_batch_confirm(
                        batch=batch, user=request.user, layout_override=form.cleaned_data["layout"] if form else None
                    )
                except DomainError as error:
                    messages.error(request, error.message)
                    refused = True
            # A refused file stays on this page with its message (the others have started and show on the status
            # page once none is waiting here).
            return redirect(_with_batches("import-review" if refused else "import-status",
                                          [str(batch.id) for batch in batches]))
    if not waiting:
        return redirect(_with_batches("import-status", [str(batch.id) for batch in batches]))
    files = [_review_entry(batch, forms.get(batch.id)) for batch in waiting]
    return render(request, "transactions/import_review.html", {"files": files})


def _review_entry(batch: Any, form: MappingForm | None) -> dict[str, Any]:
    """The preview of one file, parsed with the mapping in the form when it is valid, else as detected."""
    layout = Layout.from_dict(batch.layout)
    if form is not None and form.is_bound and form.is_valid():
        layout = Layout.from_dict(form.cleaned_data["layout"])
    preview: dict[str, Any] | None = None
    problem = ""
    if layout.is_ambiguous:
        problem = "The dates fit more than one format; choose the date format below to see the rows."
    else:
        with batch.file.open("rb") as handle:
            preview = import_preview(
                company=batch.company, handle=handle, layout=layout, labeled=batch.labeled, limit=PREVIEW_ROWS
            )
    return {"batch": batch, "layout": layout, "form": form, "preview": preview, "problem": problem}


@login_required
@require_GET
def import_status(request: HttpRequest) -> HttpResponse:
    batches = [import_batch_get_for_user(user=request.user, import_id=i) for i in request.GET.getlist("batch")]
    for batch in batches:  # an import being undone shows its undo job's progress; an undone one, what went
        batch.undo_job = import_batch_undo_job(batch=batch) if batch.status in UNDO_STATUSES else None
        batch.can_undo = batch.status in IMPORT_FINISHED
        # Its job failed for good, or a script's undo stopped half-way: the page offers to go on.
        batch.undo_stopped = batch.status == ImportStatus.UNDOING and (
            batch.undo_job is None or batch.undo_job.status == JobStatus.FAILED)
    return render(request, "transactions/import_status.html", {"batches": batches})


@login_required
@require_GET
def import_errors_csv(request: HttpRequest, import_id: str) -> HttpResponse:
    """All rejected rows of an import as CSV (line, column, message)."""
    batch = import_batch_get_for_user(user=request.user, import_id=import_id)
    audit_record(action="export.import_errors", company=batch.company, actor=request.user, target=batch)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.id}-errors.csv"'
    writer = csv.writer(response)
    writer.writerow(["line", "column", "message"])
    for error in batch.row_errors.values_list("line", "column", "message").iterator():
        writer.writerow([error[0], csv_safe(error[1]), csv_safe(error[2])])
    return response


@login_required
@require_GET
def transaction_list(request: HttpRequest) -> HttpResponse:
    listing = transaction_list_for_user(user=request.user, params=request.GET)
    page = CappedPaginator(listing.queryset, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "transactions/transaction_list.html",
        {"filters": listing.form, "page": page, "query": query.urlencode()},
    )


def _with_batches(view_name: str, batch_ids: list[str]) -> str:
    return reverse(view_name) + "?" + "&".join(f"batch={batch_id}" for batch_id in batch_ids)


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """Your API tokens: create one (its key is shown once, on the next page view) or revoke one."""
    if request.method == "POST":
        try:
            if request.POST.get("revoke"):
                api_token_revoke(user=request.user, token_id=int(request.POST["revoke"]))
                messages.success(request, "Token revoked.")
            else:
                _, key = api_token_create(user=request.user, name=request.POST.get("name", ""))
                request.session["new_api_key"] = key  # popped below: shown once, never on a reload
        except (DomainError, ValueError) as error:
            messages.error(request, getattr(error, "message", "Invalid request."))
        return redirect("token-list")
    new_key = request.session.pop("new_api_key", "")
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "transactions/token_list.html", {"tokens": tokens, "new_key": new_key})


@login_required
@require_GET
def audit_list(request: HttpRequest, company_slug: str) -> HttpResponse:
    """A company's audit trail for its admins, filterable, and exportable as CSV (the export is audited too)."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ADMIN)
    events = audit_events_for_company(company=company, params=request.GET)
    if request.GET.get("format") == "csv":
        audit_record(action="export.audit", company=company, actor=request.user, after=dict(request.GET.items()))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{company.slug}.csv"'
        writer = csv.writer(response)
        writer.writerow(["time", "actor", "action", "object_type", "object_id", "before", "after"])
        for event in events.iterator():
            writer.writerow([
                event.created_at.isoformat(), csv_safe(event.actor_label), event.action, event.object_type,
                event.object_id, csv_safe(json.dumps(event.before)), csv_safe(json.dumps(event.after)),
            ])
        return response
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "transactions/audit_list.html", {"company": company, "page": page, "query": query.urlencode()})
