"""Reads for model versions, scoped to the user's companies (global versions are visible to every member)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from decisions.models import Decision, DecisionMethod, DecisionStatus
from mlmodels.models import ModelVersion
from transactions.models import Company, Role
from transactions.selectors import company_or_global_get_for_user


def model_versions_for_company(*, company: Company) -> QuerySet[ModelVersion]:
    """The company's versions and the global ones, newest first."""
    return ModelVersion.objects.filter(Q(company=company) | Q(company__isnull=True)).select_related(
        "company", "created_by", "activated_by"
    )


def model_version_get_for_user(*, user: Any, version_id: Any, role: str = Role.ACCOUNTANT) -> ModelVersion:
    """A version of one of the user's companies, or a global one (changed only by a superuser)."""
    return company_or_global_get_for_user(
        queryset=ModelVersion.objects.all(), user=user, pk=version_id, role=role,
        not_found="No such model version.", global_refusal="The global model is managed by a superuser.",
    )


HEADLINE_METRICS = ("rows", "accuracy", "macro_f1", "threshold", "coverage_at_threshold", "precision_at_threshold",
                    "calibration_error", "cv", "training_rows", "holdout_from", "holdout_to")


def model_version_for_viewer(*, version: ModelVersion, user: Any) -> ModelVersion:
    """The version as this user may see it. A global version is trained on every company's history: its
    per-account metrics, confusion matrix and class list would show other tenants' charts and volumes, so
    anyone but a superuser sees its headline numbers only (the object is changed in memory, never saved)."""
    if version.company_id is not None or getattr(user, "is_superuser", False):
        return version
    summary = version.training_summary or {}
    version.training_summary = {key: summary.get(key) for key in ("rows", "date_from", "date_to")}
    version.metrics = {key: value for key, value in (version.metrics or {}).items() if key in HEADLINE_METRICS}
    return version


def model_drift(*, version: ModelVersion, days: int | None = None, company_ids: Any = None) -> dict[str, Any]:
    """How the version behaves in production against what training measured, over the last `days`
    (for a global version, `company_ids` limits it to the viewer's companies).

    Live automation rate = share of the rows it saw that it auto-approved; agreement = share of its answers that
    reviewers approved among those they acted on. The model is flagged as drifting when either falls materially
    below the held-out figure (ML_DRIFT_* settings), once there is enough evidence to tell.
    """
    days = days or settings.ML_DRIFT_WINDOW_DAYS
    since = timezone.now() - timedelta(days=days)
    decisions = Decision.objects.filter(model_version=version, created_at__gte=since)
    if company_ids is not None:  # a global version seen from some companies: only their decisions
        decisions = decisions.filter(company_id__in=company_ids)
    answered = (DecisionMethod.ML, DecisionMethod.ML_SUGGESTION)
    totals = decisions.aggregate(
        seen=Count("id"),
        automated=Count("id", filter=Q(method=DecisionMethod.ML)),
        agreed=Count("id", filter=Q(method__in=answered, status=DecisionStatus.APPROVED, reviewed_at__isnull=False)),
        corrected=Count("id", filter=Q(method__in=answered, status=DecisionStatus.CORRECTED)),
    )
    seen, reviewed = totals["seen"], totals["agreed"] + totals["corrected"]
    automation = totals["automated"] / seen if seen else None
    agreement = totals["agreed"] / reviewed if reviewed else None
    trained_automation = version.metrics.get("coverage_at_threshold")
    trained_precision = version.metrics.get("precision_at_threshold")
    flags = []
    if (seen >= settings.ML_DRIFT_MIN_DECISIONS and automation is not None and trained_automation is not None
            and automation < trained_automation - float(settings.ML_DRIFT_AUTOMATION_DROP)):
        flags.append(f"live automation rate {automation:.0%} is well below the {trained_automation:.0%} "
                     "measured at training")
    if (reviewed >= settings.ML_DRIFT_MIN_REVIEWED and agreement is not None and trained_precision is not None
            and agreement < trained_precision - float(settings.ML_DRIFT_AGREEMENT_DROP)):
        flags.append(f"reviewers agree with {agreement:.0%} of its answers; training measured {trained_precision:.0%}")
    histogram = [0] * 10
    for confidence in decisions.exclude(confidence__isnull=True).values_list("confidence", flat=True).iterator():
        histogram[min(int(confidence * 10), 9)] += 1
    daily = [
        {"date": row["day"].isoformat(), "decisions": row["seen"], "automated": row["automated"],
         "mean_confidence": round(float(row["confidence"]), 4) if row["confidence"] is not None else None}
        for row in decisions.annotate(day=TruncDate("created_at")).values("day").order_by("day").annotate(
            seen=Count("id"), automated=Count("id", filter=Q(method=DecisionMethod.ML)), confidence=Avg("confidence"))
    ]
    return {
        "window_days": days, "decisions": seen,
        "automation_rate": round(automation, 4) if automation is not None else None,
        "training_automation_rate": trained_automation,
        "reviewed": reviewed, "agreement": round(agreement, 4) if agreement is not None else None,
        "training_precision": trained_precision,
        "confidence_histogram": histogram, "daily": daily, "flags": flags, "drifting": bool(flags),
    }
