"""Writing decisions: classification in chunks (rules stage so far) and a person's approval or correction.

Classification never touches a transaction a person has decided (`confirmed_at` set) or one that already has a
decision: it picks uncategorized, unconfirmed rows only, so re-running it is safe and cheap.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from decisions.exceptions import DecisionInvalid
from decisions.models import Decision, DecisionMethod, DecisionStatus
from jobs.handlers import JobOutcome
from jobs.services import job_progress
from rules.engine import TxnInput
from rules.models import Rule
from rules.selectors import company_rules_compiled
from rules.services.lifecycle import rule_correction_record, rule_hits_record
from transactions.models import Account, Company, Transaction, TransactionStatus
from transactions.services.audit import audit_record

ONE = Decimal("1.0000")


def transactions_classify(*, company: Company, import_batch_id: Any = None, job: Any = None) -> dict[str, Any]:
    """Decide every uncategorized, unconfirmed transaction of the company (or of one import) that a rule matches.

    Chunks of LEDGER_CLASSIFY_CHUNK_ROWS rows, each in its own database transaction: one read, one matcher
    pass, one bulk insert of decisions, one UPDATE per account assigned, one per rule that fired.
    """
    pending = Transaction.objects.filter(
        company=company, status=TransactionStatus.UNCATEGORIZED, confirmed_at__isnull=True
    )
    if import_batch_id:
        pending = pending.filter(import_batch_id=import_batch_id)
    total = pending.count()
    counts: Counter[str] = Counter()
    last_id = 0
    done = 0
    while True:
        with transaction.atomic():
            chunk = _lock_chunk(pending.filter(id__gt=last_id))
            if not chunk:
                break
            last_id = chunk[-1][0]
            counts.update(_classify_chunk(company=company, chunk=chunk))
        done += len(chunk)
        if job is not None:
            job_progress(job=job, processed=done, total=total)
    by_method = {method: count for method, count in sorted(counts.items()) if count}
    return {"company": company.slug, "transactions": done, "by_method": by_method}


def _lock_chunk(pending: Any) -> list[tuple[Any, ...]]:
    """The next chunk in id order; on PostgreSQL its rows are locked (others' locked rows are skipped)."""
    rows = pending.order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    return list(
        rows.values_list("id", "description", "counterparty", "amount", "bank_account__code")[
            : settings.LEDGER_CLASSIFY_CHUNK_ROWS
        ]
    )


def _classify_chunk(*, company: Company, chunk: list[tuple[Any, ...]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    if not settings.USE_RULES:
        counts["unmatched"] = len(chunk)
        return counts
    compiled = company_rules_compiled(company_id=company.id)
    matches = compiled.match([TxnInput(row[1], row[2], row[3], row[4]) for row in chunk]) if len(compiled) else []
    decided = [(row[0], match) for row, match in zip(chunk, matches) if match is not None]
    counts["unmatched"] = len(chunk) - len(decided)
    if not decided:
        return counts
    account_ids = dict(Account.objects.filter(company=company).values_list("code", "id"))
    rules = {rule.id: rule for rule in Rule.objects.filter(id__in={match.rule_id for _, match in decided}).only(
        "id", "name", "confidence")}
    decisions = []
    by_account: dict[int, list[int]] = defaultdict(list)
    hits: Counter[int] = Counter()
    for transaction_id, match in decided:
        rule = rules[match.rule_id]
        account_id = account_ids[match.account_code]
        decisions.append(Decision(
            company=company, transaction_id=transaction_id, method=DecisionMethod.RULE, account_id=account_id,
            confidence=rule.confidence or ONE, rule_id=rule.id, rule_version=match.version,
            status=DecisionStatus.AUTO_APPROVED,
            explanation={"rule_id": rule.id, "rule_version": match.version, "rule_name": rule.name},
        ))
        by_account[account_id].append(transaction_id)
        hits[rule.id] += 1
    Decision.objects.bulk_create(decisions)
    for account_id, ids in by_account.items():
        Transaction.objects.filter(id__in=ids).update(account_id=account_id, status=TransactionStatus.CATEGORIZED)
    rule_hits_record(hits=hits)
    counts[DecisionMethod.RULE.value] = len(decided)
    return counts


def classify_job(*, job: Any) -> JobOutcome:
    """The classify job: params may name one import (`import_batch`); otherwise the whole company."""
    return JobOutcome(result=transactions_classify(
        company=job.company, import_batch_id=job.params.get("import_batch"), job=job
    ))


def transaction_categorize(*, transaction_id: int, user: Any, account: Account) -> Decision:
    """A person decides a transaction's account: approving the current decision if it agrees, else correcting it.

    A correction keeps the old decision (status "corrected", no longer current) next to the new human one, and
    tells the rule that made it (rules whose corrections pile up are flagged). The transaction becomes
    confirmed: promotion and training learn from it.
    """
    with transaction.atomic():
        txn = Transaction.objects.select_for_update().get(pk=transaction_id)
        if account.company_id != txn.company_id or account.is_bank or not account.is_active:
            raise DecisionInvalid(
                f"{account.code} is not an active category account of this transaction's company.",
                extra={"fields": {"account": ["expected an active, non-bank account code of the company"]}},
            )
        now = timezone.now()
        actor = user if getattr(user, "pk", None) else None
        current = Decision.objects.filter(transaction=txn, is_current=True).select_related("account").first()
        before = {"account": current.account.code if current and current.account else None,
                  "method": current.method if current else None, "status": current.status if current else None}
        if current is not None and current.account_id == account.id:
            decision, action = current, "decision.approve"
            if current.status != DecisionStatus.APPROVED:
                current.status, current.reviewer, current.reviewed_at = DecisionStatus.APPROVED, actor, now
                current.save(update_fields=["status", "reviewer", "reviewed_at"])
        else:
            action = "decision.correct" if current is not None else "decision.categorize"
            if current is not None:
                current.status, current.is_current = DecisionStatus.CORRECTED, False
                current.reviewer, current.reviewed_at = actor, now
                current.save(update_fields=["status", "is_current", "reviewer", "reviewed_at"])
            decision = Decision.objects.create(
                company_id=txn.company_id, transaction=txn, method=DecisionMethod.HUMAN, account=account,
                status=DecisionStatus.APPROVED, reviewer=actor, reviewed_at=now,
                explanation={"corrects": current.pk} if current is not None else {},
            )
            if current is not None and current.method == DecisionMethod.RULE and current.rule_id:
                rule_correction_record(rule_id=current.rule_id, version=current.rule_version or 0)
        Transaction.objects.filter(pk=txn.pk).update(
            account=account, status=TransactionStatus.CATEGORIZED, confirmed_at=now
        )
        audit_record(action=action, company=txn.company, actor=user, target=decision, before=before,
                     after={"account": account.code, "transaction": txn.pk})
    return decision
