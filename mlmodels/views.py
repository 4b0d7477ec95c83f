"""HTML pages of the classifier versions: which version each company uses, a comparison table of a company's
versions and the global ones, and one version in depth (per-account table and three SVG charts).

Thin: reads go through the selectors, activation and training through `model_activate` and `job_create`, and
DomainErrors become messages. Every state change is a POST.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from jobs.models import JobKind
from jobs.services import job_create
from ledger_site.exceptions import DomainError
from mlmodels import charts
from mlmodels.models import ModelVersion
from mlmodels.selectors import model_drift, model_version_for_viewer, model_version_get_for_user, model_versions_for_company
from mlmodels.services import model_activate
from transactions.models import Account, Company, Role
from transactions.selectors import company_get_for_user, user_has_role

# What the comparison table and the detail page highlight: (metrics key, higher is better).
COMPARED = (("accuracy", True), ("macro_f1", True), ("cv", True), ("coverage_at_threshold", True),
            ("precision_at_threshold", True), ("calibration_error", False))
MIN_SUPPORT_TO_JUDGE = 5  # held-out rows an account needs before its F1 is coloured good or poor


# ---------------------------------------------------------------------------------------------- pages


@login_required
@require_GET
def company_list(request: HttpRequest) -> HttpResponse:
    """The user's companies, each with the version that categorizes its transactions."""
    companies = list(Company.objects.for_user(request.user))
    active = _active_versions([company.pk for company in companies])
    rows = [{"company": company, "own": active.get(company.pk), "global": active.get(None)} for company in companies]
    return render(request, "mlmodels/company_list.html", {"rows": rows})


@login_required
@require_GET
def model_list(request: HttpRequest, company_slug: str) -> HttpResponse:
    """The company's versions and the global ones side by side, newest first (accountants and up)."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ACCOUNTANT)
    versions = [model_version_for_viewer(version=version, user=request.user)
                for version in model_versions_for_company(company=company)]
    is_admin = user_has_role(user=request.user, company=company, role=Role.ADMIN)
    rows = [_version_row(version, versions, user=request.user, is_admin=is_admin) for version in versions]
    _mark_best(rows)
    in_use = _in_use(versions)
    return render(request, "mlmodels/model_list.html", {
        "company": company, "rows": rows, "is_admin": is_admin, "in_use": in_use,
        "has_global": any(version.company_id is None for version in versions),
        "threshold": float(company.confidence_threshold),
    })


@login_required
@require_GET
def model_detail(request: HttpRequest, company_slug: str, version_id: int) -> HttpResponse:
    """One version in depth: headline numbers, per-account table, confusion heatmap, reliability and coverage."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ACCOUNTANT)
    version = _version_of(company, request.user, version_id, role=Role.ACCOUNTANT)
    if version.company_id is None and not request.user.is_superuser:
        # Its per-account tables and confusion matrix span every tenant's chart (see model_version_for_viewer).
        raise PermissionDenied("The global model's details cover every company; only a superuser sees them.")
    metrics = version.metrics or {}
    summary = version.training_summary or {}
    names = _chart_names(company)
    threshold = float(company.confidence_threshold)
    is_admin = user_has_role(user=request.user, company=company, role=Role.ADMIN)
    scope_versions = list(ModelVersion.objects.for_scope(version.company_id).only("id", "number", "is_active", "company"))
    row = _version_row(version, scope_versions, user=request.user, is_admin=is_admin)
    return render(request, "mlmodels/model_detail.html", {
        "company": company, "version": version, "row": row, "metrics": metrics, "summary": summary,
        "threshold": threshold, "drift": model_drift(version=version),  # company versions only (see above)
        "accounts": _account_rows(metrics, summary, names),
        "rare": [{"code": code, "name": names.get(code, ""), "count": count}
                 for code, count in sorted((summary.get("rare_classes") or {}).items())],
        "low_support": [{"code": code, "name": names.get(code, ""),
                         "count": (summary.get("classes") or {}).get(code)}
                        for code in summary.get("low_support_classes") or []],
        "min_class_examples": (version.params or {}).get("min_class_examples", 5),
        "auto_min_support": (version.params or {}).get("auto_min_support", 20),
        "params": list(_flatten(version.params or {})),
        "classes": [{"code": code, "name": names.get(code, ""), "count": count} for code, count in
                    sorted((summary.get("classes") or {}).items(), key=lambda item: (-item[1], item[0]))],
        "min_support_to_judge": MIN_SUPPORT_TO_JUDGE,
        "curve": _curve_rows(metrics.get("coverage_curve") or [], threshold),
        "cv_folds": ", ".join(percent(fold) for fold in ((metrics.get("cv") or {}).get("folds") or [])),
        # charts.* escape every label they draw (account codes and names), so their markup may be marked safe.
        "heatmap": mark_safe(charts.confusion_heatmap(metrics.get("confusion"), names=names)),  # noqa: S308
        "reliability": mark_safe(charts.reliability_chart(  # noqa: S308
            metrics.get("reliability"), calibration_error=metrics.get("calibration_error"))),
        "coverage": mark_safe(charts.coverage_chart(metrics.get("coverage_curve"), threshold=threshold)),  # noqa: S308
    })


