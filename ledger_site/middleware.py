"""Project middleware: refuse oversized uploads (from Content-Length, before Django reads the body) and NUL
characters, and time every request for /metrics."""
from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

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


class NulCharacterMiddleware:
    """Refuse a URL, query string, form post or JSON body containing a NUL character with a 400.

    No field of ours can hold one (PostgreSQL text cannot), and a NUL that reached a query would be a 500.
    Form and serializer fields already refuse it; this covers the raw references in paths and query strings
    (company ids or slugs, audit filters) and the free text our views read from posts or keep in JSON (rule
    conditions, reasons) in one place. Uploaded files are not inspected: they are binary.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        values = (value for _, values in request.GET.lists() for value in values)
        if "\x00" in request.path or any("\x00" in value for value in values):
            return JsonResponse(
                {"code": "invalid", "message": "The URL contains a NUL character.", "extra": {}}, status=400
            )
        if self._body_has_nul(request):
            return JsonResponse(
                {"code": "invalid", "message": "The request contains a NUL character.", "extra": {}}, status=400
            )
        return self.get_response(request)

    @staticmethod
    def _body_has_nul(request: HttpRequest) -> bool:
        """Form fields and JSON bodies (where a rule condition or a reason is free text); files stay binary."""
        content_type = request.content_type or ""
        if request.method not in ("POST", "PUT", "PATCH"):
            return False
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            # The form fields only: an uploaded file's bytes are the parser's business.
            return any("\x00" in value for _, values in request.POST.lists() for value in values)
        if content_type == "application/json":
            length = int(request.META.get("CONTENT_LENGTH") or 0)
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return False  # Django refuses the body itself
            return b"\x00" in request.body or b"\\u0000" in request.body
        return False


class RequestMetricsMiddleware:
    """Times every request into `http_request_duration_seconds{method, route, status}` (ledger_site/metrics.py).

    The route is the URL pattern's name (`api-schema`, `admin:index`), or its pattern when it has none
    (`api/jobs/<uuid:job_id>`), never the raw path: ids in paths would make a new series per object. Requests
    that match no URL are `<unmatched>`; methods outside the usual few are `other`. First in MIDDLEWARE, so the
    time includes the other middleware.
    """

    METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        from ledger_site.metrics import HTTP_REQUEST_SECONDS

        self.get_response = get_response
        self.histogram = HTTP_REQUEST_SECONDS

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is None:
            route = "<unmatched>"
        elif match.url_name:
            route = match.view_name  # with its namespace
        else:
            route = match.route or "<unnamed>"
        method = request.method if request.method in self.METHODS else "other"
        self.histogram.labels(method=method, route=route, status=f"{response.status_code // 100}xx").observe(
            perf_counter() - started
        )
        return response
