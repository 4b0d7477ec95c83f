"""API tokens: created and revoked by their user; the key is returned once and stored only as a hash."""
from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from ledger_site.exceptions import DomainError
from transactions.authentication import api_token_hash
from transactions.models import ApiToken
from transactions.services.audit import audit_record

KEY_BYTES = 32


def api_token_create(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """Create a token for the user; returns (token, key). The key cannot be read back later."""
    name = name.strip()
    if not name:
        raise DomainError("Give the token a name, e.g. the script that will use it.", code="token_name_required")
    key = secrets.token_urlsafe(KEY_BYTES)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name[:100], prefix=key[:8], key_hash=api_token_hash(key))
        audit_record(action="token.create", company=None, actor=user, target=token, after={"name": token.name})
    return token, key


def api_token_revoke(*, user: Any, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (idempotent); another user's token is a 404."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
        if token is None:
            raise Http404("No such token.")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(action="token.revoke", company=None, actor=user, target=token, before={"name": token.name})
    return token
