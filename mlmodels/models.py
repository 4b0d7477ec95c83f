"""Versioned ML classifiers: one row per training run, per company or global (all companies pooled).

At most one version per scope is active (partial unique constraints); the decision engine uses the company's
active version, else the active global one, and says which. The artifact is a joblib file under
LEDGER_MODELS_DIR whose sha256 is checked every time it is loaded.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class ModelVersionQuerySet(models.QuerySet["ModelVersion"]):
    def for_scope(self, company_id: int | None) -> ModelVersionQuerySet:
        return self.filter(company_id=company_id) if company_id else self.filter(company__isnull=True)


class ModelVersion(models.Model):
    company = models.ForeignKey(
        "transactions.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="model_versions",
        help_text="Empty for the global model, trained on every company's confirmed history.",
    )
    number = models.PositiveIntegerField()  # 1, 2, 3... within the scope
    algorithm = models.CharField(max_length=50)
    params = models.JSONField(default=dict)
    training_summary = models.JSONField(default=dict)  # rows, date range, classes, rare and low-support classes
    metrics = models.JSONField(default=dict)  # held-out metrics (see mlmodels.pipeline.evaluate) + "cv"
    artifact = models.CharField(max_length=255)  # path relative to LEDGER_MODELS_DIR
    sha256 = models.CharField(max_length=64)
    is_active = models.BooleanField(default=False)
    activation_note = models.CharField(max_length=500, blank=True)  # why it was (or was not) activated
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], condition=models.Q(company__isnull=False),
                                    name="model_number_unique_per_company"),
            models.UniqueConstraint(fields=["number"], condition=models.Q(company__isnull=True),
                                    name="model_number_unique_global"),
            models.UniqueConstraint(fields=["company"], condition=models.Q(is_active=True, company__isnull=False),
                                    name="model_one_active_per_company"),
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True, company__isnull=True),
                                    name="model_one_active_global"),
        ]

    def __str__(self) -> str:
        scope = self.company.slug if self.company_id else "global"
        return f"{scope} v{self.number} ({self.algorithm}{', active' if self.is_active else ''})"

    @property
    def scope(self) -> str:
        return "company" if self.company_id else "global"
