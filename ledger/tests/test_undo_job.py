"""Undoing an import as a job: chunk by chunk, resumable, refused twice, each chunk leaving the books balanced.

The single-transaction semantics (what goes, what is reversed, what goes back to review) are tested in
test_journal.py and test_ledger_state_machine.py through `import_undo`; here the job around them."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from decisions.services import transaction_categorize
from jobs.models import Job, JobKind, JobStatus
from jobs.services import job_claim, job_fail, job_run
from ledger.exceptions import LedgerConflict
from ledger.models import BankMatch, EntryKind, EntryStatus, JournalEntry, JournalLine
from ledger.services.postings import journal_entries_post, journal_entries_propose
from ledger.services.undo import _tally, _undo_chunk, import_undo, import_undo_request
from transactions.models import Account, AuditEvent, ImportBatch, ImportStatus, Transaction
from transactions.exceptions import ImportConflict
from transactions.services.imports import import_batch_confirm, import_batch_upload
from transactions.services.ingest import import_batch_ingest
from transactions.tests.factories import CompanyFactory
from transactions.tests.test_ingest import JANUARY, run_import

FEBRUARY = b"""Date,Description,Amount
2025-02-03,OFFICE DEPOT 77,-31.20
2025-02-09,SQ *HAMILTON COFFEE #1123,-4.75
2025-02-11,CLIENT PAYMENT INV 12,980.00
2025-02-14,ADOBE CREATIVE,-54.99
2025-02-20,STRIPE PAYOUT,220.00
"""


def _booked(company, reviewer, content=FEBRUARY):
    """An import whose lines are all decided by a person: the first three lines' entries posted, the rest proposed.
    (In line order: on PostgreSQL the ids of one chunk's rows need not follow the file.)"""
    batch = run_import(company, content)
    for txn in Transaction.objects.filter(import_batch=batch).order_by("line"):
        account = Account.objects.get(company=company, code="8000" if txn.amount > 0 else "6100")
        transaction_categorize(transaction_id=txn.pk, user=reviewer, account=account)
    journal_entries_propose(company=company)
    entries = JournalEntry.objects.filter(company=company, source_transaction__import_batch=batch)
    journal_entries_post(company=company, user=reviewer,
                         entry_ids=[entry.pk for entry in entries.order_by("source_transaction__line")[:3]])
    return batch


def _book_totals(company) -> dict[str, Decimal]:
    """Σ debit - credit per account over what is in the books (posted and reversed entries)."""
    totals: dict[str, Decimal] = {}
    for code, debit, credit in JournalLine.objects.filter(
            entry__company=company, entry__status__in=[EntryStatus.POSTED, EntryStatus.REVERSED]).values_list(
            "account__code", "debit", "credit"):
        totals[code] = totals.get(code, Decimal(0)) + debit - credit
    return {code: total for code, total in totals.items() if total}


def test_the_undo_job_works_in_chunks_and_reports_the_whole_undo(company_a, reviewer_a, settings):
    settings.LEDGER_CLASSIFY_CHUNK_ROWS = 2  # five lines: three chunks with work, then the empty one that ends it
    kept = _booked(company_a, reviewer_a, JANUARY)  # another import: untouched
    kept_totals = _book_totals(company_a)
    batch = _booked(company_a, reviewer_a)
    matched = JournalEntry.objects.filter(source_transaction__import_batch=batch, status=EntryStatus.POSTED).first()
    BankMatch.objects.create(company=company_a, transaction=matched.source_transaction, entry=matched,
                             score=Decimal("0.9"), status="accepted")

    job = import_undo_request(batch=batch, user=reviewer_a)

    batch.refresh_from_db()
    assert (batch.status, job.kind, job.params) == (
        ImportStatus.UNDOING, JobKind.UNDO_IMPORT, {"import_batch": str(batch.pk), "status_before": "imported"})
    job_run(job_id=job.pk, worker="test")

    job.refresh_from_db()
    counts = {"transactions_removed": 5, "entries_withdrawn": 2, "entries_reversed": 3}
    assert (job.status, job.progress, job.processed_count, job.total_count) == (JobStatus.FINISHED, 100, 5, 5)
    assert job.result == {"import_id": str(batch.pk), **counts}
    batch.refresh_from_db()
    assert batch.status == ImportStatus.UNDONE
    assert not Transaction.objects.filter(import_batch=batch).exists()
    assert Transaction.objects.filter(import_batch=kept).count() == 4
    assert _book_totals(company_a) == kept_totals  # the reversals net the undone import's postings to zero
    reversals = JournalEntry.objects.filter(company=company_a, kind=EntryKind.REVERSAL, status=EntryStatus.POSTED)
    assert reversals.count() == 3 and all(r.memo.startswith(f"Reversal of #{r.reverses_id}: ") for r in reversals)
    assert BankMatch.objects.filter(entry=matched).count() == 0  # deleted with its transaction
    event = AuditEvent.objects.get(action="import.undo")
    assert (event.actor, event.before["status"], event.after["entries_reversed"]) == (reviewer_a, "imported", "3")


def test_an_undo_that_stopped_half_way_goes_on_where_it_stopped(company_a, reviewer_a, settings):
    settings.LEDGER_CLASSIFY_CHUNK_ROWS = 2
    batch = _booked(company_a, reviewer_a)
    job = import_undo_request(batch=batch, user=reviewer_a)
    # A first run claims the job, commits one chunk (the two oldest lines, both posted) and its worker dies.
    first_run = job_claim(job_id=job.pk, worker="dies")
    with transaction.atomic():
        _tally(job=first_run, counts={}, total=5,
               chunk=_undo_chunk(batch=ImportBatch.objects.get(pk=batch.pk), user=reviewer_a))
    assert Transaction.objects.filter(import_batch=batch).count() == 3
    assert _book_totals(company_a) != {}  # the third posted line is still in the books
    Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)  # what the stale-job sweep does

    job_run(job_id=job.pk, worker="test")

    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FINISHED, 2)
    assert job.result == {"import_id": str(batch.pk), "transactions_removed": 5, "entries_withdrawn": 2,
                          "entries_reversed": 3}
    assert _book_totals(company_a) == {}
    assert not Transaction.objects.filter(import_batch=batch).exists()
    # Run once more after the last commit (a redelivered message): nothing left, the same counts.
    assert import_undo(batch=batch, user=reviewer_a, job=job) == job.result


