from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.api.serializers import JobSerializer
from jobs.models import JobKind
from jobs.services import job_create
from ledger_site.api_docs import with_errors
from transactions.models import Role
from transactions.selectors import company_get_for_user


class PostProposeSerializer(serializers.Serializer):
    company = serializers.CharField(help_text="Company id or slug.")


class PostProposeApi(APIView):
    """The original design's endpoint: book the company's decided transactions (the post_propose job)."""

    @extend_schema(
        request=PostProposeSerializer,
        responses=with_errors({202: JobSerializer}, 400, 401, 403, 404),
        summary="Propose journal entries for every decided, unbooked transaction (reviewers); 202 with the job",
    )
    def post(self, request: Request) -> Response:
        form = PostProposeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        company = company_get_for_user(user=request.user, reference=form.validated_data["company"], role=Role.REVIEWER)
        job, _ = job_create(company=company, kind=JobKind.POST_PROPOSE, created_by=request.user, params={})
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
