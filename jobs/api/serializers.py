from rest_framework import serializers

from jobs.models import Job


class JobSerializer(serializers.ModelSerializer):
    """The job-status shape of the original design, plus counts and the error code."""

    job_id = serializers.UUIDField(source="id", read_only=True)
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Job
        fields = [
            "job_id", "status", "progress", "started_at", "finished_at", "result", "error", "error_code",
            "kind", "company", "processed_count", "total_count", "created_at",
        ]
        read_only_fields = fields
