from rest_framework import serializers

from jobs.models import JobKind, JobStatus


# Fields are declared rather than derived from the model (ModelSerializer): clients poll the job status while a
# job runs, and a ModelSerializer introspects the model again for every instance. The OpenAPI schema is the same.
class JobSerializer(serializers.Serializer):
    """The job-status shape of the original design, plus counts and the error code."""

    job_id = serializers.UUIDField(source="id", read_only=True)
    status = serializers.ChoiceField(choices=JobStatus.choices, read_only=True)
    progress = serializers.IntegerField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    result = serializers.JSONField(read_only=True, allow_null=True)
    error = serializers.CharField(read_only=True)
    error_code = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=JobKind.choices, read_only=True)
    company = serializers.CharField(source="company.slug", read_only=True)
    processed_count = serializers.IntegerField(read_only=True)
    total_count = serializers.IntegerField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
