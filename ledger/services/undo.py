"""Undo a whole import: its transactions and decisions go away; what was already posted is reversed first.

Proposed entries of the import's transactions are withdrawn (deleted). Posted entries get a reversing entry; the
reversed entry and its reversal stay in the journal (net zero, the memo keeps the description) but let go of the
transaction, which is then deleted with its decisions, splits and matches. A transfer's other line may belong to
another import and stays: withdrawn or reversed, it goes back to review (as `journal_entry_reverse` sends it),
rather than keeping an approved "transfer" decision that post_propose would book as half a transfer. The batch
stays, marked "undone", so the history shows what was imported and undone; the same file can be imported again
afterwards. One database transaction: all of it or nothing. Audited.
"""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from decisions.models import Decision, DecisionStatus
from ledger.exceptions import LedgerConflict
from ledger.models import BankMatch, EntryStatus, JournalEntry, SplitLine
from ledger.services.postings import journal_entry_reverse
from transactions.models import ImportBatch, ImportStatus, Transaction, TransactionStatus
from transactions.services.audit import audit_record

FINISHED = (ImportStatus.IMPORTED, ImportStatus.FAILED)


def import_undo(*, batch: ImportBatch, user: Any) -> dict[str, Any]:
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("company").get(pk=batch.pk)
        if batch.status == ImportStatus.UNDONE:
            raise LedgerConflict(f"The import of {batch.original_filename} has already been undone.")
        if batch.status not in FINISHED:
            raise LedgerConflict(f"The import of {batch.original_filename} is {batch.get_status_display().lower()}; "
                                 "undo it once its job has finished.")
        transactions = Transaction.objects.filter(import_batch=batch)
        touching = Q(source_transaction__in=transactions) | Q(counter_transaction__in=transactions)
        entries = JournalEntry.objects.select_for_update().filter(touching)
        proposed = entries.filter(status=EntryStatus.PROPOSED)
        other_lines = Transaction.objects.filter(
            Q(pk__in=proposed.values("source_transaction")) | Q(pk__in=proposed.values("counter_transaction"))
        ).exclude(import_batch=batch)
        released = list(other_lines.values_list("pk", flat=True))
        withdrawn = proposed.delete()[1].get("ledger.JournalEntry", 0)
        Transaction.objects.filter(pk__in=released).update(status=TransactionStatus.NEEDS_REVIEW)
        Decision.objects.filter(transaction_id__in=released, is_current=True).update(
            status=DecisionStatus.NEEDS_REVIEW)
        posted = list(entries.filter(status=EntryStatus.POSTED))
        for entry in posted:
            journal_entry_reverse(entry=entry, user=user, audit=False)
        JournalEntry.objects.filter(touching).update(source_transaction=None, counter_transaction=None)
        # Children first, each one DELETE ... WHERE (no per-row cascade collection on a large import).
        for model in (SplitLine, BankMatch, Decision):
            model.objects.filter(transaction__in=transactions).delete()
        removed = transactions.delete()[1].get("transactions.Transaction", 0)
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.UNDONE, finished_at=timezone.now())
        result = {"import_id": batch.pk, "transactions_removed": removed,
                  "entries_withdrawn": withdrawn, "entries_reversed": len(posted)}
        audit_record(action="import.undo", company=batch.company, actor=user, target=batch,
                     before={"status": batch.status, "imported": batch.imported_count},
                     after={key: str(value) for key, value in result.items()})
    return result

