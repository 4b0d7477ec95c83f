"""Vendor rules: conditions on bank lines that decide their account (the first stage of the decision engine).

A rule belongs to a company, or to nobody (a *global* rule every company uses). A company replaces a global
rule for itself with a company rule that `overrides` it. Conditions are stored as JSON in the engine's terms
(`rules.codec` converts); `version` counts the changes that alter what a rule matches or decides, and every
version is kept in `RuleVersion`, so a decision that names (rule, version) can always be explained.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class RuleStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"  # waiting for an admin; never applied
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"  # no longer applied; kept for history
    REJECTED = "rejected", "Rejected"  # a proposal an admin turned down; not proposed again without new evidence


class RuleSource(models.TextChoices):
    MANUAL = "manual", "Manual"
    AUTO_PROMOTED = "auto_promoted", "Auto-promoted"
    IMPORTED = "imported", "Imported"


class Combine(models.TextChoices):
    ALL = "all", "All conditions"
    ANY = "any", "Any condition"


class RuleQuerySet(models.QuerySet["Rule"]):
    def active(self) -> RuleQuerySet:
        return self.filter(status=RuleStatus.ACTIVE)

    def proposed(self) -> RuleQuerySet:
        return self.filter(status=RuleStatus.PROPOSED)


class Rule(models.Model):
    company = models.ForeignKey(
        "transactions.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="rules",
        help_text="Empty for a global rule, used by every company that has not overridden it.",
    )
    overrides = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="overridden_by",
        help_text="The global rule this company rule replaces for its company.",
    )
    name = models.CharField(max_length=200)
    conditions = models.JSONField()  # [{"field": ..., "op": ..., "value": ...}, ...] - see rules.codec
    combine = models.CharField(max_length=3, choices=Combine.choices, default=Combine.ALL)
    account_code = models.CharField(max_length=20)
    priority = models.IntegerField(default=100)  # lower is tried first
    status = models.CharField(max_length=10, choices=RuleStatus.choices, default=RuleStatus.PROPOSED)
    source = models.CharField(max_length=15, choices=RuleSource.choices, default=RuleSource.MANUAL)
    version = models.PositiveIntegerField(default=1)

    # Evidence for promoted rules: support = labeled transactions of the vendor, precision = share of them
    # in the majority account; the backtest says what the rule would do to history.
    confidence = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    support = models.PositiveIntegerField(null=True, blank=True)
    precision = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    promotion_key = models.CharField(max_length=300, blank=True)  # "out:HAMILTON COFFEE" for promoted rules
    backtest = models.JSONField(null=True, blank=True)

    # What happened after approval: decisions made, and how many of them people later corrected.
    hit_count = models.PositiveBigIntegerField(default=0)
    corrected_count = models.PositiveIntegerField(default=0)
    last_hit_at = models.DateTimeField(null=True, blank=True)
    flagged_at = models.DateTimeField(null=True, blank=True)  # precision fell below the bar: needs a look
    flag_reason = models.CharField(max_length=300, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "name"], condition=models.Q(company__isnull=False), name="rule_name_unique_per_company"
            ),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(company__isnull=True), name="rule_name_unique_global"
            ),
            models.UniqueConstraint(
                fields=["company", "overrides"], condition=models.Q(overrides__isnull=False),
                name="rule_one_override_per_company",
            ),
            # One row per promoted vendor: promotion updates it instead of proposing it twice.
            models.UniqueConstraint(
                fields=["company", "promotion_key"], condition=~models.Q(promotion_key=""),
                name="rule_promotion_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(overrides__isnull=True) | models.Q(company__isnull=False),
                name="rule_override_needs_company",
            ),
        ]
        indexes = [models.Index(fields=["company", "status", "priority"], name="rule_company_status")]

    def __str__(self) -> str:
        return f"{self.name} -> {self.account_code} ({self.status})"

    @property
    def is_global(self) -> bool:
        return self.company_id is None

    @property
    def observed_precision(self) -> float | None:
        """Share of this rule's decisions nobody corrected (None before it decided anything)."""
        if not self.hit_count:
            return None
        return (self.hit_count - self.corrected_count) / self.hit_count


class RuleVersion(models.Model):
    """What a rule looked like at one version: the answer to "which rule decided this, and how?"."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    snapshot = models.JSONField()  # name, conditions, combine, account_code, priority
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="rule_version_unique")]
