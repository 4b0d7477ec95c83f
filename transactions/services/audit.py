"""Recording audit events: one function every door calls, for people and for automatic actors."""
from __future__ import annotations

from typing import Any

from transactions.models import AuditEvent, Company


def audit_record(
    *,
    action: str,
    company: Company | None,
    actor: Any = None,
    system: str = "",
    target: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `actor` is a user; `system` names an automatic actor (e.g. "ingest")."""
    user = actor if getattr(actor, "pk", None) else None
    label = f"system:{system}" if system else (f"user:{user.get_username()}" if user else "system:cli")
    return AuditEvent.objects.create(
        company=company,
        actor=user,
        actor_label=label[:150],
        action=action,
        object_type=type(target).__name__ if target is not None else "",
        object_id=str(getattr(target, "pk", "") or "")[:64],
        before=before,
        after=after,
    )
