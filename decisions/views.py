"""The review queue in HTML: reviewers approve, correct and bulk-approve the decisions people must look at.

Thin: reads go through decisions.selectors, writes through decisions.services (the same functions the API
calls), and DomainErrors become messages. Every state change is a POST that redirects back to the queue.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from decisions.exceptions import DecisionConflict
from decisions.models import Decision, DecisionMethod
from decisions.selectors import (
    REVIEW_METHODS,
    company_ids_reviewed_by,
    decision_get_for_user,
    decision_ids_for_user,
    review_counts,
    review_queue,
)
from decisions.services import decisions_approve, transaction_categorize, vendor_rule_data
from ledger_site.exceptions import DomainError
from rules.models import Rule, RuleStatus
from transactions.models import Account, Company, Role
from transactions.selectors import company_get_for_user, user_has_role

QUERY_KEYS = ("q", "method", "min_amount", "page")  # what a POST may carry back to the queue's URL
METHOD_LABELS = dict(DecisionMethod.choices)


@login_required
@require_GET
def review_index(request: HttpRequest) -> HttpResponse:
    """The user's companies with their open review items; a link to each queue the user may work on."""
    companies = list(Company.objects.for_user(request.user))
    counts = review_counts(company_ids=[company.pk for company in companies])
    reviewable = company_ids_reviewed_by(user=request.user)
    rows = [{"company": company, "open": counts[company.pk], "may_review": company.pk in reviewable}
            for company in companies]
    return render(request, "decisions/review_index.html", {"rows": rows})


@login_required
@require_GET
def review_queue_page(request: HttpRequest, company_slug: str) -> HttpResponse:
    """One company's queue: vendor groups, biggest and most uncertain first (reviewers and admins)."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.REVIEWER)
    try:
        queue = review_queue(company=company, params=request.GET)
    except DomainError as error:
        fields = "; ".join(f"{name}: {' '.join(problems)}" for name, problems in error.extra.get("fields", {}).items())
        messages.error(request, f"{error.message} {fields}".strip())
        return redirect("decisions:review-queue", company_slug=company.slug)
    chart = list(Account.objects.filter(company=company, is_active=True, is_bank=False).order_by("code"))
    names = {account.code: account.name for account in chart}
    for group in queue.groups:
        for item in group.items:
            _describe(item, names)
    filters = queue.filters.as_query()
    return render(request, "decisions/review_queue.html", {
        "company": company, "queue": queue, "page": queue.page, "chart": chart,
        "is_admin": user_has_role(user=request.user, company=company, role=Role.ADMIN),
        "filters": queue.filters, "methods": [(method, METHOD_LABELS[method]) for method in REVIEW_METHODS],
        "filter_query": _encode(filters),
        "query": _encode({**filters, **({"page": str(queue.page.number)} if queue.page.number > 1 else {})}),
    })


MAX_APPROVALS_PER_REQUEST = 500


@login_required
@require_POST
def review_approve(request: HttpRequest, company_slug: str) -> HttpResponse:
    """Approve the suggestions of the given items: one (`ids`), a group (`ids`, comma-separated) or the ticked
    ones (`decision`). Items someone else decided meanwhile are skipped and counted in the message."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.REVIEWER)
    back = _back_to_queue(company, request.POST.get("query", ""))
    ids = _posted_ids(request)
    if not ids:
        messages.error(request, "Tick at least one item first.")
        return back
    # One request approves at most MAX_APPROVALS_PER_REQUEST items (each is its own small transaction); a bigger
    # group shrinks with every press of its button.
    remaining = max(0, len(ids) - MAX_APPROVALS_PER_REQUEST)
    ids = ids[:MAX_APPROVALS_PER_REQUEST]
    checked = decision_ids_for_user(user=request.user, decision_ids=ids, role=Role.REVIEWER, company=company)
    summary = decisions_approve(decision_ids=checked, user=request.user)
    text = _approval_message(summary)
    if remaining:
        text += f" {remaining} more of this group wait: approve it again."
    (messages.success if summary["approved"] else messages.error)(request, text)
    return back


