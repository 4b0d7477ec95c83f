"""The automation dashboard: per company and overall, how much the machines decide, what waits for people and
for how long, how fast reviewers work and how often they agree with the model - as inline SVG charts.

Thin: the numbers come from `decisions.stats` (the same selectors as `/api/automation/` and the
`automation_report` command), the drawings from `decisions.charts`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from decisions import charts
from decisions.stats import automation_stats, automation_warnings
from transactions.models import Company

WINDOWS = (7, 30, 90)  # the periods the page offers (days); the API takes any 1..366
DEFAULT_WINDOW = 30


@login_required
@require_GET
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Automation of the user's companies (a superuser's: all), overall and one section per company."""
    days = _window(request.GET.get("days"))
    companies = list(Company.objects.for_user(request.user))
    stats = automation_stats(companies=companies, days=days)
    warnings = automation_warnings(companies=companies)
    sections = [
        {**_section(block, ident=f"company-{company.pk}"), "company": company, "warnings": warnings[company.pk]}
        for company, block in zip(companies, stats["companies"])
    ]
    return render(request, "decisions/dashboard.html", {
        "stats": stats, "days": days, "windows": WINDOWS,
        "overall": _section(stats["overall"], ident="overall") if len(companies) > 1 else None,
        "sections": sections,
        "warning_count": sum(1 for w in warnings.values() if w["flagged_rules"] or w["drifting"]),
    })


def _window(value: str | None) -> int:
    """The period asked for, if it is one the page offers; otherwise the default."""
    return int(value) if value in {str(days) for days in WINDOWS} else DEFAULT_WINDOW


def _section(block: Mapping[str, Any], *, ident: str) -> dict[str, Any]:
    """One block of the stats with its headline numbers formatted and its five charts drawn."""
    backlog, agreement, throughput = block["backlog"], block["agreement"], block["throughput"]
    return {
        "ident": ident,
        "block": block,
        "rate": _percent(block["automation_rate"]),
        "agreement_rate": _percent(agreement["rate"]),
        "oldest": charts.format_age(backlog["oldest_age_hours"]),
        "median": charts.format_age(backlog["median_age_hours"]),
        "per_day": f"{throughput['per_day']:.1f}",
        "methods": [{"key": key, "label": charts.METHOD_STYLE[key][0], "count": count}
                    for key, count in block["by_method"].items()],
        "charts": _charts(block, ident=ident),
    }


def _charts(block: Mapping[str, Any], *, ident: str) -> dict[str, SafeString]:
    # charts.* escape every text they draw, so their markup may be marked safe.
    return {
        "methods": mark_safe(charts.method_share_chart(  # noqa: S308
            block["by_method"], automation_rate=block["automation_rate"], ident=f"{ident}-methods")),
        "rate": mark_safe(charts.automation_rate_chart(block["daily"], ident=f"{ident}-rate")),  # noqa: S308
        "backlog": mark_safe(charts.backlog_age_chart(block["backlog"], ident=f"{ident}-backlog")),  # noqa: S308
        "throughput": mark_safe(charts.throughput_chart(block["daily"], ident=f"{ident}-throughput")),  # noqa: S308
        "agreement": mark_safe(charts.agreement_chart(block["agreement"], ident=f"{ident}-agreement")),  # noqa: S308
    }


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"
