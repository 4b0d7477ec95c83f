"""HTML pages of the rules engine. Thin: reads go through selectors, writes and backtests through services,
and DomainErrors become messages. Every state change is a POST."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ledger_site.exceptions import DomainError
from rules.exceptions import RuleInvalid
from rules.forms import FIELD_OPS_JSON, RuleEditor
from rules.models import Rule, RuleStatus
from rules.selectors import chart_codes, rule_get_for_user, rule_list_for_company, rule_specs
from rules.services.backtest import rule_test, rules_backtest
from rules.services.lifecycle import rule_approve, rule_create, rule_reject, rule_retire, rule_update
from transactions.models import Account, Company, Role
from transactions.selectors import company_get_for_user, company_ids_administered_by, user_has_role

RULES_PER_PAGE = 100
PROPOSALS_PER_PAGE = 25
STATUS_TABS = [("", "All"), ("active", "Active"), ("proposed", "Proposed"), ("flagged", "Flagged"),
               ("retired", "Retired"), ("rejected", "Rejected")]

# Review actions: what the button says -> (service, past tense for the message).
REVIEW_ACTIONS: dict[str, tuple[Callable[..., list[Rule]], str]] = {
    "approve": (lambda rules, user, reason: rule_approve(rules=rules, user=user), "Approved"),
    "reject": (lambda rules, user, reason: rule_reject(rules=rules, user=user, reason=reason), "Rejected"),
    "keep": (lambda rules, user, reason: rule_approve(rules=rules, user=user), "Kept (flag cleared)"),
    "retire": (lambda rules, user, reason: rule_retire(rules=rules, user=user, reason=reason), "Retired"),
}


# ---------------------------------------------------------------------------------------------- pages


@login_required
@require_GET
def company_list(request: HttpRequest) -> HttpResponse:
    """The user's companies with their rule counts, each linking to its rule list."""
    companies = list(Company.objects.for_user(request.user))
    counts = _rule_counts([company.pk for company in companies])
    administered = company_ids_administered_by(user=request.user)
    rows = [{"company": company, "counts": counts[company.pk], "is_admin": company.pk in administered}
            for company in companies]
    return render(request, "rules/company_list.html", {"rows": rows})


