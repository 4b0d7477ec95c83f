"""Upload rate limits per user and per company, shared by every door (API, upload page, CLI excepted)."""
from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from transactions.exceptions import UploadRateExceeded
from transactions.models import Company

WINDOW_SECONDS = 3600


def upload_rate_check(*, user: Any, company: Company) -> None:
    """Count one upload; raise UploadRateExceeded (429, with retry_after) past the hourly limits.

    Fixed one-hour windows in the shared cache; keys carry the company, so tenants never share a counter.
    """
    window = int(time.time()) // WINDOW_SECONDS
    retry_after = WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS
    limits = [
        (f"company:{company.pk}:uploads:user:{getattr(user, 'pk', 'anonymous')}:{window}",
         settings.UPLOADS_PER_HOUR_PER_USER, "you have"),
        (f"company:{company.pk}:uploads:all:{window}", settings.UPLOADS_PER_HOUR_PER_COMPANY, f"{company.name} has"),
    ]
    for key, limit, who in limits:
        cache.add(key, 0, timeout=WINDOW_SECONDS + 60)
        if cache.incr(key) > limit:
            raise UploadRateExceeded(
                f"{who[0].upper()}{who[1:]} uploaded {limit} files this hour, the limit; try again in "
                f"{retry_after // 60 + 1} minutes.",
                extra={"retry_after": retry_after, "limit": limit},
            )
