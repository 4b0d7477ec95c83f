"""The one error shape of the API, for the OpenAPI schema: {"code", "message", "extra"}."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

# The largest primary key the database holds (bigint): ids above it are a 400, not a database overflow.
MAX_ID = 2**63 - 1

ERROR_MEANINGS = {
    400: "The request is not valid (`extra.fields` names each field and what is wrong).",
    401: "No valid credentials (session or `Authorization: Token <key>`).",
    403: "Your role in this company does not allow it (or the CSRF token is missing).",
    404: "No such object among your companies.",
    409: "The object's state does not allow it.",
    413: "The upload is larger than MAX_UPLOAD_MB.",
    422: "Well-formed but not acceptable (e.g. ambiguous dates, an Idempotency-Key reused for another request).",
    429: "Too many requests; retry after the `Retry-After` header's seconds.",
}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    extra = serializers.DictField()


def with_errors(success: dict[int, Any], *statuses: int) -> dict[int, Any]:
    """`responses=` for extend_schema: the success responses plus the documented error statuses."""
    return {
        **success,
        **{status: OpenApiResponse(ErrorSerializer, description=ERROR_MEANINGS[status]) for status in statuses},
    }
