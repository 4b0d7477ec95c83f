from django.urls import path

from jobs.api.views import JobDetailApi, JobListForCompanyApi

urlpatterns = [
    path("jobs/company/<str:company_id>", JobListForCompanyApi.as_view(), name="api-job-list-company"),
    path("jobs/<uuid:job_id>", JobDetailApi.as_view(), name="api-job-detail"),
]
