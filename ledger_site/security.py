"""Answers for throttled and locked-out clients: 429 with Retry-After, JSON for the API, a page for browsers."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """django-axes calls this when a username/address pair has failed to log in too often."""
    retry_after = int(settings.AXES_COOLOFF_TIME * 3600)
    message = f"Too many failed logins. Try again in {retry_after // 60} minutes."
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"code": "locked_out", "message": message, "extra": {}}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
