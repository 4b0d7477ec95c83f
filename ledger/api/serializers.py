from decimal import Decimal

from rest_framework import serializers

from ledger.models import JournalEntry, JournalLine
from ledger_site.api_docs import MAX_ID

MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}


class JournalLineSerializer(serializers.ModelSerializer):
    account = serializers.SlugRelatedField(slug_field="code", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    debit = serializers.DecimalField(**MONEY, read_only=True)
    credit = serializers.DecimalField(**MONEY, read_only=True)

    class Meta:
        model = JournalLine
        fields = ["account", "account_name", "debit", "credit"]
        read_only_fields = fields


class JournalEntrySerializer(serializers.ModelSerializer):
    lines = JournalLineSerializer(many=True, read_only=True)
    posted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = JournalEntry
        fields = ["id", "company", "date", "memo", "kind", "status", "source_transaction", "counter_transaction",
                  "reverses", "created_by", "created_at", "posted_by", "posted_at", "lines"]
        read_only_fields = fields


class LineInputSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=20, help_text="Account code of the company's chart.")
    debit = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, default=Decimal("0"))
    credit = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, default=Decimal("0"))


class JournalEntryCreateSerializer(serializers.Serializer):
    company = serializers.CharField(help_text="Company id or slug.")
    date = serializers.DateField()
    memo = serializers.CharField(max_length=500, allow_blank=True, default="")
    lines = LineInputSerializer(many=True, min_length=2, max_length=200)
    post = serializers.BooleanField(default=False, help_text="Post at once instead of proposing.")


class JournalPostSerializer(serializers.Serializer):
    company = serializers.CharField(help_text="Company id or slug.")
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=500, required=False,
        help_text="Entries to post (at most 500: a form-encoded list of more would exceed Django's field limit); "
                  "leave out to post every proposed entry of the company.",
    )


class JournalPostResultSerializer(serializers.Serializer):
    posted = serializers.IntegerField()


class JournalReverseSerializer(serializers.Serializer):
    date = serializers.DateField(required=False, help_text="Date of the reversal (default: the entry's date).")
