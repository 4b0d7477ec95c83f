"""Rules over HTTP: one thin view per operation, each calling the rules services."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from django.http import HttpResponse
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger_site.api_docs import with_errors
from rules.api.serializers import (
    BacktestSerializer,
    RuleActionSerializer,
    RuleBulkSerializer,
    RuleCreateSerializer,
    RuleDetailSerializer,
    RuleSerializer,
    RuleTestSerializer,
    RuleUpdateSerializer,
)
from rules.models import RuleSource, RuleStatus
from rules.selectors import rule_get_for_user, rule_list_for_company
from rules.services.backtest import rule_test
from rules.services.lifecycle import rule_approve, rule_create, rule_reject, rule_retire, rule_update
from rules.services.transfer import rules_export_yaml
from transactions.models import Role
from transactions.selectors import company_get_for_user

COMPANY_PARAM = OpenApiParameter("company", str, OpenApiParameter.QUERY, required=True, description="Company id or slug.")
ACTIONS = {"approve": rule_approve, "reject": rule_reject, "retire": rule_retire}


class RulePage(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


@extend_schema(
    summary="The company's rules and the global rules, by priority",
    responses=with_errors({200: RuleSerializer(many=True)}, 400, 401, 403, 404),
    parameters=[
        COMPANY_PARAM,
        OpenApiParameter("status", str, enum=RuleStatus.values),
        OpenApiParameter("source", str, enum=RuleSource.values),
        OpenApiParameter("flagged", OpenApiTypes.BOOL, description="Only rules flagged for review."),
        OpenApiParameter("q", str, description="Text in the name."),
    ],
)
class RuleListApi(ListAPIView):
    serializer_class = RuleSerializer
    pagination_class = RulePage
    filter_backends: list = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        params = self.request.query_params
        company = company_get_for_user(user=self.request.user, reference=params.get("company", ""))
        return rule_list_for_company(company=company, params=params)

    @extend_schema(
        request=RuleCreateSerializer,
        responses=with_errors({201: RuleDetailSerializer}, 400, 401, 403, 404),
        summary="Create a rule (active for admins, proposed for reviewers)",
    )
    def post(self, request: Request) -> Response:
        form = RuleCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        company = company_get_for_user(user=request.user, reference=data.pop("company"), role=Role.REVIEWER)
        overrides = None
        if data.get("overrides") is not None:
            overrides = rule_get_for_user(user=request.user, rule_id=data["overrides"])
        rule = rule_create(
            company=company, user=request.user, raw=_rule_raw(data), overrides=overrides, activate=data.get("activate")
        )
        return Response(RuleDetailSerializer(rule).data, status=status.HTTP_201_CREATED)


def _rule_raw(data: dict) -> dict:
    return {key: data[key] for key in ("name", "conditions", "combine", "account_code", "priority") if key in data}


class RuleDetailApi(APIView):
    @extend_schema(responses=with_errors({200: RuleDetailSerializer}, 401, 404), summary="One rule with its versions")
    def get(self, request: Request, rule_id: int) -> Response:
        rule = rule_get_for_user(user=request.user, rule_id=rule_id)
        return Response(RuleDetailSerializer(rule).data)

    @extend_schema(
        request=RuleUpdateSerializer,
        responses=with_errors({200: RuleDetailSerializer}, 400, 401, 403, 404, 409),
        summary="Edit a rule (a change to what it matches makes a new version)",
    )
    def patch(self, request: Request, rule_id: int) -> Response:
        form = RuleUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        rule = rule_get_for_user(user=request.user, rule_id=rule_id, role=Role.REVIEWER)
        rule = rule_update(rule=rule, user=request.user, raw=_rule_raw(form.validated_data))
        return Response(RuleDetailSerializer(rule).data)


class RuleTestApi(APIView):
    @extend_schema(
        request=RuleTestSerializer,
        responses=with_errors({200: BacktestSerializer}, 400, 401, 404),
        summary="What a rule would do to history, without saving it",
    )
    def post(self, request: Request) -> Response:
        form = RuleTestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        company = company_get_for_user(user=request.user, reference=data.pop("company"))
        return Response(rule_test(company=company, raw=_rule_raw(data)).as_dict())


def _action_view(action: str) -> type[APIView]:
    service = ACTIONS[action]

    class RuleActionApi(APIView):
        @extend_schema(
            request=RuleActionSerializer,
            responses=with_errors({200: RuleDetailSerializer}, 400, 401, 403, 404, 409),
            summary=f"{action.capitalize()} a rule (admins)",
            operation_id=f"rules_{action}",
        )
        def post(self, request: Request, rule_id: int) -> Response:
            form = RuleActionSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            rule = rule_get_for_user(user=request.user, rule_id=rule_id, role=Role.ADMIN)
            reason = {"reason": form.validated_data["reason"]} if action != "approve" else {}
            [rule] = service(rules=[rule], user=request.user, **reason)
            return Response(RuleDetailSerializer(rule).data)

    RuleActionApi.__name__ = RuleActionApi.__qualname__ = f"Rule{action.capitalize()}Api"
    return RuleActionApi


RuleApproveApi = _action_view("approve")
RuleRejectApi = _action_view("reject")
RuleRetireApi = _action_view("retire")


class RuleBulkApi(APIView):
    @extend_schema(
        request=RuleBulkSerializer,
        responses=with_errors({200: RuleSerializer(many=True)}, 400, 401, 403, 404, 409),
        summary="Approve, reject or retire several rules at once: all of them or none (admins)",
    )
    def post(self, request: Request) -> Response:
        form = RuleBulkSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        rules = [rule_get_for_user(user=request.user, rule_id=rule_id, role=Role.ADMIN) for rule_id in data["ids"]]
        reason = {"reason": data["reason"]} if data["action"] != "approve" else {}
        changed = ACTIONS[data["action"]](rules=rules, user=request.user, **reason)
        return Response(RuleSerializer(changed, many=True).data)


class RuleExportApi(APIView):
    @extend_schema(
        parameters=[COMPANY_PARAM],
        responses={(200, "application/yaml"): OpenApiResponse(
                       OpenApiTypes.OBJECT, description="A YAML document: `rules:` a list of rules (see the README)."),
                   **with_errors({}, 400, 401, 404)},
        summary="Export the company's rules as YAML (the import_rules format)",
    )
    def get(self, request: Request) -> HttpResponse:
        company = company_get_for_user(user=request.user, reference=request.query_params.get("company", ""))
        response = HttpResponse(rules_export_yaml(company=company), content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="rules-{company.slug}.yaml"'
        return response
