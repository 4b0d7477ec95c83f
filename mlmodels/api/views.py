from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.api.serializers import JobSerializer
from jobs.models import JobKind
from jobs.services import job_create
from ledger_site.api_docs import with_errors
from mlmodels.api.serializers import ModelVersionDetailSerializer, ModelVersionSerializer, TrainSerializer
from mlmodels.selectors import model_version_for_viewer, model_version_get_for_user, model_versions_for_company
from mlmodels.services import model_activate
from transactions.models import Role
from transactions.selectors import company_get_for_user


class ModelVersionListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("company", str, OpenApiParameter.QUERY, required=True,
                                     description="Company id or slug.")],
        responses=with_errors({200: ModelVersionSerializer(many=True)}, 400, 401, 404),
        summary="The company's classifier versions and the global ones, newest first",
    )
    def get(self, request: Request) -> Response:
        company = company_get_for_user(user=request.user, reference=request.query_params.get("company", ""))
        versions = [model_version_for_viewer(version=version, user=request.user)
                    for version in model_versions_for_company(company=company)]
        return Response(ModelVersionSerializer(versions, many=True).data)


class ModelTrainApi(APIView):
    @extend_schema(
        request=TrainSerializer,
        responses=with_errors({202: JobSerializer}, 400, 401, 403, 404),
        summary="Train a new version on the worker (queue low); admins. 202 with the job",
    )
    def post(self, request: Request) -> Response:
        form = TrainSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        company = company_get_for_user(user=request.user, reference=form.validated_data["company"], role=Role.ADMIN)
        job, _ = job_create(company=company, kind=JobKind.TRAIN, created_by=request.user, params={"scope": "company"})
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ModelVersionDetailApi(APIView):
    @extend_schema(responses=with_errors({200: ModelVersionDetailSerializer}, 401, 404),
                   summary="One version with its metrics and its live drift")
    def get(self, request: Request, version_id: int) -> Response:
        version = model_version_get_for_user(user=request.user, version_id=version_id)
        version = model_version_for_viewer(version=version, user=request.user)
        return Response(ModelVersionDetailSerializer(version, context={"request": request}).data)


class ModelVersionActivateApi(APIView):
    @extend_schema(
        request=None,
        responses=with_errors({200: ModelVersionSerializer}, 401, 403, 404),
        summary="Make this version the active one (admins); activating an older version is a rollback",
    )
    def post(self, request: Request, version_id: int) -> Response:
        version = model_version_get_for_user(user=request.user, version_id=version_id, role=Role.ADMIN)
        return Response(ModelVersionSerializer(model_activate(version=version, user=request.user)).data)
