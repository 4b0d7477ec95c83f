"""Reads for model versions, scoped to the user's companies (global versions are visible to every member)."""
from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

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
