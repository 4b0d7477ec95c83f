from rest_framework import serializers

from mlmodels.models import ModelVersion


class ModelVersionSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    scope = serializers.CharField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    activated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id", "company", "scope", "number", "algorithm", "params", "training_summary", "metrics", "sha256",
            "is_active", "activation_note", "created_by", "created_at", "activated_by", "activated_at",
        ]
        read_only_fields = fields


class TrainSerializer(serializers.Serializer):
    company = serializers.CharField(help_text="Company id or slug.")


class ModelVersionDetailSerializer(ModelVersionSerializer):
    drift = serializers.SerializerMethodField(
        help_text="Live behaviour over the last ML_DRIFT_WINDOW_DAYS against the training metrics; `drifting` "
        "is true when the automation rate or the reviewers' agreement fell materially below them."
    )

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "drift"]
        read_only_fields = fields

    def get_drift(self, version) -> dict:  # type: ignore[no-untyped-def]
        from mlmodels.selectors import model_drift
        from transactions.models import Company

        user = self.context["request"].user
        company_ids = None
        if version.company_id is None and not user.is_superuser:
            company_ids = list(Company.objects.for_user(user).values_list("id", flat=True))
        return model_drift(version=version, company_ids=company_ids)
