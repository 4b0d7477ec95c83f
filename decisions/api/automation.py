"""GET /api/automation/: the automation dashboard's numbers (see `decisions.stats` for every definition).

Thin: the query is validated by a serializer, the companies come from the tenancy selectors, the numbers from
`automation_stats`. The response serializers below only document the shape for the OpenAPI schema.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.stats import automation_stats
from ledger_site.api_docs import with_errors
from transactions.models import Company, Role
from transactions.selectors import company_get_for_user


class AutomationQuerySerializer(serializers.Serializer):
    company = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text="Company id or slug; all of your companies when absent (a superuser's: every company).")
    days = serializers.IntegerField(
        required=False, default=30, min_value=1, max_value=366,
        help_text="Days of the daily series and of the reviewer throughput, today included.")


class ByMethodSerializer(serializers.Serializer):
    rule = serializers.IntegerField()
    ml = serializers.IntegerField(help_text="Auto-approved by the classifier.")
    ml_suggestion = serializers.IntegerField(help_text="Suggested by the classifier, for a person to confirm.")
    llm = serializers.IntegerField()
    review = serializers.IntegerField(help_text="Review placeholders: nothing could suggest an account.")
    human = serializers.IntegerField(help_text="A person gave the account (an answered placeholder or a correction).")


class AgeBucketSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class BacklogSerializer(serializers.Serializer):
    open = serializers.IntegerField(help_text="Current decisions that need review.")
    oldest_created_at = serializers.DateTimeField(allow_null=True)
    oldest_age_hours = serializers.FloatField(allow_null=True)
    median_age_hours = serializers.FloatField(allow_null=True)
    age_buckets = AgeBucketSerializer(many=True)


class ThroughputSerializer(serializers.Serializer):
    reviews = serializers.IntegerField(help_text="Approvals and corrections by people in the window.")
    days = serializers.IntegerField()
    per_day = serializers.FloatField()


class AgreementSerializer(serializers.Serializer):
    reviewed = serializers.IntegerField(help_text="Classifier answers a reviewer acted on (all time).")
    agreed = serializers.IntegerField()
    corrected = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="agreed / reviewed; null when nothing was reviewed.")


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    decided = serializers.IntegerField(help_text="Transactions first decided that day.")
    automated = serializers.IntegerField(help_text="Of those, approved by a rule or the classifier alone.")
    automation_rate = serializers.FloatField(allow_null=True)
    reviews = serializers.IntegerField()


class AutomationBlockSerializer(serializers.Serializer):
    decided = serializers.IntegerField(help_text="Transactions with a current decision.")
    automated = serializers.IntegerField(help_text="Of those, decided without a person.")
    automation_rate = serializers.FloatField(allow_null=True, help_text="automated / decided, 0..1.")
    by_method = ByMethodSerializer()
    backlog = BacklogSerializer()
    throughput = ThroughputSerializer()
    agreement = AgreementSerializer()
    daily = DaySerializer(many=True)


class CompanyAutomationSerializer(AutomationBlockSerializer):
    company = serializers.CharField(help_text="The company's slug.")
    name = serializers.CharField()


class AutomationSerializer(serializers.Serializer):
    window_days = serializers.IntegerField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    generated_at = serializers.DateTimeField()
    overall = AutomationBlockSerializer()
    companies = CompanyAutomationSerializer(many=True)


class AutomationApi(APIView):
    @extend_schema(
        parameters=[AutomationQuerySerializer],
        responses=with_errors({200: AutomationSerializer}, 400, 401, 404),
        summary="Automation per company and overall: rate, share by method, backlog and its age, reviewer "
                "throughput, agreement with the model, and a daily series",
    )
    def get(self, request: Request) -> Response:
        query = AutomationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        reference = query.validated_data.get("company")
        if reference:
            companies = [company_get_for_user(user=request.user, reference=reference, role=Role.ACCOUNTANT)]
        else:
            companies = list(Company.objects.for_user(request.user))
        return Response(automation_stats(companies=companies, days=query.validated_data["days"]))
