"""Rule promotion: propose rules for vendors that people categorize the same way, with the evidence attached.

Reads confirmed history (transactions whose account a person gave or approved: labeled imports, approvals,
corrections - never a machine's unreviewed decision) from the lookback window, finds vendor/direction groups
with enough support and precision (``rules.engine.promotion``), backtests each candidate on history and
stores it as a *proposed* rule. Nothing becomes active without an admin.

Per candidate, in order:
* an active rule for the vendor already exists, or active rules already decide most of its rows
  -> skipped (already covered);
* it was proposed before and is still waiting -> its evidence (and account, if the majority moved) is
  refreshed;
* it was rejected or retired -> proposed again only if the evidence changed materially: another majority
  account, or support grown by RULE_PROMOTION_REPROPOSE_GROWTH (+50% by default);
* otherwise a new proposed rule is created.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.handlers import JobOutcome
from rules.codec import spec_of
from rules.engine import TxnInput, prepare_texts
from rules.engine.promotion import LabeledRow, PromotionCandidate, promotion_candidates
from rules.exceptions import RuleInvalid
from rules.models import Rule, RuleSource, RuleStatus, RuleVersion
from rules.selectors import company_rules_compiled
from rules.services.backtest import rules_backtest
from rules.services.lifecycle import rule_create, rule_snapshot, rule_validate
from transactions.models import Company, Transaction
from transactions.normalization import normalize_description
from transactions.services.audit import audit_record

BATCH = 5000
DIRECTION_LABEL = {"in": "money in", "out": "money out"}


def candidate_rule_data(candidate: PromotionCandidate) -> dict[str, Any]:
    """The rule a candidate becomes: counterparty equals the vendor, in its direction."""
    return {
        "name": f"Auto: {candidate.vendor} ({DIRECTION_LABEL[candidate.direction]})"[:200],
        "conditions": [
            {"field": "counterparty", "op": "equals", "value": candidate.vendor},
            {"field": "direction", "op": candidate.direction, "value": ""},
        ],
        "combine": "all",
        "account_code": candidate.account_code,
        "priority": 100,
    }


def _confirmed_history(*, company: Company, since: Any) -> tuple[list[LabeledRow], Counter[str]]:
    """Labeled rows of the window, and per promotion key how many rows active rules already decide alike."""
    compiled = company_rules_compiled(company_id=company.id)
    rows = (
        Transaction.objects.filter(company=company, confirmed_at__gte=since, account__isnull=False)
        .exclude(amount=0)
        .values_list("description", "counterparty", "amount", "bank_account__code", "account__code")
        .iterator(chunk_size=BATCH)
    )
    labeled: list[LabeledRow] = []
    covered: Counter[str] = Counter()
    while batch := list(islice(rows, BATCH)):
        txns = [TxnInput(description, counterparty, amount, bank) for description, counterparty, amount, bank, _ in batch]
        texts = prepare_texts(txns)
        matches = compiled.match(txns, texts) if len(compiled) else [None] * len(batch)
        for row, text, match in zip(batch, texts, matches):
            direction = "in" if row[2] > 0 else "out"
            labeled.append(LabeledRow(text.counterparty, direction, row[4]))
            if match is not None and match.account_code == row[4]:
                covered[f"{direction}:{text.counterparty}"] += 1
    return labeled, covered


def rules_promote(*, company: Company, user: Any = None) -> dict[str, Any]:
    """Propose rules from the company's confirmed history; returns counts and the proposed rule ids."""
    since = timezone.now() - timedelta(days=settings.RULE_PROMOTION_LOOKBACK_DAYS)
    labeled, covered = _confirmed_history(company=company, since=since)
    candidates = promotion_candidates(
        labeled, min_support=settings.RULE_PROMOTION_MIN_SUPPORT, min_precision=settings.RULE_PROMOTION_MIN_PRECISION
    )
    existing = {rule.promotion_key: rule for rule in Rule.objects.filter(
        company=company, promotion_key__in=[candidate.key for candidate in candidates])}
    skipped: Counter[str] = Counter()
    to_write: list[tuple[PromotionCandidate, Rule | None]] = []
    for candidate in candidates:
        reason = _skip_reason(candidate, existing.get(candidate.key), covered[candidate.key])
        if reason:
            skipped[reason] += 1
        else:
            to_write.append((candidate, existing.get(candidate.key)))

    specs = []
    for index, (candidate, _) in enumerate(to_write):
        try:
            data = rule_validate(company=company, raw=candidate_rule_data(candidate))
        except RuleInvalid:
            continue  # e.g. the majority account was deactivated since; counted below
        specs.append(spec_of(rule_id=index, version=1, data=data))
    backtests = rules_backtest(company=company, specs=specs)

    proposed, refreshed = [], []
    for index, (candidate, rule) in enumerate(to_write):
        if index not in backtests:
            skipped["account_unavailable"] += 1
            continue
        evidence = {
            "support": candidate.support, "precision": candidate.precision, "confidence": candidate.precision,
            "backtest": backtests[index].as_dict() | {"accounts": dict(candidate.accounts)},
        }
        with transaction.atomic():
            if rule is None:
                written = _propose_new(company=company, user=user, candidate=candidate, evidence=evidence)
                if written is None:
                    skipped["name_taken"] += 1
                    continue
                proposed.append(written.pk)
            else:
                _propose_again(rule=rule, candidate=candidate, evidence=evidence)
                refreshed.append(rule.pk)
    return {
        "company": company.slug,
        "since": since.date().isoformat(),
        "confirmed_transactions": len(labeled),
        "candidates": len(candidates),
        "proposed": len(proposed),
        "refreshed": len(refreshed),
        "skipped": dict(sorted(skipped.items())),
        "proposed_rule_ids": proposed,
        "refreshed_rule_ids": refreshed,
    }