@login_required
@require_POST
def review_correct(request: HttpRequest, company_slug: str) -> HttpResponse:
    """Give one item an account (the suggestion's or another one), optionally "always categorize like this"."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.REVIEWER)
    back = _back_to_queue(company, request.POST.get("query", ""))
    decision = decision_get_for_user(user=request.user, decision_id=request.POST.get("decision", ""),
                                     role=Role.REVIEWER)
    if decision.company_id != company.pk:
        raise Http404("No such decision.")
    expected = request.POST.get("expected_decision") or str(decision.pk)
    if not (expected.isascii() and expected.isdigit()):
        raise Http404("No such decision.")
    typed = request.POST.get("account", "").strip()
    account = _account_from_text(company, typed)
    if account is None:
        messages.error(request, f"“{typed}” is not an account of the chart: pick one from the list, e.g. "
                                f"type its code." if typed else "Pick an account first.")
        return back
    remember = request.POST.get("remember_as_rule") in ("on", "1", "true")
    description = decision.transaction.description
    try:
        transaction_categorize(transaction_id=decision.transaction_id, user=request.user, account=account,
                               expected_decision_id=int(expected), remember_as_rule=remember)
    except DecisionConflict as error:
        messages.error(request, error.message)
        return back
    except DomainError as error:
        messages.error(request, f"Nothing was saved: {error.message}" if remember else error.message)
        return back
    text = f"Saved “{description}” as {account.code} {account.name}."
    if remember:
        text += " " + _rule_message(company, vendor_rule_data(txn=decision.transaction, account=account)["name"])
    messages.success(request, text)
    return back


# --------------------------------------------------------------------------------------------- helpers


def _posted_ids(request: HttpRequest) -> list[int]:
    """Decision ids from `ids` (each value may be a comma-separated list) and the ticked `decision` boxes."""
    values = [part for value in request.POST.getlist("ids") for part in value.split(",")]
    values += request.POST.getlist("decision")
    values = [value.strip() for value in values if value.strip()]
    if not all(value.isascii() and value.isdigit() for value in values):
        raise Http404("No such decision.")
    return [int(value) for value in values]


def _approval_message(summary: Mapping[str, Any]) -> str:
    """"Approved 37; 1 was already decided by someone else"."""
    skipped = summary["skipped"]
    parts = []
    if skipped.get("already_decided"):
        count = skipped["already_decided"]
        parts.append(f"{count} {'was' if count == 1 else 'were'} already decided by someone else")
    if skipped.get("no_suggestion"):
        count = skipped["no_suggestion"]
        parts.append(f"{count} {'has' if count == 1 else 'have'} no suggestion to approve: pick an account for "
                     f"{'it' if count == 1 else 'them'}")
    head = f"Approved {summary['approved']}" if summary["approved"] else "Nothing was approved"
    return "; ".join([head, *parts]) + "."


def _rule_message(company: Company, name: str) -> str:
    rule = Rule.objects.filter(company=company, name=name).only("status").first()
    if rule is not None and rule.status == RuleStatus.ACTIVE:
        return f"Rule “{name}” is active: it categorizes this vendor's new transactions."
    return f"Rule “{name}” was proposed: an admin approves it before it applies."


def _account_from_text(company: Company, text: str) -> Account | None:
    """The account the type-ahead names: "6100 Office Supplies", "6100" or "Office Supplies"."""
    if not text:
        return None
    accounts = Account.objects.filter(company=company, is_active=True, is_bank=False)
    code = text.split()[0]
    return accounts.filter(code=code).first() or accounts.filter(name__iexact=text).first()


def _back_to_queue(company: Company, query: str) -> HttpResponse:
    """Redirect to the queue with the page's filters and page number (only those keys, re-encoded)."""
    url = reverse("decisions:review-queue", kwargs={"company_slug": company.slug})
    posted = QueryDict(query)
    kept = _encode({key: posted[key] for key in QUERY_KEYS if posted.get(key)})
    return redirect(f"{url}?{kept}" if kept else url)


def _encode(values: Mapping[str, str]) -> str:
    query = QueryDict(mutable=True)
    query.update(values)
    return query.urlencode()


def _describe(item: Decision, names: Mapping[str, str]) -> None:
    """Attach what the template shows: confidence in percent, two named alternatives, the why in words."""
    item.confidence_percent = _percent(item.confidence)  # type: ignore[attr-defined]
    item.alternative_list = [  # type: ignore[attr-defined]
        {"code": alternative.get("account", ""), "name": names.get(alternative.get("account", ""), ""),
         "percent": _percent(alternative.get("probability"))}
        for alternative in (item.alternatives or [])[:2]
    ]
    item.why = explanation_text(item)  # type: ignore[attr-defined]


def explanation_text(decision: Decision) -> str:
    """Why the machine suggested what it did (or left it to people), in one line."""
    explanation = decision.explanation or {}
    parts = []
    if explanation.get("rule_name"):
        parts.append(f"rule “{explanation['rule_name']}” v{explanation.get('rule_version', '?')}")
    if explanation.get("model_number") is not None:
        tokens = ", ".join(str(token[0]) for token in (explanation.get("tokens") or [])[:3] if token)
        parts.append(f"model v{explanation['model_number']}" + (f": {tokens}" if tokens else ""))
    if explanation.get("reason"):
        parts.append(str(explanation["reason"]))
    if not parts and decision.method == DecisionMethod.HUMAN:
        parts.append("left for a person to decide")
    return "; ".join(parts)


def _percent(value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return ""