def test_each_chunk_commits_its_own_part_of_the_undo_in_file_order(company_a, reviewer_a, settings):
    settings.LEDGER_CLASSIFY_CHUNK_ROWS = 2
    batch = _booked(company_a, reviewer_a)  # lines 1-3 posted, 4-5 proposed
    job = import_undo_request(batch=batch, user=reviewer_a)
    run = job_claim(job_id=job.pk, worker="test")
    lines = list(Transaction.objects.filter(import_batch=batch).order_by("line").values_list("line", flat=True))
    expected = [  # (lines still there, removed, withdrawn, reversed) after each chunk
        (lines[2:], 2, 0, 2), (lines[4:], 4, 1, 3), ([], 5, 2, 3)]

    for left, removed, withdrawn, reversed_count in expected:
        with transaction.atomic():
            _tally(job=run, counts={}, total=5, chunk=_undo_chunk(batch=batch, user=reviewer_a))
        assert list(Transaction.objects.filter(import_batch=batch).order_by("line").values_list("line", flat=True)) == left
        assert Job.objects.get(pk=job.pk).result == {
            "transactions_removed": removed, "entries_withdrawn": withdrawn, "entries_reversed": reversed_count}
        assert JournalEntry.objects.filter(company=company_a, kind=EntryKind.REVERSAL).count() == reversed_count
    assert Job.objects.get(pk=job.pk).progress == 99  # 100 is for the job's end


def test_imports_into_the_bank_account_wait_for_the_undo_and_the_undo_for_them(company_a, reviewer_a):
    batch = run_import(company_a, JANUARY)
    import_undo_request(batch=batch, user=reviewer_a)

    # The same file again would find the rows the undo has not deleted yet, count them as duplicates, and lose them.
    with pytest.raises(ImportConflict, match="The import of bank.csv into 1000 .* is being undone"):
        run_import(company_a, JANUARY)
    preview = import_batch_upload(company=company_a, bank_account=batch.bank_account,
                                  upload=SimpleUploadedFile("again.csv", JANUARY), filename="again.csv", user=None)
    with pytest.raises(ImportConflict, match="is being undone"):
        import_batch_confirm(batch=preview, user=None)
    assert ImportBatch.objects.get(pk=preview.pk).status == ImportStatus.PREVIEW

    job_run(job_id=Job.objects.get(kind=JobKind.UNDO_IMPORT).pk, worker="test")
    import_batch_confirm(batch=preview, user=None)  # now it may start
    queued = ImportBatch.objects.get(pk=preview.pk)
    assert queued.status == ImportStatus.QUEUED
    other = run_import(company_a, FEBRUARY)
    with pytest.raises(LedgerConflict, match="Another import into this bank account \\(again.csv\\) is queued"):
        import_undo_request(batch=other, user=reviewer_a)
    assert ImportBatch.objects.get(pk=other.pk).status == ImportStatus.IMPORTED


