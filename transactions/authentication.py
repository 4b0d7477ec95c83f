"""`Authorization: Token <key>` for API clients, checked against the stored sha256 of each key."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions

from transactions.models import ApiToken

LAST_USED_RESOLUTION = timedelta(minutes=1)  # at most one write per token per minute


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        try:
            # get(): key_hash is unique, so no ORDER BY (the model's) on every API request.
            token = ApiToken.objects.select_related("user").get(key_hash=api_token_hash(key), revoked_at__isnull=True)
        except ApiToken.DoesNotExist:
            token = None
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
