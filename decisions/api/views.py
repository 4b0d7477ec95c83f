from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from decisions.api.serializers import (
    CategorizeSerializer,
    DecisionBulkApproveResultSerializer,
    DecisionBulkApproveSerializer,
    DecisionCorrectSerializer,
    DecisionSerializer,
    ReviewQueueSerializer,
)
from decisions.exceptions import DecisionInvalid
from decisions.selectors import (
    REVIEW_METHODS,
    decision_get_for_user,
    decision_history,
    decision_ids_for_user,
    review_queue,
    transaction_get_for_user,
)
from decisions.services import decisions_approve, transaction_categorize
from ledger_site.api_docs import with_errors
from transactions.models import Account, Company, Role
from transactions.selectors import company_get_for_user


class TransactionDecisionListApi(APIView):
    @extend_schema(
        responses=with_errors({200: DecisionSerializer(many=True)}, 401, 404),
        summary="Why a transaction is categorized as it is: its decisions, newest (the current one) first",
    )
    def get(self, request: Request, transaction_id: int) -> Response:
        txn = transaction_get_for_user(user=request.user, transaction_id=transaction_id)
        return Response(DecisionSerializer(decision_history(transaction=txn), many=True).data)


class TransactionCategorizeApi(APIView):
    @extend_schema(
        request=CategorizeSerializer,
        responses=with_errors({200: DecisionSerializer}, 400, 401, 403, 404),
        summary="Approve or correct a transaction's account (reviewers): the answer is its current decision",
    )
    def post(self, request: Request, transaction_id: int) -> Response:
        form = CategorizeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        txn = transaction_get_for_user(user=request.user, transaction_id=transaction_id, role=Role.REVIEWER)
        account = _account_of(txn.company, form.validated_data["account"])
        decision = transaction_categorize(transaction_id=txn.pk, user=request.user, account=account)
        return Response(DecisionSerializer(decision).data)


# ------------------------------------------------------------------------------------------ review queue


class ReviewQueueApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("company", str, OpenApiParameter.QUERY, required=True, description="Company id or slug."),
            OpenApiParameter("q", str, description="Text in the vendor, description or counterparty."),
            OpenApiParameter("method", str, enum=list(REVIEW_METHODS),
                             description="Who decided: ml_suggestion, llm, or human (no suggestion yet)."),
            OpenApiParameter("min_amount", OpenApiTypes.DECIMAL, description="Only items with |amount| >= this."),
            OpenApiParameter("page", int, description="Page of vendor groups (20 per page)."),
        ],
        responses=with_errors({200: ReviewQueueSerializer}, 400, 401, 403, 404),
        summary="The review queue (reviewers): open decisions grouped by vendor, biggest and least certain first",
        operation_id="review_queue",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        company = company_get_for_user(user=request.user, reference=params.get("company", ""), role=Role.REVIEWER)
        queue = review_queue(company=company, params=params)
        page = queue.page
        url = request.build_absolute_uri()
        return Response(ReviewQueueSerializer({
            "count": queue.group_count, "items": queue.item_count, "page": page.number,
            "pages": page.paginator.num_pages,
            "next": replace_query_param(url, "page", page.next_page_number()) if page.has_next() else None,
            "previous": (_page_url(url, page.previous_page_number()) if page.has_previous() else None),
            "results": queue.groups,
        }).data)


def _page_url(url: str, number: int) -> str:
    return remove_query_param(url, "page") if number == 1 else replace_query_param(url, "page", number)


class DecisionApproveApi(APIView):
    @extend_schema(
        request=None,
        responses=with_errors({200: DecisionSerializer}, 400, 401, 403, 404, 409),
        summary="Approve an open decision's suggestion (reviewers); 409 if someone decided it meanwhile",
        operation_id="decisions_approve",
    )
    def post(self, request: Request, decision_id: int) -> Response:
        decision = decision_get_for_user(user=request.user, decision_id=decision_id, role=Role.REVIEWER)
        if decision.account is None:
            raise DecisionInvalid("This decision has no suggestion to approve: correct it with an account.")
        approved = transaction_categorize(transaction_id=decision.transaction_id, user=request.user,
                                          account=decision.account, expected_decision_id=decision.pk)
        return Response(DecisionSerializer(approved).data)


class DecisionCorrectApi(APIView):
    @extend_schema(
        request=DecisionCorrectSerializer,
        responses=with_errors({200: DecisionSerializer}, 400, 401, 403, 404, 409),
        summary="Give an open decision's transaction an account (reviewers); 409 if someone decided it meanwhile",
        operation_id="decisions_correct",
    )
    def post(self, request: Request, decision_id: int) -> Response:
        form = DecisionCorrectSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        decision = decision_get_for_user(user=request.user, decision_id=decision_id, role=Role.REVIEWER)
        account = _account_of(decision.company, form.validated_data["account"])
        corrected = transaction_categorize(
            transaction_id=decision.transaction_id, user=request.user, account=account,
            expected_decision_id=decision.pk, remember_as_rule=form.validated_data["remember_as_rule"],
        )
        return Response(DecisionSerializer(corrected).data)


class DecisionBulkApproveApi(APIView):
    @extend_schema(
        request=DecisionBulkApproveSerializer,
        responses=with_errors({200: DecisionBulkApproveResultSerializer}, 400, 401, 403, 404),
        summary="Approve the suggestions of many decisions (reviewers): those decided meanwhile are skipped",
        operation_id="decisions_bulk_approve",
    )
    def post(self, request: Request) -> Response:
        form = DecisionBulkApproveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        ids = decision_ids_for_user(user=request.user, decision_ids=form.validated_data["ids"], role=Role.REVIEWER)
        return Response(DecisionBulkApproveResultSerializer(decisions_approve(decision_ids=ids, user=request.user)).data)


def _account_of(company: Company, code: str) -> Account:
    account = Account.objects.filter(company=company, code=code).first()
    if account is None:
        raise DecisionInvalid(
            f"{code!r} is not an account of {company.name}.",
            extra={"fields": {"account": ["expected an account code of the company's chart"]}},
        )
    return account