@login_required
@require_GET
def rule_list(request: HttpRequest, company_slug: str) -> HttpResponse:
    """A company's rules and the global ones, filtered by status tab and text search (accountants and up)."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ACCOUNTANT)
    params = request.GET.copy()
    status = params.get("status", "")
    if status == "flagged":  # a tab of its own, though the selector takes it as a separate filter
        params["status"], params["flagged"] = "", "1"
    page = Paginator(rule_list_for_company(company=company, params=params), RULES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    names = _chart_names(company)
    for rule in page:
        _describe(rule, names)
    is_admin = user_has_role(user=request.user, company=company, role=Role.ADMIN)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "rules/rule_list.html", {
        "company": company, "page": page, "query": query.urlencode(), "status": status, "tabs": STATUS_TABS,
        "q": request.GET.get("q", ""),
        "is_admin": is_admin,
        "is_reviewer": is_admin or user_has_role(user=request.user, company=company, role=Role.REVIEWER),
        "queue_count": _queue_count(company) if is_admin else 0,
    })


@login_required
@require_http_methods(["GET", "POST"])
def rule_new(request: HttpRequest, company_slug: str) -> HttpResponse:
    """Write a rule, test it on history, save it (reviewers propose, admins' rules are active at once)."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.REVIEWER)
    return _rule_form(request, company=company, rule=None)


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, company_slug: str, rule_id: int) -> HttpResponse:
    """Change a rule (reviewers: proposed rules; admins: active ones too - the service decides)."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.REVIEWER)
    rule = _rule_of(company, request.user, rule_id, role=Role.REVIEWER)
    return _rule_form(request, company=company, rule=rule)


@login_required
@require_POST
def rule_retire_view(request: HttpRequest, company_slug: str, rule_id: int) -> HttpResponse:
    """Retire one rule from the rule list (admins)."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ADMIN)
    rule = _rule_of(company, request.user, rule_id, role=Role.ADMIN)
    try:
        rule_retire(rules=[rule], user=request.user, reason=request.POST.get("reason", "").strip())
        messages.success(request, f"Retired rule “{rule.name}”: it no longer categorizes anything.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(_list_url(company, request.POST.get("query", "")))


@login_required
@require_http_methods(["GET", "POST"])
def rule_review(request: HttpRequest, company_slug: str) -> HttpResponse:
    """The admin's queue: proposed rules with their evidence, and active rules flagged for a look."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ADMIN)
    if request.method == "POST":
        return _review_action(request, company)
    names = _chart_names(company)
    page = Paginator(_company_only(company, status=RuleStatus.PROPOSED), PROPOSALS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    proposals = list(page)
    live = _live_backtests(company, [rule for rule in proposals if not rule.backtest])
    for rule in proposals:
        _describe(rule, names)
        _attach_evidence(rule, names, live.get(rule.pk))
    flagged = list(_company_only(company, status=RuleStatus.ACTIVE, flagged=True))
    for rule in flagged:
        _describe(rule, names)
    return render(request, "rules/rule_review.html", {
        "company": company, "page": page, "proposals": proposals, "flagged": flagged,
    })


# --------------------------------------------------------------------------------------------- helpers


def _rule_form(request: HttpRequest, *, company: Company, rule: Rule | None) -> HttpResponse:
    editor = RuleEditor(request.POST if request.method == "POST" else None, company=company, rule=rule)
    after = request.POST.get("next") or request.GET.get("next", "")
    result = None
    if request.method == "POST" and editor.is_valid():
        testing = request.POST.get("action") == "test"
        try:
            if testing:
                result = rule_test(company=company, raw=editor.raw(with_name=False))
            else:
                saved = (
                    rule_update(rule=rule, user=request.user, raw=editor.raw()) if rule
                    else rule_create(company=company, user=request.user, raw=editor.raw())
                )
                messages.success(request, _saved_message(saved))
                if after == "review" and saved.status == RuleStatus.PROPOSED:
                    return redirect("rules:rule-review", company_slug=company.slug)
                return redirect("rules:rule-list", company_slug=company.slug)
        except RuleInvalid as error:
            editor.show_errors(error.extra.get("fields", {}))
            what = "tested" if testing else "saved"
            messages.error(request, f"The rule was not {what}: correct the marked fields.")
        except DomainError as error:
            messages.error(request, error.message)
    names = _chart_names(company)
    return render(request, "rules/rule_form.html", {
        "company": company, "rule": rule, "form": editor.form, "formset": editor.formset,
        "condition_errors": editor.condition_errors, "result": _result_view(result, names) if result else None,
        "next": after, "field_ops": FIELD_OPS_JSON,
        "needs_admin": rule is not None and rule.status == RuleStatus.ACTIVE
        and not user_has_role(user=request.user, company=company, role=Role.ADMIN),
    })


def _saved_message(rule: Rule) -> str:
    if rule.status == RuleStatus.ACTIVE:
        return f"Saved rule “{rule.name}”: it is active and categorizes new transactions."
    return f"Saved rule “{rule.name}” as proposed: an admin reviews it before it applies."


def _review_action(request: HttpRequest, company: Company) -> HttpResponse:
    """One button: `action` is "approve" etc. for the ticked rules, or "approve:<id>" for one rule."""
    back = redirect("rules:rule-review", company_slug=company.slug)
    action, _, one = request.POST.get("action", "").partition(":")
    ids = [one] if one else request.POST.getlist("rule")
    if action not in REVIEW_ACTIONS:
        messages.error(request, "Unknown action.")
        return back
    if not ids:
        messages.error(request, "Tick at least one rule first.")
        return back
    if not all(text.isascii() and text.isdigit() for text in ids):
        raise Http404("No such rule.")
    rules = list(rule_list_for_company(company=company, params={}).filter(company=company, id__in=ids))
    if len(rules) != len(set(ids)):
        messages.error(request, "Some of these rules do not belong to this company any more; nothing was changed.")
        return back
    service, done = REVIEW_ACTIONS[action]
    try:
        changed = service(rules, request.user, request.POST.get("reason", "").strip())
    except DomainError as error:
        messages.error(request, error.message)
        return back
    if len(changed) == 1:
        messages.success(request, f"{done} rule “{changed[0].name}”.")
    else:
        messages.success(request, f"{done} {len(changed)} rules.")
    return back


def _rule_of(company: Company, user: Any, rule_id: int, *, role: str) -> Rule:
    """A rule shown in this company's list (its own or a global one), with `role` checked by the selector."""
    rule = rule_get_for_user(user=user, rule_id=rule_id, role=role)
    if rule.company_id not in (company.pk, None):
        raise Http404("No such rule.")
    return rule


def _company_only(company: Company, *, status: str, flagged: bool = False) -> Any:
    """The company's own rules in one state. Global rules are a superuser's business, not a company queue's."""
    params = {"status": status, "flagged": "1" if flagged else ""}
    return rule_list_for_company(company=company, params=params).filter(company=company)


def _queue_count(company: Company) -> int:
    return _company_only(company, status=RuleStatus.PROPOSED).count() + _company_only(
        company, status=RuleStatus.ACTIVE, flagged=True
    ).count()


def _rule_counts(company_ids: list[int]) -> dict[int, dict[str, int]]:
    """Active / proposed / flagged rules per company, global rules included (as in each company's list).

    Two aggregate queries whatever the number of companies; rules.selectors has no counting selector yet.
    """
    aggregates = {
        "active": Count("id", filter=Q(status=RuleStatus.ACTIVE)),
        "proposed": Count("id", filter=Q(status=RuleStatus.PROPOSED)),
        "flagged": Count("id", filter=Q(status=RuleStatus.ACTIVE, flagged_at__isnull=False)),
    }
    shared = Rule.objects.filter(company__isnull=True).aggregate(**aggregates)
    own = {row["company"]: row for row in
           Rule.objects.filter(company_id__in=company_ids).values("company").annotate(**aggregates)}
    return {
        company_id: {key: (own.get(company_id, {}).get(key) or 0) + (shared[key] or 0) for key in aggregates}
        for company_id in company_ids
    }


def _chart_names(company: Company) -> dict[str, str]:
    """Account code -> name for the company's whole chart, in one query."""
    return dict(Account.objects.filter(company=company).values_list("code", "name"))


def _list_url(company: Company, query: str) -> str:
    url = reverse("rules:rule-list", kwargs={"company_slug": company.slug})
    return f"{url}?{query}" if query else url


def _describe(rule: Rule, names: Mapping[str, str]) -> None:
    """Attach what the templates show: conditions in words, the account's name, precision in percent."""
    rule.conditions_text = conditions_text(rule.conditions, rule.combine)  # type: ignore[attr-defined]
    rule.account_name = names.get(rule.account_code, "")  # type: ignore[attr-defined]
    rule.observed_percent = percent(rule.observed_precision)  # type: ignore[attr-defined]
    rule.precision_percent = percent(rule.precision)  # type: ignore[attr-defined]


def _live_backtests(company: Company, rules: list[Rule]) -> dict[int, dict[str, Any]]:
    """Backtests for proposals that carry none (manual proposals): one pass over history for all of them."""
    if not rules:
        return {}
    specs = rule_specs(rules, chart=chart_codes(company_id=company.pk))
    return {rule_id: result.as_dict() for rule_id, result in rules_backtest(company=company, specs=specs).items()}


def _attach_evidence(rule: Rule, names: Mapping[str, str], live: dict[str, Any] | None) -> None:
    """The backtest to show (stored with the proposal, or computed now) and the accounts breakdown."""
    backtest = rule.backtest or live
    rule.evidence = _result_view(backtest, names) if backtest else None  # type: ignore[attr-defined]
    rule.evidence_is_live = not rule.backtest and live is not None  # type: ignore[attr-defined]
    accounts = (rule.backtest or {}).get("accounts") or {}
    total = sum(accounts.values()) or 1
    rule.accounts = [  # type: ignore[attr-defined]
        {"code": code, "name": names.get(code, ""), "count": count, "share": percent(count / total),
         "is_rule_account": code == rule.account_code}
        for code, count in sorted(accounts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _result_view(result: Any, names: Mapping[str, str]) -> dict[str, Any]:
    """A BacktestResult (or its stored dict) with account names added to the examples."""
    data = result.as_dict() if hasattr(result, "as_dict") else dict(result)

    def named(examples: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [{**example, "account_name": names.get(example.get("current_account") or "", "")}
                for example in examples]

    return {**data, "match_examples": named(data.get("match_examples") or []),
            "conflict_examples": named(data.get("conflict_examples") or [])}


# ------------------------------------------------------------------------------------- readable rules

_OPS_IN_WORDS = {"equals": "equals", "contains": "contains", "starts_with": "starts with", "regex": "matches"}
_AMOUNT_OPS = {"eq": "=", "lt": "<", "gt": ">"}


def conditions_text(conditions: Iterable[Mapping[str, Any]], combine: str) -> str:
    """`counterparty equals "HAMILTON COFFEE" and money out`."""
    joiner = " and " if combine == "all" else " or "
    return joiner.join(condition_text(condition) for condition in conditions)


def condition_text(condition: Mapping[str, Any]) -> str:
    field, op, value = condition.get("field"), condition.get("op"), condition.get("value")
    if field == "direction":
        return "money in" if op == "in" else "money out"
    if field == "amount":
        if op == "between" and isinstance(value, list | tuple) and len(value) == 2:
            return f"amount between {value[0]} and {value[1]}"
        return f"amount {_AMOUNT_OPS.get(str(op), op)} {value}"
    if field == "bank_account":
        return f"bank account {value}"
    if op == "regex":
        return f"{field} matches /{value}/"
    return f'{field} {_OPS_IN_WORDS.get(str(op), op)} "{value}"'


def percent(share: float | Decimal | None) -> str:
    """0.987 -> "98.7%", 1 -> "100%", None -> ""."""
    if share is None:
        return ""
    text = f"{float(share) * 100:.1f}"
    return f"{text.removesuffix('.0')}%"
