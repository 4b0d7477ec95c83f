"""Reads for rules: the rules that apply to a company (compiled and cached), and listings scoped to a user."""
from __future__ import annotations

import threading
from typing import Any

from django.db.models import Q, QuerySet

from rules.codec import rule_data_from_json, spec_of
from rules.engine import CompiledRules, RuleSpec, compile_rules
from rules.models import Rule, RuleStatus
from transactions.models import Account, Company, Role
from transactions.selectors import company_or_global_get_for_user


def rules_applicable(*, company_id: int) -> QuerySet[Rule]:
    """The company's active rules plus the active global rules it has not overridden.

    An active or retired company rule that overrides a global rule hides it, so a company can switch a global
    rule off by overriding it with a retired rule; a proposed override changes nothing until an admin approves it.
    """
    # Only an override an admin made effective counts: a proposed or rejected one must not switch anything off.
    overridden = Rule.objects.filter(
        company_id=company_id, overrides__isnull=False, status__in=(RuleStatus.ACTIVE, RuleStatus.RETIRED)
    ).values("overrides_id")
    return Rule.objects.active().filter(Q(company_id=company_id) | Q(company__isnull=True)).exclude(id__in=overridden)


def rule_specs(rules: Any, *, chart: set[str] | None = None) -> list[RuleSpec]:
    """Engine specs of rule rows; rules assigning an account missing from `chart` are left out."""
    specs = []
    for rule in rules:
        data, errors = rule_data_from_json(
            {"name": rule.name, "conditions": rule.conditions, "combine": rule.combine,
             "account_code": rule.account_code, "priority": rule.priority}
        )
        if data is None or (chart is not None and data.account_code not in chart):
            continue  # stored rules were validated on save; a global rule may name an account this chart lacks
        specs.append(spec_of(rule_id=rule.id, version=rule.version, data=data))
    return specs


def chart_codes(*, company_id: int) -> set[str]:
    """Codes of the company's active accounts that a rule may assign (not its bank accounts)."""
    return set(Account.objects.filter(company_id=company_id, is_active=True, is_bank=False).values_list("code", flat=True))


_compiled: dict[int, tuple[tuple[Any, ...], CompiledRules]] = {}
_compiled_lock = threading.Lock()


def company_rules_compiled(*, company_id: int) -> CompiledRules:
    """The company's applicable rules, compiled once and reused until a rule or the chart changes.

    The cache is per process and keyed by a stamp (every applicable rule's id, version and last change, and the
    chart), so a change made by any process is seen on the next call at the cost of one small query, with no
    invalidation messages.
    """
    applicable = rules_applicable(company_id=company_id)
    # Every applicable rule's (id, version, updated_at): a change committed late, with an older timestamp than
    # another change, is still seen. A few thousand tiny rows per chunk at most.
    rows = tuple(applicable.order_by("id").values_list("id", "version", "updated_at"))
    chart = chart_codes(company_id=company_id)
    stamp = (hash(rows), len(rows), hash(frozenset(chart)))
    cached = _compiled.get(company_id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    compiled = compile_rules(rule_specs(applicable, chart=chart))
    with _compiled_lock:
        _compiled[company_id] = (stamp, compiled)
    return compiled


def rule_list_for_company(*, company: Company, params: Any) -> QuerySet[Rule]:
    """The company's rules and the global rules, filtered by `status`, `source`, `flagged`, `q`."""
    rules = Rule.objects.filter(Q(company=company) | Q(company__isnull=True)).select_related(
        "created_by", "approved_by"
    )
    status = params.get("status")
    if status:
        rules = rules.filter(status=status)
    if params.get("source"):
        rules = rules.filter(source=params["source"])
    if params.get("flagged") in ("1", "true", "yes"):
        rules = rules.filter(flagged_at__isnull=False)
    if params.get("q"):
        rules = rules.filter(name__icontains=params["q"])
    return rules.order_by("priority", "name", "id")


def rule_get_for_user(*, user: Any, rule_id: Any, role: str = Role.ACCOUNTANT) -> Rule:
    """A rule of one of the user's companies, or a global rule; 404 for anything else, 403 if `role` is lacking.

    Global rules are shared by every company, so only a superuser changes them; a company adapts one by
    overriding it.
    """
    return company_or_global_get_for_user(
        queryset=Rule.objects.all(), user=user, pk=rule_id, role=role, not_found="No such rule.",
        global_refusal="Global rules are changed by a superuser; override the rule for your company instead.",
    )
