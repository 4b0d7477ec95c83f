"""The journal through the API: list and read entries, enter one by hand, post, reverse (unpost), undo an import."""
import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.api.serializers import JobSerializer
from ledger.api.serializers import (
    JournalEntryCreateSerializer,
    JournalEntrySerializer,
    JournalPostResultSerializer,
    JournalPostSerializer,
    JournalReverseSerializer,
)
from ledger.exceptions import LedgerInvalid
from ledger.models import EntryKind, EntryStatus
from ledger.selectors import entry_get_for_user, journal_entries_for_company
from ledger.services.postings import (
    journal_entries_post,
    journal_entry_create,
    journal_entry_post,
    journal_entry_reverse,
)
from ledger.services.undo import import_undo_request
from ledger_site.api_docs import with_errors
from transactions.models import Account, Company, Role
from transactions.selectors import company_get_for_user, import_batch_get_for_user


class JournalPage(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


@extend_schema(
    summary="The company's journal entries with their lines, newest first",
    responses=with_errors({200: JournalEntrySerializer(many=True)}, 400, 401, 404),
    parameters=[
        OpenApiParameter("company", str, OpenApiParameter.QUERY, required=True, description="Company id or slug."),
        OpenApiParameter("status", str, enum=EntryStatus.values),
        OpenApiParameter("kind", str, enum=EntryKind.values),
        OpenApiParameter("date_from", OpenApiTypes.DATE),
        OpenApiParameter("date_to", OpenApiTypes.DATE),
        OpenApiParameter("q", str, description="Text in the memo."),
    ],
)
class JournalEntryListApi(ListAPIView):
    serializer_class = JournalEntrySerializer
    pagination_class = JournalPage
    filter_backends: list = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        params = self.request.query_params
        company = company_get_for_user(user=self.request.user, reference=params.get("company", ""))
        return journal_entries_for_company(company=company, params=params)

    @extend_schema(
        request=JournalEntryCreateSerializer,
        responses=with_errors({201: JournalEntrySerializer}, 400, 401, 403, 404),
        summary="Enter a journal entry by hand (reviewers): balanced lines on the company's accounts",
    )
    def post(self, request: Request) -> Response:
        form = JournalEntryCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        company = company_get_for_user(user=request.user, reference=data["company"], role=Role.REVIEWER)
        lines = [(_account_of(company, line["account"], index), line["debit"], line["credit"])
                 for index, line in enumerate(data["lines"])]
        entry = journal_entry_create(company=company, date=data["date"], memo=data["memo"], lines=lines,
                                     user=request.user, post=data["post"])
        entry = entry_get_for_user(user=request.user, entry_id=entry.pk)
        return Response(JournalEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


def _account_of(company: Company, code: str, index: int) -> Account:
    account = Account.objects.filter(company=company, code=code).first()
    if account is None:
        raise LedgerInvalid(f"lines[{index}].account: no account {code!r} in {company.slug}'s chart.",
                            extra={"fields": {f"lines[{index}].account": ["expected an account code of the company"]}})
    return account


class JournalEntryDetailApi(APIView):
    @extend_schema(responses=with_errors({200: JournalEntrySerializer}, 401, 404), summary="One journal entry")
    def get(self, request: Request, entry_id: int) -> Response:
        return Response(JournalEntrySerializer(entry_get_for_user(user=request.user, entry_id=entry_id)).data)


class JournalEntryPostApi(APIView):
    @extend_schema(
        request=None, responses=with_errors({200: JournalEntrySerializer}, 401, 403, 404, 409),
        summary="Post a proposed entry (reviewers)",
    )
    def post(self, request: Request, entry_id: int) -> Response:
        entry = entry_get_for_user(user=request.user, entry_id=entry_id, role=Role.REVIEWER)
        journal_entry_post(entry=entry, user=request.user)
        return Response(JournalEntrySerializer(entry_get_for_user(user=request.user, entry_id=entry.pk)).data)


class JournalEntryReverseApi(APIView):
    @extend_schema(
        request=JournalReverseSerializer, responses=with_errors({201: JournalEntrySerializer}, 400, 401, 403, 404, 409),
        summary="Unpost a posted entry (reviewers): answers the reversing entry",
    )
    def post(self, request: Request, entry_id: int) -> Response:
        form = JournalReverseSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        entry = entry_get_for_user(user=request.user, entry_id=entry_id, role=Role.REVIEWER)
        reversal = journal_entry_reverse(entry=entry, user=request.user, date=form.validated_data.get("date"))
        return Response(JournalEntrySerializer(entry_get_for_user(user=request.user, entry_id=reversal.pk)).data,
                        status=status.HTTP_201_CREATED)


class JournalPostApi(APIView):
    @extend_schema(
        request=JournalPostSerializer, responses=with_errors({200: JournalPostResultSerializer}, 400, 401, 403, 404),
        summary="Post several proposed entries, or all of the company's (reviewers)",
    )
    def post(self, request: Request) -> Response:
        form = JournalPostSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        company = company_get_for_user(user=request.user, reference=form.validated_data["company"], role=Role.REVIEWER)
        posted = journal_entries_post(company=company, entry_ids=form.validated_data.get("ids"), user=request.user)
        return Response({"posted": posted})


class ImportUndoApi(APIView):
    @extend_schema(
        request=None, responses=with_errors({202: JobSerializer}, 401, 403, 404, 409),
        summary="Undo a whole import (reviewers): 202 with the `undo_import` job; its transactions go, posted "
                "entries are reversed first (the job's result has the counts)",
    )
    def post(self, request: Request, import_id: uuid.UUID) -> Response:
        batch = import_batch_get_for_user(user=request.user, import_id=import_id, role=Role.REVIEWER)
        job = import_undo_request(batch=batch, user=request.user)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
