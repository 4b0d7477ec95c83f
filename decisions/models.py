"""Decisions on transactions: rules -> ML -> LLM -> human review.

Every categorization is a Decision that says who or what decided, and why. A transaction has at most one
*current* decision (a partial unique constraint); earlier ones stay as history. The transaction's own
`account`/`status` mirror the current decision, so lists never need to join this table.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class DecisionMethod(models.TextChoices):
    RULE = "rule", "Rule"
    ML = "ml", "ML"
    ML_SUGGESTION = "ml_suggestion", "ML suggestion"
    LLM = "llm", "LLM"
    HUMAN = "human", "Human"
    TRANSFER = "transfer", "Transfer between own accounts"  # ledger.services.transfers


class DecisionStatus(models.TextChoices):
    AUTO_APPROVED = "auto_approved", "Auto-approved"
    NEEDS_REVIEW = "needs_review", "Needs review"
    APPROVED = "approved", "Approved"
    CORRECTED = "corrected", "Corrected"  # a person replaced it with another account (see the newer decision)
    REJECTED = "rejected", "Rejected"


class Decision(models.Model):
    company = models.ForeignKey("transactions.Company", on_delete=models.CASCADE, related_name="+", db_index=False)
    transaction = models.ForeignKey(
        "transactions.Transaction", on_delete=models.CASCADE, related_name="decisions", db_index=False
    )
    method = models.CharField(max_length=15, choices=DecisionMethod.choices)
    account = models.ForeignKey(
        "transactions.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    confidence = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    alternatives = models.JSONField(default=list, blank=True)  # [{"account": code, "probability": "0.12"}, ...]
    explanation = models.JSONField(default=dict, blank=True)
    rule = models.ForeignKey(
        "rules.Rule", null=True, blank=True, on_delete=models.PROTECT, related_name="decisions", db_index=False
    )
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    model_version = models.ForeignKey(
        "mlmodels.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions",
        db_index=False,
    )
    status = models.CharField(max_length=15, choices=DecisionStatus.choices)
    is_current = models.BooleanField(default=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction"], condition=models.Q(is_current=True), name="decision_one_current_per_transaction"
            ),
            models.CheckConstraint(
                condition=models.Q(method="rule", rule__isnull=False, rule_version__isnull=False) | ~models.Q(method="rule"),
                name="decision_rule_names_rule_and_version",
            ),
        ]
        indexes = [
            models.Index(fields=["transaction", "-created_at"], name="decision_transaction_history"),
            models.Index(fields=["company", "status", "-created_at"], name="decision_company_status"),
            # Partial where the column is mostly empty: a rule decision has no model, a model decision no rule, and
            # only people's decisions have a reviewer. Every lookup names one (`rule_id = X`), so these serve it,
            # and classify writes ~100,000 rows a minute without entries for the empty ones (≈ 3 % of its time).
            models.Index(fields=["rule", "is_current"], condition=models.Q(rule__isnull=False),
                         name="decision_rule_current"),
            models.Index(fields=["model_version", "created_at"], condition=models.Q(model_version__isnull=False),
                         name="decision_model_recent"),
            models.Index(fields=["reviewer"], condition=models.Q(reviewer__isnull=False), name="decision_reviewer"),
            # post_propose's chunk walk in id order over the decisions it may book (ledger.services.postings).
            models.Index(fields=["company", "id"],
                         condition=models.Q(is_current=True, status__in=["approved", "auto_approved"]),
                         name="decision_company_decided"),
        ]

    def __str__(self) -> str:
        return f"{self.method} -> {self.account_id} ({self.status})"
