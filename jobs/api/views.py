from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.api.serializers import JobSerializer
from ledger_site.api_docs import with_errors
from jobs.selectors import job_list_recent, job_status_get_for_user
from transactions.selectors import company_get_for_user


class JobDetailApi(APIView):
    @extend_schema(responses=with_errors({200: JobSerializer}, 401, 404), summary="Status, progress and result of one job")
    def get(self, request: Request, job_id: UUID) -> Response:
        return Response(JobSerializer(job_status_get_for_user(user=request.user, job_id=job_id)).data)


class JobListForCompanyApi(APIView):
    @extend_schema(
        responses=with_errors({200: JobSerializer(many=True)}, 401, 404),
        summary="The company's 50 most recent jobs, newest first",
    )
    def get(self, request: Request, company_id: str) -> Response:
        company = company_get_for_user(user=request.user, reference=company_id)
        return Response(JobSerializer(job_list_recent(company=company), many=True).data)
