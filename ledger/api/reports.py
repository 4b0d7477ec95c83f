"""Reports and journal exports over the API: trial balance, profit & loss, and the journal as a file.

Thin: the query is parsed by a serializer (formats: 400 with the field), the company is decided by
`company_get_for_user` (members of any role; others 404), and the period and format rules live in the services
(LedgerInvalid: 400). The export streams: it is read from the database while it is sent.
"""
from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger.services.exports import EXPORT_FORMATS, journal_export
from ledger.services.reports import profit_and_loss, trial_balance
from ledger_site.api_docs import with_errors
from transactions.models import Role
from transactions.selectors import company_get_for_user

MONEY = {"max_digits": 20, "decimal_places": 2, "read_only": True}


# ------------------------------------------------------------------------------------------ queries


class ReportQuerySerializer(serializers.Serializer):
    company = serializers.CharField(help_text="Company id or slug.")
    date_from = serializers.DateField(required=False, help_text="First day included (YYYY-MM-DD).")
    date_to = serializers.DateField(required=False, help_text="Last day included (YYYY-MM-DD); default today.")


class TrialBalanceQuerySerializer(ReportQuerySerializer):
    date_from = serializers.DateField(
        required=False,
        help_text="First day included (YYYY-MM-DD). Without it: every booked entry up to date_to (balances as "
        "of date_to); with it: the period's movements only.",
    )


class ProfitAndLossQuerySerializer(ReportQuerySerializer):
    date_from = serializers.DateField(
        required=False, help_text="First day included (YYYY-MM-DD); default January 1 of date_to's year."
    )


class ExportQuerySerializer(ReportQuerySerializer):
    format = serializers.ChoiceField(choices=list(EXPORT_FORMATS), default="csv",
                                     help_text="csv (spreadsheets), hledger (a journal) or beancount.")
    date_from = serializers.DateField(required=False, help_text="First day included (YYYY-MM-DD); default: all.")
    date_to = serializers.DateField(required=False, help_text="Last day included (YYYY-MM-DD); default: all.")


# ------------------------------------------------------------------------------------------ answers


class TrialBalanceAccountSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    type = serializers.CharField(read_only=True)
    debit = serializers.DecimalField(**MONEY)
    credit = serializers.DecimalField(**MONEY)
    balance = serializers.DecimalField(**MONEY, help_text="Debits - credits: positive is a debit balance.")


class TrialBalanceSerializer(serializers.Serializer):
    company = serializers.SlugField(source="company.slug", read_only=True)
    date_from = serializers.DateField(read_only=True, allow_null=True)
    date_to = serializers.DateField(read_only=True)
    currency = serializers.CharField(read_only=True, help_text="The books' currency (LEDGER_CURRENCY).")
    accounts = TrialBalanceAccountSerializer(many=True, read_only=True)
    total_debit = serializers.DecimalField(**MONEY)
    total_credit = serializers.DecimalField(**MONEY)
    is_balanced = serializers.BooleanField(read_only=True, help_text="Total debits equal total credits.")


class ProfitAndLossLineSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    amount = serializers.DecimalField(**MONEY, help_text="Income earned / expense incurred (a refund: negative).")


class ProfitAndLossSerializer(serializers.Serializer):
    company = serializers.SlugField(source="company.slug", read_only=True)
    date_from = serializers.DateField(read_only=True)
    date_to = serializers.DateField(read_only=True)
    currency = serializers.CharField(read_only=True, help_text="The books' currency (LEDGER_CURRENCY).")
    income = ProfitAndLossLineSerializer(many=True, read_only=True)
    expenses = ProfitAndLossLineSerializer(many=True, read_only=True)
    total_income = serializers.DecimalField(**MONEY)
    total_expenses = serializers.DecimalField(**MONEY)
    net_income = serializers.DecimalField(**MONEY, help_text="total_income - total_expenses; negative: a loss.")


# ------------------------------------------------------------------------------------------ views


class TrialBalanceApi(APIView):
    @extend_schema(
        parameters=[TrialBalanceQuerySerializer],
        responses=with_errors({200: TrialBalanceSerializer}, 400, 401, 404),
        summary="Trial balance: debits, credits and balance per account of the booked entries (members)",
    )
    def get(self, request: Request) -> Response:
        query = TrialBalanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        company = company_get_for_user(user=request.user, reference=query.validated_data["company"],
                                       role=Role.ACCOUNTANT)
        report = trial_balance(company=company, date_to=query.validated_data.get("date_to"),
                               date_from=query.validated_data.get("date_from"))
        return Response(TrialBalanceSerializer(report).data)


class ProfitAndLossApi(APIView):
    @extend_schema(
        parameters=[ProfitAndLossQuerySerializer],
        responses=with_errors({200: ProfitAndLossSerializer}, 400, 401, 404),
        summary="Profit and loss: income and expense accounts over the period and the net income (members)",
    )
    def get(self, request: Request) -> Response:
        query = ProfitAndLossQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        company = company_get_for_user(user=request.user, reference=query.validated_data["company"],
                                       role=Role.ACCOUNTANT)
        report = profit_and_loss(company=company, date_from=query.validated_data.get("date_from"),
                                 date_to=query.validated_data.get("date_to"))
        return Response(ProfitAndLossSerializer(report).data)


class JsonErrorsOnly(BaseContentNegotiation):
    """The export chooses its content type from `format`, so the client's Accept header is not consulted, and
    DRF's own `?format=` renderer override (which would answer 404 for "csv") stays out of the way; errors are
    JSON as everywhere."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0]

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class JournalExportApi(APIView):
    content_negotiation_class = JsonErrorsOnly

    @extend_schema(
        parameters=[ExportQuerySerializer],
        responses=with_errors({
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="format=csv"),
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="format=hledger or beancount"),
        }, 400, 401, 404),
        summary="The booked journal as a file: CSV, an hledger journal or a beancount ledger (members); streamed",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        company = company_get_for_user(user=request.user, reference=query.validated_data["company"],
                                       role=Role.ACCOUNTANT)
        export = journal_export(company=company, export_format=query.validated_data["format"],
                                date_from=query.validated_data.get("date_from"),
                                date_to=query.validated_data.get("date_to"), user=request.user)
        response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
