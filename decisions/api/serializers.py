from rest_framework import serializers

from decisions.models import Decision


class DecisionSerializer(serializers.ModelSerializer):
    account = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    confidence = serializers.DecimalField(
        max_digits=5, decimal_places=4, coerce_to_string=True, read_only=True, allow_null=True
    )

    class Meta:
        model = Decision
        fields = [
            "id", "transaction", "method", "account", "confidence", "alternatives", "explanation", "rule",
            "rule_version", "status", "is_current", "reviewer", "reviewed_at", "created_at",
        ]
        read_only_fields = fields


class CategorizeSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=20, help_text="Code of a category account of the company's chart.")
