"""Reconciliation through the API: start a run (the `reconcile` job), read runs and their matches, accept or reject a
suggested match, unreconcile. Thin: parsing here, rules in ledger.services.reconciliation."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.api.serializers import JobSerializer
from ledger.models import BankMatch, JournalEntry, Reconciliation
from ledger.reconciliation_selectors import (
    bank_match_get_for_user,
    reconciliation_get_for_user,
    reconciliation_matches,
    reconciliations_for_company,
)
from ledger.services.reconciliation import (
    DEFAULT_WINDOW_DAYS,
    MAX_WINDOW_DAYS,
    bank_match_accept,
    bank_match_reject,
    reconciliation_start,
    reconciliation_unreconcile,
)
from ledger_site.api_docs import MAX_ID, with_errors
from transactions.models import Role, Transaction
from transactions.selectors import company_get_for_user

MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}


# ----------------------------------------------------------------------------------------- serializers


class ReconcileRunSerializer(serializers.Serializer):
    company = serializers.CharField(help_text="Company id or slug.")
    bank_account = serializers.CharField(max_length=20, help_text="Code of one of the company's bank accounts.")
    date_from = serializers.DateField(help_text="First day of the period.")
    date_to = serializers.DateField(help_text="Last day of the period (not before date_from).")
    closing_balance = serializers.DecimalField(
        **MONEY, required=False, allow_null=True,
        help_text="The statement's closing balance, when the file has no balance column (the file's value wins).")
    opening_balance = serializers.DecimalField(
        **MONEY, required=False, allow_null=True,
        help_text="The statement's opening balance (default: from the file's balance column, else the books).")
    window_days = serializers.IntegerField(
        min_value=0, max_value=MAX_WINDOW_DAYS, default=DEFAULT_WINDOW_DAYS,
        help_text="How many days a bank row and a ledger entry may lie apart to be suggested as a match.")


class ReconcileJobSerializer(JobSerializer):
    reconciliation_id = serializers.IntegerField(source="reconciliation.id", read_only=True)  # after the job's fields


class ReconciliationSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    bank_account = serializers.CharField(source="bank_account.code", read_only=True)
    bank_account_name = serializers.CharField(source="bank_account.name", read_only=True)
    opening_balance = serializers.DecimalField(**MONEY, read_only=True, allow_null=True)
    statement_closing_balance = serializers.DecimalField(**MONEY, read_only=True, allow_null=True)
    ledger_movements = serializers.DecimalField(**MONEY, read_only=True, allow_null=True)
    difference = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True,
        help_text="opening + ledger movements - statement closing; null while running or without a closing balance.")
    job_id = serializers.UUIDField(read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    counts = serializers.SerializerMethodField()

    class Meta:
        model = Reconciliation
        fields = ["id", "company", "bank_account", "bank_account_name", "period_start", "period_end", "status",
                  "opening_balance", "statement_closing_balance", "closing_balance_source", "ledger_movements",
                  "difference", "counts", "job_id", "created_by", "created_at"]
        read_only_fields = fields

    def get_counts(self, reconciliation: Reconciliation) -> dict[str, int]:
        return dict(reconciliation.summary.get("counts", {}))


class MatchTransactionSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**MONEY, read_only=True)

    class Meta:
        model = Transaction
        fields = ["id", "date", "description", "amount", "reconciled_at"]
        read_only_fields = fields


class MatchEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = JournalEntry
        fields = ["id", "date", "memo", "kind", "status"]
        read_only_fields = fields


class BankMatchSerializer(serializers.ModelSerializer):
    score = serializers.DecimalField(max_digits=4, decimal_places=3, coerce_to_string=True, read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True,
                                    help_text='Why the pair was suggested, e.g. "same amount -750.00", "2 days apart".')
    transaction = MatchTransactionSerializer(read_only=True)
    entry = MatchEntrySerializer(read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = BankMatch
        fields = ["id", "status", "score", "reasons", "transaction", "entry", "reconciliation", "decided_by",
                  "decided_at"]
        read_only_fields = fields


class ReconciliationDetailSerializer(ReconciliationSerializer):
    summary = serializers.JSONField(
        read_only=True,
        help_text="inputs, window_days, opening_balance_source, ledger_opening_balance, statement {rows, total}, "
                  "ledger {entries, movements, closing}, counts, unmatched_statement[] and unmatched_ledger[] "
                  "(at most 200 each) with their totals, explained, problems[] {code, message, blocking}.")
    matches = serializers.SerializerMethodField()

    class Meta(ReconciliationSerializer.Meta):
        fields = [*ReconciliationSerializer.Meta.fields, "summary", "matches"]
        read_only_fields = fields

    @extend_schema_field(BankMatchSerializer(many=True))
    def get_matches(self, reconciliation: Reconciliation) -> list[dict]:
        return BankMatchSerializer(reconciliation_matches(reconciliation=reconciliation), many=True).data


class UnreconcileSerializer(serializers.Serializer):
    transaction = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False,
        help_text="Only this bank row (default: every row of the reconciliation's account and period).")


class UnreconcileResultSerializer(serializers.Serializer):
    reconciliation_id = serializers.IntegerField()
    unreconciled = serializers.IntegerField(help_text="How many bank rows lost their reconciled mark.")


# ----------------------------------------------------------------------------------------- views


class ReconcileRunApi(APIView):
    """The original design's endpoint name: compare a bank account's statement with the books for a period."""

    @extend_schema(
        request=ReconcileRunSerializer,
        responses=with_errors({202: ReconcileJobSerializer}, 400, 401, 403, 404),
        summary="Reconcile a bank account for a period (reviewers); 202 with the job and the reconciliation id",
    )
    def post(self, request: Request) -> Response:
        form = ReconcileRunSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        company = company_get_for_user(user=request.user, reference=data["company"], role=Role.REVIEWER)
        reconciliation = reconciliation_start(
            company=company, bank_account_code=data["bank_account"], date_from=data["date_from"],
            date_to=data["date_to"], closing_balance=data.get("closing_balance"),
            opening_balance=data.get("opening_balance"), window_days=data["window_days"], user=request.user,
        )
        return Response(ReconcileJobSerializer(reconciliation.job).data, status=status.HTTP_202_ACCEPTED)


class ReconciliationPage(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema(
    summary="The company's reconciliation runs, newest first",
    parameters=[OpenApiParameter("company", str, OpenApiParameter.QUERY, required=True,
                                 description="Company id or slug.")],
    responses=with_errors({200: ReconciliationSerializer(many=True)}, 400, 401, 404),
)
class ReconciliationListApi(ListAPIView):
    serializer_class = ReconciliationSerializer
    pagination_class = ReconciliationPage
    filter_backends: list = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        company = company_get_for_user(user=self.request.user, reference=self.request.query_params.get("company", ""))
        return reconciliations_for_company(company=company)


class ReconciliationDetailApi(APIView):
    @extend_schema(responses=with_errors({200: ReconciliationDetailSerializer}, 401, 404),
                   summary="One reconciliation: the figures, the unmatched items of both sides and the matches")
    def get(self, request: Request, reconciliation_id: int) -> Response:
        reconciliation = reconciliation_get_for_user(user=request.user, reconciliation_id=reconciliation_id)
        return Response(ReconciliationDetailSerializer(reconciliation).data)


class ReconciliationUnreconcileApi(APIView):
    @extend_schema(
        request=UnreconcileSerializer,
        responses=with_errors({200: UnreconcileResultSerializer}, 400, 401, 403, 404, 409),
        summary="Clear the reconciled mark of the run's bank rows, or of one of them (reviewers; audited)",
    )
    def post(self, request: Request, reconciliation_id: int) -> Response:
        form = UnreconcileSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        reconciliation = reconciliation_get_for_user(user=request.user, reconciliation_id=reconciliation_id,
                                                     role=Role.REVIEWER)
        count = reconciliation_unreconcile(reconciliation=reconciliation, user=request.user,
                                           transaction_id=form.validated_data.get("transaction"))
        return Response({"reconciliation_id": reconciliation.pk, "unreconciled": count})


class BankMatchAcceptApi(APIView):
    @extend_schema(request=None, responses=with_errors({200: BankMatchSerializer}, 401, 403, 404, 409),
                   summary="Accept a suggested match (reviewers): the bank row is booked by the entry")
    def post(self, request: Request, match_id: int) -> Response:
        match = bank_match_get_for_user(user=request.user, match_id=match_id, role=Role.REVIEWER)
        return Response(BankMatchSerializer(bank_match_accept(match=match, user=request.user)).data)


class BankMatchRejectApi(APIView):
    @extend_schema(request=None, responses=with_errors({200: BankMatchSerializer}, 401, 403, 404, 409),
                   summary="Reject a suggested match (reviewers): the pair is not suggested again")
    def post(self, request: Request, match_id: int) -> Response:
        match = bank_match_get_for_user(user=request.user, match_id=match_id, role=Role.REVIEWER)
        return Response(BankMatchSerializer(bank_match_reject(match=match, user=request.user)).data)
