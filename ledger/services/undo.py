"""Undo a whole import: its transactions and decisions go away; what was already posted is reversed first.

Proposed entries of the import's transactions are withdrawn (deleted). Posted entries get a reversing entry; the
reversed entry and its reversal stay in the journal (net zero, the memo keeps the description) but let go of the
transaction, which is then deleted with its decisions, splits and matches. A transfer's other line may belong to
another import and stays: withdrawn or reversed, it goes back to review (as `journal_entry_reverse` sends it),
rather than keeping an approved "transfer" decision that post_propose would book as half a transfer. The batch
stays, marked "undone", so the history shows what was imported and undone; the same file can be imported again
afterwards. Audited.

An import may hold a million transactions, so the undo is a job (`undo_import`) that works in chunks of
LEDGER_CLASSIFY_CHUNK_ROWS transactions in file order, each chunk one database transaction that holds its
transactions locked and leaves the books balanced. The batch is "undoing" from the request to the last chunk:
its rows are never booked meanwhile (`transactions_lock_free` passes them by), and no other import into the bank
account may start (`bank_account_refuse_while_undoing`). A run that stopped half-way (a crashed worker) is run
again and goes on with what is left.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from decisions.models import Decision, DecisionStatus
from jobs.handlers import JobOutcome
from jobs.models import Job, JobKind, JobStatus
from jobs.services import job_create, job_progress
from ledger.exceptions import LedgerConflict, LedgerInvalid
from ledger.models import BankMatch, EntryStatus, JournalEntry, SplitLine
from ledger.services.postings import actor_of, journal_entries_reverse
from transactions.models import IMPORT_FINISHED, Account, ImportBatch, ImportStatus, Transaction, TransactionStatus
from transactions.selectors import import_batch_undo_job
from transactions.services.audit import audit_record

COUNTS = ("transactions_removed", "entries_withdrawn", "entries_reversed")


def import_undo_request(*, batch: ImportBatch, user: Any) -> Job:
    """Mark the import "undoing" and queue the `undo_import` job that does the work; the job is returned.

    Refused while another import of the same bank account is queued or importing: its rows that match this
    import's would count as duplicates and then go with them. (New imports into the account are refused while
    this one is undoing, by `bank_account_refuse_while_undoing`; both lock the bank account row first.)
    """
    with transaction.atomic():
        list(Account.objects.select_for_update().filter(pk=batch.bank_account_id).values_list("pk", flat=True))
        batch = _batch_locked(batch)
        counts: dict[str, int] = {}
        if batch.status == ImportStatus.UNDOING:
            earlier = import_batch_undo_job(batch=batch)
            if earlier is not None and earlier.status != JobStatus.FAILED:
                raise LedgerConflict(f"The import of {batch.original_filename} is already being undone (job "
                                     f"{earlier.id}).", extra={"job_id": str(earlier.id)})
            # Its job failed for good (or a script's undo stopped half-way): a new job goes on where it stopped,
            # and counts on from what the failed one committed.
            status_before = (earlier.params or {}).get("status_before") if earlier else None
            counts = {key: int((earlier.result or {}).get(key, 0)) for key in COUNTS} if earlier else {}
        else:
            _refuse_unless_finished(batch)
            status_before = batch.status
            running = (ImportBatch.objects.filter(bank_account_id=batch.bank_account_id,
                                                  status__in=(ImportStatus.QUEUED, ImportStatus.IMPORTING))
                       .exclude(pk=batch.pk).first())
            if running is not None:
                raise LedgerConflict(f"Another import into this bank account ({running.original_filename}) is "
                                     f"{running.get_status_display().lower()}; undo {batch.original_filename} once "
                                     "it has finished.", extra={"import_id": str(running.pk)})
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.UNDOING)
        job, _ = job_create(company=batch.company, kind=JobKind.UNDO_IMPORT, created_by=actor_of(user),
                            params={"import_batch": str(batch.pk),
                                    "status_before": status_before or ImportStatus.IMPORTED})
        if counts:
            Job.objects.filter(pk=job.pk).update(result=counts)
            job.result = counts
    return job


def import_undo_job(*, job: Job) -> JobOutcome:
    """The `undo_import` job: undo the import named in `job.params`, going on from where an earlier run stopped."""
    batch = ImportBatch.objects.filter(pk=(job.params or {}).get("import_batch"), company_id=job.company_id).first()
    if batch is None:
        raise LedgerInvalid(f"Job {job.id} names import {(job.params or {}).get('import_batch')!r}, which is not an "
                            f"import of {job.company.slug}.")
    return JobOutcome(result=import_undo(batch=batch, user=job.created_by, job=job))


def import_undo(*, batch: ImportBatch, user: Any, job: Job | None = None) -> dict[str, Any]:
    """Undo the import chunk by chunk (see the module docstring); returns the counts.

    Without a job (a script, a test), an import whose job has finished is undone right here. With one, the
    counts of the chunks done so far are kept on the job row, committed with each chunk, so a re-run after a
    crash reports the whole undo.
    """
    with transaction.atomic():
        batch = _batch_locked(batch)
        status_before = (job.params or {}).get("status_before", batch.status) if job else batch.status
        if batch.status == ImportStatus.UNDONE and job is not None:  # a re-run after the last commit: it is done
            return {"import_id": str(batch.pk), **{key: int((job.result or {}).get(key, 0)) for key in COUNTS}}
        if batch.status != ImportStatus.UNDOING:
            _refuse_unless_finished(batch)
            ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.UNDOING)
    counts = dict.fromkeys(COUNTS, 0)
    while True:
        with transaction.atomic():
            _batch_locked(batch)  # one run at a time works on the import: the chunks of two runs never interleave
            chunk = _undo_chunk(batch=batch, user=user)
            counts = _tally(job=job, counts=counts, chunk=chunk, total=batch.imported_count)
        if not chunk["transactions_removed"]:
            break
    result = {"import_id": str(batch.pk), **counts}
    with transaction.atomic():
        # Once, should two runs of the job both get here (the sweep re-queued a slow one).
        if ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.UNDOING).update(
                status=ImportStatus.UNDONE, finished_at=timezone.now()):
            audit_record(action="import.undo", company=batch.company, actor=actor_of(user), target=batch,
                         before={"status": status_before, "imported": batch.imported_count},
                         after={key: str(value) for key, value in result.items()})
    return result


def _tally(*, job: Job | None, counts: dict[str, int], chunk: dict[str, int], total: int) -> dict[str, int]:
    """The counts so far plus this chunk's. With a job they live on its row (read under the batch lock, written
    in the chunk's transaction), so they include what an earlier run of the job committed."""
    if job is not None:
        counts = {key: int(value) for key, value in (Job.objects.get(pk=job.pk).result or {}).items() if key in COUNTS}
    counts = {key: counts.get(key, 0) + chunk[key] for key in COUNTS}
    if job is not None:
        Job.objects.filter(pk=job.pk).update(result=counts)
        job_progress(job=job, processed=counts["transactions_removed"], total=total or None)
    return counts


