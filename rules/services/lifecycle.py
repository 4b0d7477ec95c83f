"""Writing rules: create, edit, approve, reject, retire - each validated, versioned and audited.

Who may do what (checked here, so the UI, the API and the commands agree):
* reviewers and admins create rules; an admin's new rule is active at once (the admin approves it by
  creating it), anyone else's is proposed;
* only admins approve, reject, retire, or edit an active rule; reviewers edit proposed rules;
* global rules (no company) are a superuser's (or a command's) business.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from rules.codec import RuleData, rule_data_from_json
from rules.engine import RuleError
from rules.exceptions import RuleInvalid, RuleStateConflict
from rules.models import Rule, RuleSource, RuleStatus, RuleVersion
from rules.selectors import chart_codes
from transactions.models import Company, Role
from transactions.selectors import user_has_role
from transactions.services.audit import audit_record

# Fields whose change alters what the rule matches or decides: changing one makes a new version.
MATCHING_FIELDS = ("conditions", "combine", "account_code", "priority")


def rule_snapshot(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name, "conditions": rule.conditions, "combine": rule.combine,
        "account_code": rule.account_code, "priority": rule.priority, "status": rule.status, "version": rule.version,
    }


def rule_validate(*, company: Company | None, raw: Mapping[str, Any], defaults: Mapping[str, Any] | None = None,
                  prefix: str = "") -> RuleData:
    """Validate rule data for `company` (the account must be in its chart); raises RuleInvalid with every problem."""
    data, errors = rule_data_from_json(raw, defaults=defaults)
    if data is not None and company is not None and data.account_code not in chart_codes(company_id=company.id):
        errors = [RuleError(
            "account_code",
            f"{data.account_code!r} is not an active, non-bank account in {company.name}'s chart of accounts",
        )]
    if errors:
        raise RuleInvalid.from_errors(errors, prefix=prefix)
    assert data is not None
    return data


def _require_role(user: Any, company: Company | None, role: str, action: str) -> None:
    if user is None:  # management commands and system jobs
        return
    if company is None:
        if not getattr(user, "is_superuser", False):
            raise PermissionDenied(f"Only a superuser may {action} a global rule.")
        return
    if not user_has_role(user=user, company=company, role=role):
        raise PermissionDenied(f"Only {Role(role).label.lower()}s may {action} rules in {company.name}.")


def _is_admin(user: Any, company: Company | None) -> bool:
    if user is None:
        return True
    if company is None:
        return bool(getattr(user, "is_superuser", False))
    return user_has_role(user=user, company=company, role=Role.ADMIN)


@transaction.atomic
def rule_create(
    *,
    company: Company | None,
    user: Any,
    raw: Mapping[str, Any],
    source: str = RuleSource.MANUAL,
    overrides: Rule | None = None,
    activate: bool | None = None,
    system: str = "",
) -> Rule:
    """Create a rule from plain data. `activate` None: active for admins (and commands), proposed otherwise."""
    _require_role(user, company, Role.REVIEWER, "create")
    data = rule_validate(company=company, raw=raw)
    if overrides is not None and (company is None or overrides.company_id is not None):
        raise RuleInvalid("Only a company rule can override, and only a global rule can be overridden.",
                          extra={"fields": {"overrides": ["expected the id of a global rule"]}})
    is_admin = _is_admin(user, company)
    if activate and not is_admin:
        raise PermissionDenied("Only an admin can create an active rule; leave it proposed for an admin to approve.")
    active = is_admin if activate is None else activate
    now = timezone.now()
    actor = user if getattr(user, "pk", None) else None
    rule = Rule(
        company=company, overrides=overrides, name=data.name, conditions=data.conditions_json(), combine=data.combine,
        account_code=data.account_code, priority=data.priority, source=source,
        status=RuleStatus.ACTIVE if active else RuleStatus.PROPOSED,
        created_by=actor, approved_by=actor if active else None, approved_at=now if active else None,
    )
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as error:
        raise _name_or_override_taken(data.name, overrides) from error
    RuleVersion.objects.create(rule=rule, version=1, snapshot=rule_snapshot(rule), created_by=actor)
    audit_record(action="rule.create", company=company, actor=user, system=system, target=rule,
                 after=rule_snapshot(rule))
    return rule


def _name_or_override_taken(name: str, overrides: Rule | None) -> RuleInvalid:
    if overrides is not None and Rule.objects.filter(overrides=overrides).exists():
        return RuleInvalid("This company already overrides that global rule; edit its override instead.",
                           extra={"fields": {"overrides": ["already overridden"]}})
    return RuleInvalid(f"A rule named {name!r} already exists here.", extra={"fields": {"name": ["already taken"]}})


@transaction.atomic
def rule_update(*, rule: Rule, user: Any, raw: Mapping[str, Any]) -> Rule:
    """Change a proposed or active rule; a change to what it matches or assigns makes a new version."""
    rule = Rule.objects.select_for_update(of=("self",)).select_related("company").get(pk=rule.pk)
    if rule.status not in (RuleStatus.PROPOSED, RuleStatus.ACTIVE):
        raise RuleStateConflict(f"A {rule.get_status_display().lower()} rule cannot be edited.")
    _require_role(user, rule.company, Role.ADMIN if rule.status == RuleStatus.ACTIVE else Role.REVIEWER, "edit")
    before = rule_snapshot(rule)
    current = {key: before[key] for key in ("name", *MATCHING_FIELDS)}
    data = rule_validate(company=rule.company, raw={**current, **raw})
    rule.name = data.name
    rule.conditions, rule.combine = data.conditions_json(), data.combine
    rule.account_code, rule.priority = data.account_code, data.priority
    changed = any(getattr(rule, key) != before[key] for key in MATCHING_FIELDS)
    if changed:
        rule.version += 1
        # The evidence of the old version says nothing about the new one.
        rule.hit_count, rule.corrected_count, rule.flagged_at, rule.flag_reason = 0, 0, None, ""
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as error:
        raise _name_or_override_taken(data.name, None) from error
    actor = user if getattr(user, "pk", None) else None
    if changed:
        RuleVersion.objects.create(rule=rule, version=rule.version, snapshot=rule_snapshot(rule), created_by=actor)
    audit_record(action="rule.update", company=rule.company, actor=user, target=rule, before=before,
                 after=rule_snapshot(rule))
    return rule


def _transition(
    *, rules: Iterable[Rule], user: Any, allowed_from: tuple[str, ...], to: str, action: str, changes: dict[str, Any],
    reason: str = "",
) -> list[Rule]:
    """Move rules between states in one transaction: all of them or none."""
    ids = [rule.pk for rule in rules]
    with transaction.atomic():
        locked = list(Rule.objects.select_for_update(of=("self",)).select_related("company").filter(pk__in=ids).order_by("pk"))
        if len(locked) != len(set(ids)):
            raise RuleStateConflict("Some of these rules no longer exist.")
        for rule in locked:
            _require_role(user, rule.company, Role.ADMIN, action)
            if rule.status not in allowed_from:
                raise RuleStateConflict(
                    f"Rule {rule.name!r} is {rule.get_status_display().lower()}; only "
                    f"{' or '.join(allowed_from)} rules can be {action}d.",
                    extra={"rule_id": rule.pk},
                )
        for rule in locked:
            before = rule_snapshot(rule)
            rule.status = to
            for field, value in changes.items():
                setattr(rule, field, value)
            rule.save()
            after = rule_snapshot(rule) | ({"reason": reason} if reason else {})
            audit_record(action=f"rule.{action}", company=rule.company, actor=user, target=rule, before=before, after=after)
    return locked


def rule_approve(*, rules: Iterable[Rule], user: Any) -> list[Rule]:
    """Proposed -> active (also clears the flag of an active rule an admin has looked at and keeps)."""
    now = timezone.now()
    actor = user if getattr(user, "pk", None) else None
    return _transition(
        rules=rules, user=user, allowed_from=(RuleStatus.PROPOSED, RuleStatus.ACTIVE), to=RuleStatus.ACTIVE,
        action="approve", changes={"approved_by": actor, "approved_at": now, "flagged_at": None, "flag_reason": ""},
    )


def rule_reject(*, rules: Iterable[Rule], user: Any, reason: str = "") -> list[Rule]:
    """Proposed -> rejected: promotion will not propose it again unless the evidence changes materially."""
    return _transition(rules=rules, user=user, allowed_from=(RuleStatus.PROPOSED,), to=RuleStatus.REJECTED,
                       action="reject", changes={}, reason=reason)


def rule_retire(*, rules: Iterable[Rule], user: Any, reason: str = "") -> list[Rule]:
    """Active or proposed -> retired: no longer applied; its decisions keep naming it."""
    return _transition(rules=rules, user=user, allowed_from=(RuleStatus.ACTIVE, RuleStatus.PROPOSED),
                       to=RuleStatus.RETIRED, action="retire", changes={"flagged_at": None, "flag_reason": ""},
                       reason=reason)


# The counter rows are locked in id order first (the CTE's ORDER BY ... FOR UPDATE), as the one-UPDATE-per-rule
# loop did: a global rule's row is shared by every company's chunks, and a fixed order means they queue, never
# deadlock. Not updated_at: that stamps the compiled-rules cache, and a hit does not change what a rule matches.
HITS_RECORD = f"""
WITH locked AS (
    SELECT id FROM {Rule._meta.db_table} WHERE id = ANY(%(ids)s) ORDER BY id FOR UPDATE
)
UPDATE {Rule._meta.db_table} r SET hit_count = r.hit_count + h.hits, last_hit_at = %(now)s
FROM unnest(%(ids)s::bigint[], %(hits)s::integer[]) AS h(id, hits), locked
WHERE r.id = h.id AND locked.id = h.id
"""


def rule_hits_record(*, hits: Mapping[int, int]) -> None:
    """Count decisions made by each rule: hit_count += its hits, last_hit_at = now (one statement on
    PostgreSQL, one UPDATE per rule elsewhere)."""
    hits = {rule_id: count for rule_id, count in hits.items() if rule_id is not None}
    if not hits:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        ids = sorted(hits)
        with connection.cursor() as cursor:
            cursor.execute(HITS_RECORD, {"ids": ids, "hits": [hits[rule_id] for rule_id in ids], "now": now})
        return
    for rule_id, count in sorted(hits.items()):
        Rule.objects.filter(pk=rule_id).update(hit_count=F("hit_count") + count, last_hit_at=now)


def rule_correction_record(*, rule_id: int, version: int) -> None:
    """A person corrected a decision this rule made: count it, and flag the rule once its precision drops.

    Observed precision = decisions not corrected / decisions made, by the rule's current version. The rule is
    flagged (not silently retired: an admin decides) when it falls below RULE_PROMOTION_MIN_PRECISION with at
    least RULE_FLAG_MIN_CORRECTIONS corrections, so one slip on a young rule does not flag it.
    """
    with transaction.atomic():
        rule = Rule.objects.select_for_update(of=("self",)).select_related("company").filter(pk=rule_id).first()
        if rule is None or rule.version != version:
            return  # the correction is about an older version: the new one starts with fresh evidence
        rule.corrected_count += 1
        precision = rule.observed_precision
        should_flag = (
            rule.flagged_at is None
            and rule.status == RuleStatus.ACTIVE
            and rule.corrected_count >= settings.RULE_FLAG_MIN_CORRECTIONS
            and precision is not None
            and precision < float(settings.RULE_PROMOTION_MIN_PRECISION)
        )
        if should_flag:
            rule.flagged_at = timezone.now()
            rule.flag_reason = (
                f"When flagged, reviewers had corrected {rule.corrected_count} of its {rule.hit_count} decisions: "
                f"observed precision {precision:.1%}, below {float(settings.RULE_PROMOTION_MIN_PRECISION):.0%}."
            )
        # Not updated_at: that stamps the compiled-rules cache, and a flag does not change what the rule matches.
        rule.save(update_fields=["corrected_count", "flagged_at", "flag_reason"])
        if should_flag:
            audit_record(action="rule.flag", company=rule.company, system="rule-monitor", target=rule,
                         after={"reason": rule.flag_reason})
