"""Turning decided bank transactions into journal entries (see ledger.models for the sign convention).

`journal_entries_propose` is the `post_propose` job: every current decision that is approved by a person or
auto-approved, of a transaction with no live entry yet, becomes an entry - proposed, or posted directly when the
company posts automatic decisions (`Company.post_automatic_decisions`) and the decision was automatic. Chunked,
bulk writes; the partial unique constraint keeps a transaction in the books at most once, so two runs (or a run
and an approval) racing never double an entry. `journal_entry_propose_for` does the same for one transaction
when a person approves or corrects it.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from decisions.models import Decision, DecisionStatus
from jobs.handlers import JobOutcome
from jobs.services import job_progress
from ledger.models import EntryStatus, JournalEntry, JournalLine
from transactions.models import Company, Transaction, TransactionStatus

DECIDED = (DecisionStatus.APPROVED, DecisionStatus.AUTO_APPROVED)


def entry_lines(*, amount: Decimal, bank_account_id: int, category_id: int) -> list[tuple[int, Decimal, Decimal]]:
    """(account, debit, credit) lines of a bank transaction: money in debits the bank, money out credits it."""
    magnitude = abs(amount)
    if amount > 0:
        return [(bank_account_id, magnitude, Decimal("0")), (category_id, Decimal("0"), magnitude)]
    return [(category_id, magnitude, Decimal("0")), (bank_account_id, Decimal("0"), magnitude)]


def _unbooked_decisions(company: Company) -> Any:
    live = JournalEntry.objects.filter(source_transaction=OuterRef("transaction_id")).exclude(status=EntryStatus.REVERSED)
    return (Decision.objects.filter(company=company, is_current=True, status__in=DECIDED, account__isnull=False)
            .exclude(transaction__amount=0).filter(~Exists(live)))


def journal_entries_propose(*, company: Company, job: Any = None) -> dict[str, Any]:
    """Book every decided, unbooked transaction of the company, in chunks; returns counts."""
    chunk_size = settings.LEDGER_CLASSIFY_CHUNK_ROWS
    total = _unbooked_decisions(company).count()
    counts = {"proposed": 0, "posted": 0}
    last_id = 0
    while True:
        decisions = list(_unbooked_decisions(company).filter(id__gt=last_id).order_by("id")
                         .select_related("transaction")[:chunk_size])
        if not decisions:
            break
        last_id = decisions[-1].pk
        try:
            with transaction.atomic():
                written = _book(company=company, decisions=decisions)
        except IntegrityError:
            continue  # another run booked some of these meanwhile; the next pass skips them
        for key in counts:
            counts[key] += written[key]
        if job is not None:
            job_progress(job=job, processed=sum(counts.values()), total=total)
    return {"company": company.slug, **counts}


def _book(*, company: Company, decisions: Iterable[Decision], user: Any = None) -> dict[str, int]:
    """Entries and lines for these decisions in bulk (inside the caller's transaction)."""
    decisions = list(decisions)
    now = timezone.now()
    entries = JournalEntry.objects.bulk_create([
        JournalEntry(company=company, date=d.transaction.date, memo=d.transaction.description[:500],
                     source_transaction_id=d.transaction_id, created_by=user)
        for d in decisions
    ])
    JournalLine.objects.bulk_create([
        JournalLine(entry=entry, account_id=account_id, debit=debit, credit=credit)
        for entry, d in zip(entries, decisions)
        for account_id, debit, credit in entry_lines(amount=d.transaction.amount,
                                                     bank_account_id=d.transaction.bank_account_id,
                                                     category_id=d.account_id)
    ])
    automatic = [entry.pk for entry, d in zip(entries, decisions)
                 if d.status == DecisionStatus.AUTO_APPROVED and company.post_automatic_decisions]
    if automatic:  # lines first, then the status: lines of a posted entry are final
        JournalEntry.objects.filter(pk__in=automatic).update(status=EntryStatus.POSTED, posted_at=now)
        Transaction.objects.filter(journal_entries__pk__in=automatic).update(status=TransactionStatus.POSTED)
    return {"proposed": len(entries) - len(automatic), "posted": len(automatic)}


def journal_entry_propose_for(*, decision: Decision, user: Any = None) -> JournalEntry | None:
    """A person approved or corrected `decision`: (re)propose its transaction's entry, inside their transaction.

    A proposed entry for another account is withdrawn and replaced; a posted one stays as it is (correcting the
    books after posting is a reversing entry - the ledger issue's undo).
    """
    if decision.account_id is None or decision.transaction.amount == 0:
        return None
    live = (JournalEntry.objects.select_for_update().filter(source_transaction_id=decision.transaction_id)
            .exclude(status=EntryStatus.REVERSED).first())
    if live is not None:
        if live.status != EntryStatus.PROPOSED or live.lines.filter(account_id=decision.account_id).exists():
            return live
        live.delete()
    _book(company=decision.company, decisions=[decision], user=user)
    return JournalEntry.objects.get(source_transaction_id=decision.transaction_id, status=EntryStatus.PROPOSED)


def post_propose_job(*, job: Any) -> JobOutcome:
    return JobOutcome(result=journal_entries_propose(company=job.company, job=job))
