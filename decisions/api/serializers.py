from rest_framework import serializers

from ledger_site.api_docs import MAX_ID
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


class ReviewTransactionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    description = serializers.CharField()
    counterparty = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()


class ReviewItemSerializer(serializers.ModelSerializer):
    """An open decision as the queue shows it: the decision plus its bank line."""

    transaction = ReviewTransactionSerializer(read_only=True)
    account = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    confidence = serializers.DecimalField(
        max_digits=5, decimal_places=4, coerce_to_string=True, read_only=True, allow_null=True
    )

    class Meta:
        model = Decision
        fields = [
            "id", "transaction", "method", "account", "confidence", "alternatives", "explanation", "status",
            "created_at",
        ]
        read_only_fields = fields


class ReviewGroupSerializer(serializers.Serializer):
    vendor = serializers.CharField(help_text="The normalized vendor (what vendor rules compare against).")
    count = serializers.IntegerField(help_text="Open items of the group (all of them, shown or not).")
    decision_ids = serializers.ListField(child=serializers.IntegerField(),
                                         help_text="Every open item of the group, in queue order.")
    suggested_count = serializers.IntegerField(help_text="Items with a suggestion (what approving the group approves).")
    shared_account = serializers.SerializerMethodField(help_text="The account every item suggests, if they agree.")
    uncertainty = serializers.DecimalField(max_digits=6, decimal_places=4, coerce_to_string=True,
                                           help_text="Mean of 1 - confidence; items without a suggestion count 1.")
    total_amount = serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=True,
                                            help_text="Sum of the absolute amounts.")
    items = ReviewItemSerializer(many=True, help_text="The first items of the group (at most 50).")

    def get_shared_account(self, group) -> str | None:  # type: ignore[no-untyped-def]
        account = group.shared_account
        return account.code if account is not None else None


class ReviewQueueSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Vendor groups matching the filters.")
    items = serializers.IntegerField(help_text="Open items matching the filters.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ReviewGroupSerializer(many=True)


class DecisionCorrectSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=20, help_text="Code of a category account of the company's chart.")
    remember_as_rule = serializers.BooleanField(
        default=False,
        help_text="Always categorize like this: also create a rule for the vendor (active for admins, proposed "
                  "for reviewers).",
    )


class DecisionBulkApproveSerializer(serializers.Serializer):
    # At most 500, as for rules: a form-encoded list of more would exceed DATA_UPLOAD_MAX_NUMBER_FIELDS.
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=500,
                                help_text="Ids of open decisions to approve (their suggested accounts), at most 500 "
                                          "per request: approve a bigger group in chunks of its decision_ids.")


class DecisionBulkApproveResultSerializer(serializers.Serializer):
    approved = serializers.IntegerField()
    skipped = serializers.DictField(child=serializers.IntegerField(),
                                    help_text="Not approved, by reason: already_decided, no_suggestion.")
    approved_ids = serializers.ListField(child=serializers.IntegerField())
