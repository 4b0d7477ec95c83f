"""Run records for background work: every import, classification, posting, training run is a Job.

A Job is the user-visible handle on a Celery task: it carries status, progress and the result, survives
worker crashes (a heartbeat shows the worker is alive) and de-duplicates client retries (idempotency keys).
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class JobKind(models.TextChoices):
    INGEST = "ingest", "Ingest"
    CLASSIFY = "classify", "Classify"
    POST_PROPOSE = "post_propose", "Propose postings"
    RECONCILE = "reconcile", "Reconcile"
    UNDO_IMPORT = "undo_import", "Undo an import"
    TRAIN = "train", "Train model"
    PROMOTE_RULES = "promote_rules", "Promote rules"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    STARTED = "started", "Started"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    FINISHED_WITH_ERRORS = "finished_with_errors", "Finished with errors"


FINAL_STATUSES = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.FINISHED_WITH_ERRORS)


class JobQuerySet(models.QuerySet["Job"]):
    def for_user(self, user: object) -> JobQuerySet:
        """Jobs of the companies the user may see (Company.objects.for_user's rule: all for a superuser)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if getattr(user, "is_superuser", False):
            return self.all()
        # A join rather than `company__in=<companies>.distinct()`: a user has at most one membership per company
        # (a unique constraint), so no row repeats, and PostgreSQL has no DISTINCT subquery to plan.
        return self.filter(company__memberships__user=user)

    def orphaned(self, *, heartbeat_before: object) -> JobQuerySet:
        """Started jobs whose worker has not reported since `heartbeat_before`: it most likely died."""
        return self.filter(status=JobStatus.STARTED, heartbeat_at__lt=heartbeat_before)


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey("transactions.Company", on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=20, choices=JobKind.choices)
    status = models.CharField(max_length=24, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    processed_count = models.PositiveIntegerField(default=0)
    total_count = models.PositiveIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    idempotency_key = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life: set when the job is enqueued and on every progress report. The orphan sweep re-sends
    # queued jobs and re-enqueues started ones whose heartbeat is older than LEDGER_JOB_STALE_SECONDS.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["company", "-created_at"], name="job_company_recent"),
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key for a job-starting request, held for LEDGER_IDEMPOTENCY_TTL_HOURS.

    The unique constraint makes concurrent requests with one key race to a single row; the loser
    reads the winner's job. The key is scoped by company and user, so keys never collide across tenants.
    """

    company = models.ForeignKey("transactions.Company", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "user", "key"], name="idempotency_key_unique_per_user"),
        ]