@login_required
@require_POST
def model_activate_view(request: HttpRequest, company_slug: str, version_id: int) -> HttpResponse:
    """Make a version the active one of its scope (company admins; superusers for global versions)."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ACCOUNTANT)
    version = _version_of(company, request.user, version_id, role=Role.ADMIN)
    previous = ModelVersion.objects.for_scope(version.company_id).filter(is_active=True).first()
    try:
        model_activate(version=version, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        scope = "company" if version.company_id else "global"
        if previous is None or previous.pk == version.pk:
            messages.success(request, f"Version {version.number} is the active {scope} model.")
        elif previous.number > version.number:
            messages.success(request, f"Rolled back: version {version.number} is the active {scope} model again "
                                      f"(instead of version {previous.number}).")
        else:
            messages.success(request, f"Activated version {version.number} as the {scope} model "
                                      f"(instead of version {previous.number}).")
    if request.POST.get("back") == "detail":
        return redirect("mlmodels:model-detail", company_slug=company.slug, version_id=version.pk)
    return redirect("mlmodels:model-list", company_slug=company.slug)


@login_required
@require_POST
def model_train_view(request: HttpRequest, company_slug: str) -> HttpResponse:
    """Queue a training run of the company's model on the worker (admins)."""
    company = company_get_for_user(user=request.user, reference=company_slug, role=Role.ADMIN)
    try:
        job, _ = job_create(company=company, kind=JobKind.TRAIN, created_by=request.user,
                            params={"scope": "company"})
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Training queued as job {job.pk}. The new version appears here when the job "
                                  "has finished (see Recent jobs on the home page).")
    return redirect("mlmodels:model-list", company_slug=company.slug)


# --------------------------------------------------------------------------------------------- helpers


def _version_of(company: Company, user: Any, version_id: int, *, role: str) -> ModelVersion:
    """A version shown on this company's pages (its own or a global one), with `role` checked by the selector."""
    version = model_version_get_for_user(user=user, version_id=version_id, role=role)
    if version.company_id not in (company.pk, None):
        raise Http404("No such model version.")
    return version


def _active_versions(company_ids: list[int]) -> dict[int | None, ModelVersion]:
    """Active version per company id, and the active global one under None (one query)."""
    active = ModelVersion.objects.filter(Q(company_id__in=company_ids) | Q(company__isnull=True), is_active=True)
    return {version.company_id: version for version in active}


def _in_use(versions: Iterable[ModelVersion]) -> ModelVersion | None:
    """The version that categorizes the company's transactions: its own active one, else the active global one."""
    active = [version for version in versions if version.is_active]
    return next((v for v in active if v.company_id), None) or next((v for v in active if not v.company_id), None)


