"""One error type for the whole product, and the one place that turns errors into API responses."""
from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule said no. Carries a stable `code`, a human message and optional details."""

    code: str = "domain_error"
    http_status: int = 400  # 409 for state conflicts, 422 for well-formed but unacceptable requests

    def __init__(self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "extra": self.extra}


class ConflictError(DomainError):
    """The object is in a state that does not allow the action."""

    code = "conflict"
    http_status = 409


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: domain errors and Django validation errors become 4xx JSON, never tracebacks."""
    if isinstance(exc, DomainError):
        response = Response(exc.as_dict(), status=exc.http_status)
        if "retry_after" in exc.extra:
            response["Retry-After"] = str(exc.extra["retry_after"])
        return response
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = drf_exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return None
    response.data = _error_body(exc)
    return response


def _error_body(exc: Exception) -> dict[str, Any]:
    """DRF's own errors in our shape, so every API error reads {"code", "message", "extra"}."""
    if isinstance(exc, drf_exceptions.ValidationError):
        return {"code": "invalid", "message": "Some fields are not valid.", "extra": {"fields": exc.detail}}
    if isinstance(exc, drf_exceptions.APIException):
        extra = {"retry_after": exc.wait} if isinstance(exc, drf_exceptions.Throttled) and exc.wait else {}
        return {"code": str(exc.get_codes()), "message": str(exc.detail), "extra": extra}
    return {"code": "error", "message": str(exc), "extra": {}}
