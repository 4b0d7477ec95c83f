from uuid import UUID

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger_site.api_docs import with_errors
from transactions.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenSerializer,
    AuditEventSerializer,
    ImportBatchSerializer,
    ImportSubmitSerializer,
    TransactionSerializer,
)
from transactions.models import ApiToken, Role, TransactionStatus
from transactions.selectors import (
    audit_events_for_company,
    company_get_for_user,
    import_batch_get_for_user,
    transaction_list_for_user,
)
from transactions.services.tokens import api_token_create, api_token_revoke
from transactions.services.imports import bank_account_for, import_batch_submit

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Repeat a request safely: the same key and body within 24 h return the same job.",
)


class ImportSubmitApi(APIView):
    """Upload one bank file; the ingest job runs on a worker. 202 with the import and its job."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ImportSubmitSerializer},
        responses=with_errors({202: ImportBatchSerializer}, 400, 401, 403, 404, 409, 413, 422, 429),
        parameters=[IDEMPOTENCY_HEADER],
        summary="Upload a bank file (CSV or OFX) for ingestion; 409 while an import of the bank account is being "
                "undone",
    )
    def post(self, request: Request) -> Response:
        form = ImportSubmitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        company = company_get_for_user(user=request.user, reference=data["company"])
        batch = import_batch_submit(
            company=company,
            bank_account=bank_account_for(company=company, code=data["bank_account"]),
            upload=data["file"],
            filename=data["file"].name,
            user=request.user,
            labeled=data["labeled"],
            layout_override=data["layout"],
            date_format=data["date_format"],
            idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
        )
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(APIView):
    @extend_schema(responses=with_errors({200: ImportBatchSerializer}, 401, 404), summary="One import with its counts and job")
    def get(self, request: Request, import_id: UUID) -> Response:
        batch = import_batch_get_for_user(user=request.user, import_id=import_id)
        return Response(ImportBatchSerializer(batch).data)


class TransactionPage(CursorPagination):
    """Cursor pages (next/previous links, no total): constant time however many transactions a company has."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("-date", "-id")


@extend_schema(
    summary="The user's transactions, newest first",
    responses=with_errors({200: TransactionSerializer(many=True)}, 400, 401, 404),
    parameters=[
        OpenApiParameter("company", OpenApiTypes.INT, description="Company id."),
        OpenApiParameter("status", str, enum=[choice.value for choice in TransactionStatus]),
        OpenApiParameter("date_from", OpenApiTypes.DATE),
        OpenApiParameter("date_to", OpenApiTypes.DATE),
        OpenApiParameter("account", OpenApiTypes.INT, description="Id of the categorized account."),
        OpenApiParameter("amount_min", OpenApiTypes.DECIMAL),
        OpenApiParameter("amount_max", OpenApiTypes.DECIMAL),
        OpenApiParameter("q", str, description="Text in the description or counterparty."),
        OpenApiParameter("import_batch", OpenApiTypes.UUID, description="Only this import's rows."),
    ],
)
class TransactionListApi(ListAPIView):
    serializer_class = TransactionSerializer
    pagination_class = TransactionPage
    filter_backends: list = []  # filtering happens in the selector, scoped to the user's companies

    def get_queryset(self):  # type: ignore[no-untyped-def]
        listing = transaction_list_for_user(user=self.request.user, params=self.request.query_params)
        if listing.errors:
            raise ValidationError(listing.errors)
        return listing.queryset


class ApiTokenListCreateApi(APIView):
    """Your own API tokens: list them, or create one (its key is in the response, once)."""

    @extend_schema(responses=with_errors({200: ApiTokenSerializer(many=True)}, 401), summary="Your API tokens")
    def get(self, request: Request) -> Response:
        return Response(ApiTokenSerializer(ApiToken.objects.filter(user=request.user), many=True).data)

    @extend_schema(
        request=ApiTokenSerializer,
        responses=with_errors({201: ApiTokenCreatedSerializer}, 400, 401, 403),
        summary="Create a token",
    )
    def post(self, request: Request) -> Response:
        form = ApiTokenSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token, key = api_token_create(user=request.user, name=form.validated_data["name"])
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class ApiTokenRevokeApi(APIView):
    @extend_schema(responses=with_errors({204: None}, 401, 404), summary="Revoke one of your tokens")
    def delete(self, request: Request, token_id: int) -> Response:
        api_token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEventPage(PageNumberPagination):
    page_size = 100


@extend_schema(
    summary="A company's audit trail (admins only)",
    responses=with_errors({200: AuditEventSerializer(many=True)}, 400, 401, 403, 404),
    parameters=[
        OpenApiParameter("company", str, OpenApiParameter.QUERY, required=True, description="Company id or slug."),
        *(OpenApiParameter(name, str, OpenApiParameter.QUERY, required=False)
          for name in ("action", "actor", "date_from", "date_to")),
    ],
)
class AuditEventListApi(ListAPIView):
    serializer_class = AuditEventSerializer
    pagination_class = AuditEventPage
    filter_backends: list = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        params = self.request.query_params
        company = company_get_for_user(user=self.request.user, reference=params.get("company", ""), role=Role.ADMIN)
        return audit_events_for_company(company=company, params=params)
