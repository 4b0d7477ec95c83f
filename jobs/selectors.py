"""Reads of Job rows, always through the user's companies."""
from __future__ import annotations

from typing import Any

from django.http import Http404

from jobs.models import Job, JobQuerySet
from transactions.models import Company

RECENT_JOBS_LIMIT = 50


def job_get_for_user(*, user: Any, job_id: object) -> Job:
    """The job if it belongs to one of the user's companies; 404 otherwise."""
    job = Job.objects.for_user(user).select_related("company").filter(id=job_id).first()
    if job is None:
        raise Http404("No such job.")
    return job


def job_list_recent(*, company: Company) -> JobQuerySet:
    """The company's most recent jobs, newest first."""
    return Job.objects.filter(company=company).select_related("company").order_by("-created_at")[:RECENT_JOBS_LIMIT]
