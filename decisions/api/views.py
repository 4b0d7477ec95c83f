from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.api.serializers import CategorizeSerializer, DecisionSerializer
from decisions.exceptions import DecisionInvalid
from decisions.selectors import decision_history, transaction_get_for_user
from decisions.services import transaction_categorize
from ledger_site.api_docs import with_errors
from transactions.models import Account, Role


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
        account = Account.objects.filter(company=txn.company, code=form.validated_data["account"]).first()
        if account is None:
            raise DecisionInvalid(
                f"{form.validated_data['account']!r} is not an account of {txn.company.name}.",
                extra={"fields": {"account": ["expected an account code of the company's chart"]}},
            )
        decision = transaction_categorize(transaction_id=txn.pk, user=request.user, account=account)
        return Response(DecisionSerializer(decision).data)