def _skip_reason(candidate: PromotionCandidate, rule: Rule | None, covered: int) -> str:
    if normalize_description(candidate.vendor) != candidate.vendor:
        return "vendor_text_unstable"  # an equals condition on it would never match; see rules.engine.text
    if rule is not None and rule.status == RuleStatus.ACTIVE:
        return "already_active"
    if 2 * covered >= candidate.support:
        return "already_covered"
    if rule is not None and rule.status in (RuleStatus.REJECTED, RuleStatus.RETIRED):
        account_moved = rule.account_code != candidate.account_code
        needed = (1 + settings.RULE_PROMOTION_REPROPOSE_GROWTH) * (rule.support or 0)
        support_grew = candidate.support >= needed
        if not (account_moved or support_grew):
            return f"{rule.status}_before"
    if rule is not None and rule.status == RuleStatus.PROPOSED and rule.support == candidate.support \
            and rule.account_code == candidate.account_code:
        return "unchanged"
    return ""


def _propose_new(*, company: Company, user: Any, candidate: PromotionCandidate, evidence: dict[str, Any]) -> Rule | None:
    try:
        rule = rule_create(company=company, user=None, raw=candidate_rule_data(candidate),
                           source=RuleSource.AUTO_PROMOTED, activate=False, system="rule-promotion")
    except RuleInvalid:
        return None  # a manual rule already has this name
    Rule.objects.filter(pk=rule.pk).update(promotion_key=candidate.key, **evidence)
    audit_record(action="rule.propose", company=company, system="rule-promotion", target=rule,
                 after=_evidence_summary(candidate, evidence))
    return rule


def _propose_again(*, rule: Rule, candidate: PromotionCandidate, evidence: dict[str, Any]) -> None:
    """Refresh a waiting proposal, or bring back a rejected/retired one with its new evidence."""
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    before = rule_snapshot(rule)
    data = candidate_rule_data(candidate)
    if rule.account_code != candidate.account_code:
        rule.account_code, rule.conditions = candidate.account_code, data["conditions"]
        rule.version += 1
        RuleVersion.objects.create(rule=rule, version=rule.version, snapshot=rule_snapshot(rule))
    rule.status = RuleStatus.PROPOSED
    for field, value in evidence.items():
        setattr(rule, field, value)
    rule.save()
    audit_record(action="rule.propose", company=rule.company, system="rule-promotion", target=rule, before=before,
                 after=_evidence_summary(candidate, evidence))


def _evidence_summary(candidate: PromotionCandidate, evidence: dict[str, Any]) -> dict[str, Any]:
    backtest = evidence["backtest"]
    return {"vendor": candidate.vendor, "direction": candidate.direction, "account_code": candidate.account_code,
            "support": candidate.support, "precision": str(candidate.precision),
            "would_match": backtest["would_match"], "conflicts": backtest["conflicts"]}


def rules_promote_job(*, job: Any) -> JobOutcome:
    """The promote_rules job: one company's promotion run."""
    return JobOutcome(result=rules_promote(company=job.company, user=job.created_by))


def rules_promote_schedule() -> int:
    """Queue one promote_rules job per company (the nightly schedule); returns how many were queued."""
    from jobs.models import JobKind
    from jobs.services import job_create

    companies = list(Company.objects.all())
    for company in companies:
        job_create(company=company, kind=JobKind.PROMOTE_RULES, created_by=None, params={})
    return len(companies)