def _version_row(version: ModelVersion, versions: list[ModelVersion], *, user: Any, is_admin: bool) -> dict[str, Any]:
    """What the comparison table shows for one version, formatted, plus who may activate it and how it is called."""
    metrics = version.metrics or {}
    cv = metrics.get("cv") or {}
    active = next((other for other in versions if other.is_active and other.company_id == version.company_id
                   and other.pk != version.pk), None)
    may_activate = not version.is_active and (
        is_admin if version.company_id else bool(getattr(user, "is_superuser", False))
    )
    return {
        "version": version,
        "rows": (version.training_summary or {}).get("rows"),
        "holdout_rows": metrics.get("rows"),
        "values": {key: _value_of(metrics, key) for key, _ in COMPARED},
        "accuracy": percent(metrics.get("accuracy")),
        "macro_f1": decimal3(metrics.get("macro_f1")),
        "cv": f"{percent(cv.get('mean'))} ± {_points(cv.get('std'))}" if cv.get("mean") is not None else "",
        "coverage": percent(metrics.get("coverage_at_threshold")),
        "precision": percent(metrics.get("precision_at_threshold")),
        "threshold": metrics.get("threshold"),
        "calibration_error": decimal3(metrics.get("calibration_error")),
        "may_activate": may_activate,
        "action": "Roll back to this" if active and active.number > version.number else "Activate",
        "best": set(),
    }


def _value_of(metrics: Mapping[str, Any], key: str) -> float | None:
    value = (metrics.get("cv") or {}).get("mean") if key == "cv" else metrics.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _mark_best(rows: list[dict[str, Any]]) -> None:
    """Bold the best value of each compared column (when the versions differ in it)."""
    for key, higher_is_better in COMPARED:
        values = [row["values"][key] for row in rows if row["values"][key] is not None]
        if len(set(values)) < 2:  # one version, or all equal: nothing stands out
            continue
        best = max(values) if higher_is_better else min(values)
        for row in rows:
            if row["values"][key] == best:
                row["best"].add(key)


def _account_rows(metrics: Mapping[str, Any], summary: Mapping[str, Any], names: Mapping[str, str]) -> list[dict]:
    """Per-account held-out quality with the account's name and its training examples."""
    low = set(summary.get("low_support_classes") or [])
    trained = summary.get("classes") or {}
    rows = []
    for code, values in sorted((metrics.get("per_account") or {}).items()):
        f1 = values.get("f1")
        rows.append({
            "code": code, "name": names.get(code, ""), "precision": percent(values.get("precision")),
            "recall": percent(values.get("recall")), "f1": decimal3(f1), "support": values.get("support"),
            "trained": trained.get(code), "is_low_support": code in low, "is_learned": code in trained,
            # A score over one or two rows says little: only accounts with some support are coloured.
            "quality": "few" if f1 is None or (values.get("support") or 0) < MIN_SUPPORT_TO_JUDGE else
            "good" if f1 >= 0.9 else "fair" if f1 >= 0.6 else "poor",
        })
    return rows


def _curve_rows(curve: Iterable[Mapping[str, Any]], threshold: float) -> list[dict[str, Any]]:
    return [{
        "threshold": f"{point.get('threshold', 0):.2f}", "coverage": percent(point.get("coverage")),
        "precision": percent(point.get("precision")),
        "is_current": abs(float(point.get("threshold") or 0) - threshold) < 1e-9,
        "meets_target": (point.get("precision") or 0) >= charts.PRECISION_TARGET,
    } for point in curve]


def _flatten(params: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, str]]:
    """Nested parameters as ("features · words", "tf-idf ...") pairs."""
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, prefix=f"{name} · ")
        else:
            yield name, "—" if value is None else str(value)


def _chart_names(company: Company) -> dict[str, str]:
    """Account code -> name for the company's whole chart, in one query."""
    return dict(Account.objects.filter(company=company).values_list("code", "name"))


def percent(share: Any) -> str:
    """0.9867 -> "98.7%", 1 -> "100%", None -> "—"."""
    if share is None:
        return "—"
    text = f"{float(share) * 100:.1f}"
    return f"{text.removesuffix('.0')}%"


def decimal3(value: Any) -> str:
    return "—" if value is None else f"{float(value):.3f}"


def _points(share: Any) -> str:
    """A standard deviation of a share, in percentage points: 0.0191 -> "1.9 pts"."""
    return "—" if share is None else f"{float(share) * 100:.1f} pts"
