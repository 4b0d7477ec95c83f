import json

from rest_framework import serializers

from jobs.api.serializers import JobSerializer
from transactions.models import ApiToken, AuditEvent, ImportBatch, Transaction


class ImportSubmitSerializer(serializers.Serializer):
    """Input of POST /api/imports/: one bank file for one bank account."""

    company = serializers.CharField(help_text="Company id or slug.")
    bank_account = serializers.CharField(help_text="Code of the bank account in the company's chart, e.g. 1000.")
    file = serializers.FileField()
    labeled = serializers.BooleanField(default=False, help_text="The file has an `account` column (history).")
    date_format = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="strptime format when the dates are ambiguous."
    )
    layout = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="An explicit layout as JSON (see the preview)."
    )

    def validate_layout(self, value: str) -> dict | None:
        if not value:
            return None
        try:
            layout = json.loads(value)
        except json.JSONDecodeError as error:
            raise serializers.ValidationError(f"Not valid JSON: {error.msg} at position {error.pos}.") from None
        if not isinstance(layout, dict):
            raise serializers.ValidationError("Expected a JSON object.")
        return layout


class ImportBatchSerializer(serializers.ModelSerializer):
    import_id = serializers.UUIDField(source="id", read_only=True)
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    bank_account = serializers.SlugRelatedField(slug_field="code", read_only=True)
    job = JobSerializer(read_only=True)

    class Meta:
        model = ImportBatch
        fields = [
            "import_id", "company", "bank_account", "original_filename", "size_bytes", "sha256", "labeled",
            "status", "rows_done", "imported_count", "duplicate_count", "rejected_count", "created_at",
            "finished_at", "job",
        ]
        read_only_fields = fields


class TransactionSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    bank_account = serializers.SlugRelatedField(slug_field="code", read_only=True)
    account = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    import_id = serializers.UUIDField(source="import_batch_id", read_only=True, allow_null=True)
    # Money as a string: JSON numbers would turn it into a float on the client.
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True, read_only=True)

    class Meta:
        model = Transaction
        fields = [
            "id", "company", "bank_account", "date", "description", "counterparty", "amount", "currency",
            "external_id", "status", "account", "import_id", "line", "created_at",
        ]
        read_only_fields = fields


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once: store it now, it cannot be read again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]


class AuditEventSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "company", "actor_label", "action", "object_type", "object_id", "before", "after"]
        read_only_fields = fields