def test_rows_of_an_import_being_undone_are_not_booked_meanwhile(company_a, reviewer_a, settings):
    settings.LEDGER_CLASSIFY_CHUNK_ROWS = 2
    batch = run_import(company_a, FEBRUARY)
    job = import_undo_request(batch=batch, user=reviewer_a)
    # Between two chunks of the undo, a reviewer approves a line and post_propose runs: nothing is booked.
    first = Transaction.objects.filter(import_batch=batch).order_by("pk").first()
    transaction_categorize(transaction_id=first.pk, user=reviewer_a, account=Account.objects.get(
        company=company_a, code="6100"))
    journal_entries_propose(company=company_a)
    assert not JournalEntry.objects.filter(company=company_a).exists()

    job_run(job_id=job.pk, worker="test")

    job.refresh_from_db()
    assert (job.result["entries_reversed"], job.result["entries_withdrawn"]) == (0, 0)
    assert not JournalEntry.objects.filter(company=company_a).exists()


def test_asking_twice_is_refused_and_an_undo_that_failed_for_good_can_be_asked_again(company_a, reviewer_a):
    batch = run_import(company_a, JANUARY)
    job = import_undo_request(batch=batch, user=reviewer_a)

    with pytest.raises(LedgerConflict, match=f"already being undone \\(job {job.pk}\\)"):
        import_undo_request(batch=batch, user=reviewer_a)
    assert Job.objects.filter(kind=JobKind.UNDO_IMPORT).count() == 1

    Job.objects.filter(pk=job.pk).update(result={"transactions_removed": 2, "entries_withdrawn": 0,
                                                  "entries_reversed": 0})  # what its first chunk committed
    job_fail(job_id=job.pk, code="internal_error", message="The worker stopped responding 5 times; giving up.")
    again = import_undo_request(batch=batch, user=reviewer_a)

    assert again.pk != job.pk and again.params["status_before"] == "imported"
    assert again.result == {"transactions_removed": 2, "entries_withdrawn": 0, "entries_reversed": 0}
    job_run(job_id=again.pk, worker="test")
    batch.refresh_from_db()
    assert batch.status == ImportStatus.UNDONE
    # It counted on from the failed job's chunk (here the counts were set by hand: 2 + the 4 it removed).
    assert Job.objects.get(pk=again.pk).result["transactions_removed"] == 6
    with pytest.raises(LedgerConflict, match="already been undone"):
        import_undo_request(batch=batch, user=reviewer_a)


def test_an_import_still_running_cannot_be_asked_to_undo(company_a, reviewer_a):
    batch = run_import(company_a, JANUARY)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.IMPORTING)
    with pytest.raises(LedgerConflict, match="once its job has finished"):
        import_undo_request(batch=batch, user=reviewer_a)
    assert not Job.objects.filter(kind=JobKind.UNDO_IMPORT).exists()
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.IMPORTING


def test_a_late_ingest_run_leaves_an_import_being_undone_alone(company_a, reviewer_a):
    batch = run_import(company_a, JANUARY)
    import_undo_request(batch=batch, user=reviewer_a)

    import_batch_ingest(job=batch.job)  # a redelivered ingest message, after the undo was asked for

    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.UNDOING
    assert Transaction.objects.filter(import_batch=batch).count() == 4


def test_an_undo_job_naming_another_companys_import_fails_and_touches_nothing(company_a, reviewer_a):
    batch = run_import(company_a, JANUARY)
    stranger = CompanyFactory()
    job = Job.objects.create(company=stranger, kind=JobKind.UNDO_IMPORT, params={"import_batch": str(batch.pk)})

    job_run(job_id=job.pk, worker="test")

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "which is not an import of" in job.error
    assert Transaction.objects.filter(import_batch=batch).count() == 4
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.IMPORTED