def _undo_chunk(*, batch: ImportBatch, user: Any) -> dict[str, int]:
    """The next LEDGER_CLASSIFY_CHUNK_ROWS transactions of the import, undone (inside the caller's transaction).
    In line order: the index txn_batch_line serves it, so a chunk reads its own rows, not all that are left."""
    ids = list(Transaction.objects.filter(import_batch=batch).order_by("line", "pk").select_for_update()
               .values_list("pk", flat=True)[:settings.LEDGER_CLASSIFY_CHUNK_ROWS])
    if not ids:
        return dict.fromkeys(COUNTS, 0)
    touching = Q(source_transaction_id__in=ids) | Q(counter_transaction_id__in=ids)
    entries = JournalEntry.objects.select_for_update().filter(touching)
    proposed = entries.filter(status=EntryStatus.PROPOSED)
    other_lines = Transaction.objects.filter(
        Q(pk__in=proposed.values("source_transaction")) | Q(pk__in=proposed.values("counter_transaction"))
    ).exclude(import_batch=batch)
    released = list(other_lines.values_list("pk", flat=True))
    withdrawn = proposed.delete()[1].get("ledger.JournalEntry", 0)
    Transaction.objects.filter(pk__in=released).update(status=TransactionStatus.NEEDS_REVIEW)
    Decision.objects.filter(transaction_id__in=released, is_current=True).update(status=DecisionStatus.NEEDS_REVIEW)
    reversed_count = journal_entries_reverse(entries=entries, user=user)
    JournalEntry.objects.filter(touching).update(source_transaction=None, counter_transaction=None)
    # Children first, each one DELETE ... WHERE (no per-row cascade collection).
    for model in (SplitLine, BankMatch, Decision):
        model.objects.filter(transaction_id__in=ids).delete()
    removed = Transaction.objects.filter(pk__in=ids).delete()[1].get("transactions.Transaction", 0)
    return {"transactions_removed": removed, "entries_withdrawn": withdrawn, "entries_reversed": reversed_count}


def _batch_locked(batch: ImportBatch) -> ImportBatch:
    return ImportBatch.objects.select_for_update().select_related("company").get(pk=batch.pk)


def _refuse_unless_finished(batch: ImportBatch) -> None:
    if batch.status == ImportStatus.UNDONE:
        raise LedgerConflict(f"The import of {batch.original_filename} has already been undone.")
    if batch.status not in IMPORT_FINISHED:
        raise LedgerConflict(f"The import of {batch.original_filename} is {batch.get_status_display().lower()}; "
                             "undo it once its job has finished.")
