"""Splits through the API: read a transaction's split, split it (reviewers). The rules of a split are in
ledger.services.splits; this module only shapes requests and answers."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.selectors import transaction_get_for_user
from ledger.api.serializers import JournalLineSerializer
from ledger.models import JournalEntry, SplitLine
from ledger.services.splits import MAX_SPLIT_PARTS, split_parts_parse, transaction_split, transaction_split_state
from ledger_site.api_docs import MAX_ID, with_errors
from transactions.models import Role

MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}


class SplitPartInputSerializer(serializers.Serializer):
    """The shape of a part; what the numbers mean (and whether they add up) is the splits service's business."""

    account = serializers.CharField(max_length=20, help_text="Code of a category account of the company's chart.")
    amount = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=40,
        help_text='A fixed amount in cents, signed like the transaction ("-12.50" for money out; the sign may be '
                  "left out). Give an amount or a percent; neither: this part takes the remainder (one part at most).",
    )
    percent = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=40,
        help_text='A share of what the fixed amounts leave (of the whole amount when there are none), e.g. "40"; '
                  "up to 4 decimals. Without a remainder part the percentages add up to 100.",
    )
    memo = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class TransactionSplitInputSerializer(serializers.Serializer):
    parts = SplitPartInputSerializer(many=True, max_length=MAX_SPLIT_PARTS,
                                     help_text=f"2 to {MAX_SPLIT_PARTS} parts, each account once, in order.")
    expected_decision_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID,
        help_text="The decision you were looking at (as in the review queue): if someone has decided the "
                  "transaction since, the answer is 409 and nothing changes.",
    )


class SplitPartSerializer(serializers.ModelSerializer):
    account = serializers.SlugRelatedField(slug_field="code", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    amount = serializers.DecimalField(**MONEY, read_only=True, help_text="The part's share, signed like the "
                                                                         "transaction; the parts add up to its amount.")
    percent = serializers.DecimalField(max_digits=7, decimal_places=4, coerce_to_string=True, read_only=True,
                                       allow_null=True, help_text="As given, for a part split by percentage.")

    class Meta:
        model = SplitLine
        fields = ["position", "account", "account_name", "amount", "percent", "memo"]
        read_only_fields = fields


class SplitEntrySerializer(serializers.ModelSerializer):
    lines = JournalLineSerializer(many=True, read_only=True)

    class Meta:
        model = JournalEntry
        fields = ["id", "status", "date", "lines"]
        read_only_fields = fields


class TransactionSplitSerializer(serializers.Serializer):
    transaction = serializers.IntegerField(source="transaction.pk", read_only=True)
    amount = serializers.DecimalField(source="transaction.amount", **MONEY, read_only=True)
    decision = serializers.IntegerField(source="decision.pk", read_only=True, allow_null=True,
                                        help_text="The current decision (a split records the largest part's "
                                                  "account as the person's decision).")
    parts = SplitPartSerializer(many=True, read_only=True, help_text="Empty when the transaction is not split.")
    entry = SplitEntrySerializer(read_only=True, allow_null=True,
                                 help_text="The live journal entry: one bank line for the whole amount, one line "
                                           "per part.")


class TransactionSplitApi(APIView):
    @extend_schema(
        responses=with_errors({200: TransactionSplitSerializer}, 401, 404),
        summary="A transaction's split parts (none if it is not split) and its journal entry",
        operation_id="transactions_split_read",
    )
    def get(self, request: Request, transaction_id: int) -> Response:
        txn = transaction_get_for_user(user=request.user, transaction_id=transaction_id)
        return Response(TransactionSplitSerializer(transaction_split_state(transaction=txn)).data)

    @extend_schema(
        request=TransactionSplitInputSerializer,
        responses=with_errors({200: TransactionSplitSerializer}, 400, 401, 403, 404, 409),
        summary="Split a transaction across accounts (reviewers): fixed amounts, percentages, one remainder part; "
                "409 once posted or when someone decided it meanwhile",
        operation_id="transactions_split",
    )
    def post(self, request: Request, transaction_id: int) -> Response:
        form = TransactionSplitInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        txn = transaction_get_for_user(user=request.user, transaction_id=transaction_id, role=Role.REVIEWER)
        transaction_split(transaction=txn, parts=split_parts_parse(form.validated_data["parts"]), user=request.user,
                          expected_decision_id=form.validated_data.get("expected_decision_id"))
        return Response(TransactionSplitSerializer(transaction_split_state(transaction=txn)).data)
