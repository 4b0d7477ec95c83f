from rest_framework import serializers

from ledger_site.api_docs import MAX_ID
from rules.models import Combine, Rule, RuleStatus, RuleVersion


class ConditionSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="counterparty | description | amount | direction | bank_account")
    op = serializers.CharField(
        help_text="equals | contains | starts_with | regex (text); eq | lt | gt | between (amount); in | out "
        "(direction); equals (bank_account)"
    )
    value = serializers.JSONField(
        required=False, help_text='Text; an amount as a decimal string ("12.50"); ["10.00", "20.00"] for between.'
    )


class RuleInputSerializer(serializers.Serializer):
    """The shape of a rule; the rules service checks the meaning (conditions, regexes, the chart)."""

    name = serializers.CharField(max_length=200)
    conditions = ConditionSerializer(many=True)
    combine = serializers.ChoiceField(choices=Combine.choices, default=Combine.ALL)
    account_code = serializers.CharField(max_length=20)
    priority = serializers.IntegerField(default=100, min_value=-1_000_000, max_value=1_000_000)


class RuleCreateSerializer(RuleInputSerializer):
    company = serializers.CharField(help_text="Company id or slug.")
    overrides = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                         help_text="Id of the global rule this one replaces.")
    activate = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="Default: active when an admin creates it, proposed otherwise.",
    )


class RuleUpdateSerializer(RuleInputSerializer):
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, partial=True, **kwargs)


class RuleTestSerializer(RuleInputSerializer):
    company = serializers.CharField(help_text="Company id or slug.")
    name = serializers.CharField(max_length=200, required=False, default="(test)")


class RuleActionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RuleBulkSerializer(RuleActionSerializer):
    action = serializers.ChoiceField(choices=["approve", "reject", "retire"])
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=500)


class RuleVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = RuleVersion
        fields = ["version", "snapshot", "created_by", "created_at"]
        read_only_fields = fields


class RuleSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    confidence = serializers.DecimalField(
        max_digits=5, decimal_places=4, coerce_to_string=True, read_only=True, allow_null=True
    )
    precision = serializers.DecimalField(
        max_digits=5, decimal_places=4, coerce_to_string=True, read_only=True, allow_null=True
    )
    observed_precision = serializers.FloatField(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=RuleStatus.choices, read_only=True)

    class Meta:
        model = Rule
        fields = [
            "id", "company", "overrides", "name", "conditions", "combine", "account_code", "priority", "status",
            "source", "version", "confidence", "support", "precision", "backtest", "hit_count", "corrected_count",
            "observed_precision", "last_hit_at", "flagged_at", "flag_reason", "created_by", "created_at",
            "approved_by", "approved_at", "updated_at",
        ]
        read_only_fields = fields


class RuleDetailSerializer(RuleSerializer):
    versions = RuleVersionSerializer(many=True, read_only=True)

    class Meta(RuleSerializer.Meta):
        fields = [*RuleSerializer.Meta.fields, "versions"]
        read_only_fields = fields


class BacktestSerializer(serializers.Serializer):
    would_match = serializers.IntegerField()
    conflicts = serializers.IntegerField(help_text="Matches that are categorized to another account now.")
    uncategorized = serializers.IntegerField(help_text="Matches not categorized yet.")
    scanned = serializers.IntegerField()
    truncated = serializers.BooleanField(help_text="Only the most recent RULE_TEST_MAX_TRANSACTIONS were scanned.")
    conflict_examples = serializers.ListField(child=serializers.DictField())
    match_examples = serializers.ListField(child=serializers.DictField())
