"""Refuse oversized uploads from the Content-Length header, before Django reads the body."""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

MULTIPART_OVERHEAD = 64 * 1024  # form fields and boundaries around the file


class UploadLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_UPLOAD_MB * 1024 * 1024 + MULTIPART_OVERHEAD
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return JsonResponse(
                {
                    "code": "upload_too_large",
                    "message": f"The upload is {length / 1048576:.1f} MB; the limit is {settings.MAX_UPLOAD_MB} MB.",
                    "extra": {"limit_mb": settings.MAX_UPLOAD_MB},
                },
                status=413,
            )
        return self.get_response(request)
