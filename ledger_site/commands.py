"""What the management commands share."""
from __future__ import annotations

from django.core.management.base import CommandError

from transactions.models import Company


def company_for_command(slug: str) -> Company:
    """The company a command's --company names; a clear error (not a traceback) for an unknown slug."""
    company = Company.objects.filter(slug=slug).first()
    if company is None:
        raise CommandError(f"No company with slug {slug!r}.")
    return company
