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


def model_drift(*, version: ModelVersion, days: int | None = None) -> dict[str, Any]:
    """How the version behaves in production against what training measured, over the last `days`.

    Live automation rate = share of the rows it saw that it auto-approved; agreement = share of its answers that
    reviewers approved among those they acted on. The model is flagged as drifting when either falls materially
    below the held-out figure (ML_DRIFT_* settings), once there is enough evidence to tell.
    """
    days = days or settings.ML_DRIFT_WINDOW_DAYS
    since = timezone.now() - timedelta(days=days)
    decisions = Decision.objects.filter(model_version=version, created_at__gte=since)
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
