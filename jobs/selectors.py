"""Reads of Job rows, always through the user's companies."""
from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import F
from django.http import Http404

from jobs.models import Job, JobQuerySet
from transactions.models import Company

RECENT_JOBS_LIMIT = 50

# The fields JobSerializer shows, in the order of the query below.
JOB_STATUS_FIELDS = ("id", "status", "progress", "started_at", "finished_at", "result", "error", "error_code", "kind",
                     "company_slug", "processed_count", "total_count", "created_at")
# Clients poll the job status in a loop while a job runs. On PostgreSQL it is this one query: building and
# compiling the equivalent ORM query costs as much CPU as the rest of the request. The membership rule is
# Company.objects.for_user's: a superuser sees every company, anyone else the companies they are a member of.
JOB_STATUS_SQL = """
    SELECT job.id, job.status, job.progress, job.started_at, job.finished_at, job.result, job.error, job.error_code,
           job.kind, company.slug, job.processed_count, job.total_count, job.created_at
    FROM jobs_job job JOIN transactions_company company ON company.id = job.company_id
    WHERE job.id = %(job_id)s
      AND (%(superuser)s OR EXISTS (SELECT 1 FROM transactions_membership membership
                                    WHERE membership.company_id = job.company_id AND membership.user_id = %(user_id)s))
"""


def job_status_get_for_user(*, user: Any, job_id: object) -> dict[str, Any]:
    """The job's fields for JobSerializer (`company` as {"slug": ...}) if it belongs to one of the user's companies;
    404 otherwise."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such job.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(JOB_STATUS_SQL, {"job_id": job_id, "superuser": bool(user.is_superuser), "user_id": user.pk})
            row = cursor.fetchone()
        status = dict(zip(JOB_STATUS_FIELDS, row)) if row else None
        if status:
            status["result"] = Job._meta.get_field("result").from_db_value(status["result"], None, connection)
    else:
        fields = [name for name in JOB_STATUS_FIELDS if name != "company_slug"]
        jobs = Job.objects.for_user(user).values(*fields, company_slug=F("company__slug"))
        try:
            status = jobs.get(id=job_id)  # get(): no ORDER BY for a primary-key lookup
        except Job.DoesNotExist:
            status = None
    if status is None:
        raise Http404("No such job.")
    status["company"] = {"slug": status.pop("company_slug")}
    return status


def job_list_recent(*, company: Company) -> JobQuerySet:
    """The company's most recent jobs, newest first."""
    return Job.objects.filter(company=company).select_related("company").order_by("-created_at")[:RECENT_JOBS_LIMIT]
