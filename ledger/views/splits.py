"""Splitting a transaction in the browser (reviewers): the review queue opens this form inline (static/js/splits.js);
without JavaScript its "Split" link leads to the same form on a page of its own.

Thin: the rules are in ledger.services.splits. A POST that the service refuses shows the form again with each
problem next to its row (the page, with the status of the error; or JSON for the inline form, which asks with
`Accept: application/json`). A split that is saved redirects back to where the reviewer came from.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from decisions.selectors import transaction_get_for_user
from ledger.services.splits import split_parts_parse, transaction_split, transaction_split_state
from ledger_site.exceptions import DomainError
from transactions.models import Account, Company, Role, Transaction

ROW_FIELDS = ("account", "amount", "percent", "memo")
PART = re.compile(r"parts\[(\d+)\]")
ROWS_WITHOUT_SCRIPT = 4  # empty rows offered on the page; the script adds and removes rows instead


@dataclass
class SplitRow:
    account: str = ""
    amount: str = ""
    percent: str = ""
    memo: str = ""
    errors: list[str] = field(default_factory=list)


@login_required
@require_http_methods(["GET", "POST"])
def transaction_split_page(request: HttpRequest, company_slug: str, transaction_id: int) -> HttpResponse:
    """GET: the split form for one transaction; POST: save the split (reviewers and admins)."""
    txn = transaction_get_for_user(user=request.user, transaction_id=transaction_id, role=Role.REVIEWER)
    if txn.company.slug != company_slug:
        raise Http404("No such transaction.")
    back = _next_url(request, txn.company)
    expected = _expected_decision(request)
    if request.method == "GET":
        return _page(request, txn, rows=_rows_now(txn), back=back, expected=expected)

    rows = _posted_rows(request)
    filled = [index for index, row in enumerate(rows) if any(getattr(row, name) for name in ROW_FIELDS)]
    try:
        parts = split_parts_parse([{name: getattr(rows[index], name) for name in ROW_FIELDS} for index in filled])
        result = transaction_split(transaction=txn, parts=parts, user=request.user, expected_decision_id=expected)
    except DomainError as error:
        general = _attach_errors(error, rows, filled)
        # Problems shown on their rows need no repeating above the form; a conflict's message is the news.
        message = ("Nothing was saved: see the problems below." if error.extra.get("fields")
                   else f"Nothing was saved: {error.message}")
        if _wants_json(request):
            return JsonResponse({"code": error.code, "message": message, "general": general,
                                 "rows": {str(index): row.errors for index, row in enumerate(rows) if row.errors}},
                                status=error.http_status)
        return _page(request, txn, rows=rows, back=back, expected=expected, message=message, general=general,
                     status=error.http_status)
    shares = ", ".join(f"{line.account.code} {line.amount}" for line in result.parts)
    messages.success(request, f"Split “{txn.description}” into {len(result.parts)} parts: {shares}.")
    if _wants_json(request):
        return JsonResponse({"redirect": back})
    return redirect(back)


def _page(request: HttpRequest, txn: Transaction, *, rows: list[SplitRow], back: str, expected: int | None,
          message: str = "", general: list[str] | None = None, status: int = 200) -> HttpResponse:
    chart = list(Account.objects.filter(company=txn.company, is_active=True, is_bank=False).order_by("code"))
    rows = rows + [SplitRow() for _ in range(max(0, ROWS_WITHOUT_SCRIPT - len(rows)))]
    return render(request, "ledger/transaction_split.html", {
        "company": txn.company, "txn": txn, "rows": rows, "chart": chart, "back": back, "expected": expected,
        "message": message, "general": general or [],
        "action": reverse("ledger:transaction-split", kwargs={"company_slug": txn.company.slug,
                                                              "transaction_id": txn.pk}),
    }, status=status)


def _rows_now(txn: Transaction) -> list[SplitRow]:
    """The stored split to start from; otherwise the current decision's account and a row for the rest."""
    state = transaction_split_state(transaction=txn)
    if state.parts:
        return [SplitRow(account=line.account.code, memo=line.memo,
                         amount="" if line.percent is not None else str(abs(line.amount)),
                         percent="" if line.percent is None else f"{line.percent.normalize():f}")
                for line in state.parts]
    suggested = state.decision.account.code if state.decision and state.decision.account else ""
    return [SplitRow(account=suggested), SplitRow()]


def _posted_rows(request: HttpRequest) -> list[SplitRow]:
    columns = {name: request.POST.getlist(name) for name in ROW_FIELDS}
    count = min(max(len(values) for values in columns.values()), 200)
    return [SplitRow(**{name: (values[index] if index < len(values) else "").strip()[:200]
                        for name, values in columns.items()}) for index in range(count)]


def _attach_errors(error: DomainError, rows: list[SplitRow], filled: list[int]) -> list[str]:
    """Put each `parts[i]...` problem on its form row (parts are the filled rows, in order); the rest is general.
    The service's `parts[i]` (counted from 0, blank rows left out) reads "row N" here, as the form shows them."""
    def in_words(text: str) -> str:
        return PART.sub(lambda match: f"row {_row_number(int(match.group(1)), filled)}", text)

    general = []
    for key, problems in error.extra.get("fields", {}).items():
        index, _, name = key.removeprefix("parts[").partition("]")
        if key.startswith("parts[") and index.isdigit() and int(index) < len(filled):
            label = name.lstrip(".").capitalize()
            rows[filled[int(index)]].errors.extend(
                in_words(f"{label}: {problem}" if label else problem[:1].upper() + problem[1:]) for problem in problems)
        else:
            general.extend(in_words(problem) for problem in problems)
    return general


def _row_number(part: int, filled: list[int]) -> int:
    return filled[part] + 1 if part < len(filled) else part + 1


def _expected_decision(request: HttpRequest) -> int | None:
    text = (request.POST.get("expected_decision") or request.GET.get("decision") or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise Http404("No such decision.")
    return int(text)


def _next_url(request: HttpRequest, company: Company) -> str:
    """Where to go back to: a local URL the form carries, else the company's review queue."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                                                  require_https=request.is_secure()):
        return wanted
    return reverse("decisions:review-queue", kwargs={"company_slug": company.slug})


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")
