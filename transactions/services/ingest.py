"""The ingest job: stream a stored bank file through the parser and write it in committed chunks.

Each chunk of LEDGER_INGEST_CHUNK_ROWS rows is one database transaction that inserts its transactions,
records its duplicates and row errors, advances the batch checkpoint (`rows_done`) and the job progress.
A re-run after a crash skips the committed rows, so a file is imported exactly once, with no gap. A chunk that
keeps killing the worker is skipped after LEDGER_CHUNK_MAX_ATTEMPTS tries, its rows rejected with the reason
(`chunk_attempts.py`).

An unlabeled import of a company with one bank account is classified in segments while it is read: whenever
another LEDGER_CLASSIFY_SEGMENT_ROWS rows are committed, the chunk that crosses the mark also queues a classify
job for the lines up to its last one (`through_line`), so a second worker classifies (and books) the first rows
while the first worker still reads the file. The job queued at the end classifies whatever of the import is
still pending.
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from jobs.handlers import JobOutcome
from jobs.models import Job, JobKind
from jobs.services import job_create, job_progress
from ledger_site.metrics import import_rows_record
from transactions.exceptions import ImportRejected
from transactions.models import (
    Account,
    ImportBatch,
    ImportDuplicate,
    ImportRowError,
    ImportStatus,
    Transaction,
    TransactionStatus,
)
from transactions.parsing import FileRejected, Layout, ParsedRow, RowError, iter_rows
from transactions.selectors import company_has_two_bank_accounts
from transactions.services.audit import audit_record
from transactions.services.chunk_attempts import (
    chunk_attempt_begin,
    chunk_attempt_fail,
    chunk_attempt_give_back,
    chunk_failure_message,
)
from transactions.services.ingest_postgres import chunk_write_postgres
from transactions.services.read_ahead import ReadAhead, short_switch_interval

logger = logging.getLogger(__name__)
RESULT_ERROR_LIMIT = 100  # the job result lists the first errors; all of them stay in ImportRowError
CENT = Decimal("0.01")
FINISHED_IMPORT = (ImportStatus.IMPORTED, ImportStatus.UNDOING, ImportStatus.UNDONE)


def transaction_fingerprint(*, bank_account_id: int, row: ParsedRow) -> uuid.UUID:
    """Stable identity of a bank line: account, date, amount and the description with case/spacing evened out."""
    description = " ".join(row.description.upper().split())
    text = f"{bank_account_id}|{row.date.isoformat()}|{row.amount:f}|{description}"
    return uuid.UUID(bytes=hashlib.sha256(text.encode()).digest()[:16])


@dataclass
class _Chunk:
    """What one chunk wrote; the counts are added to the batch in the same transaction."""

    imported: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)


def import_batch_ingest(*, job: Job) -> JobOutcome:
    """Ingest the ImportBatch behind `job`; resumes after the last committed chunk.

    Several runs may work on one import at once (a redelivered message, a slow worker the sweep took for a dead
    one): each chunk is written under a row lock on the batch by a run that stands at the checkpoint, and a run
    that finds the checkpoint moved catches up instead, so every row is written once and progress only goes up.
    """
    batch = ImportBatch.objects.select_related("company", "bank_account").get(job=job)
    if batch.company_id != job.company_id or batch.bank_account.company_id != job.company_id:
        raise ImportRejected("The import does not belong to the job's company.", code="tenant_mismatch")
    layout = Layout.from_dict(batch.layout)
    accounts = chart_lookup(company_id=batch.company_id) if batch.labeled else {}
    # A late duplicate run must not make a finished import look unfinished; it finds the checkpoint at the end.
    ImportBatch.objects.filter(id=batch.id).exclude(status__in=FINISHED_IMPORT).update(status=ImportStatus.IMPORTING)
    try:
        with batch.file.open("rb") as handle, ReadAhead(
            _prepared_rows(batch=batch, rows=iter_rows(handle, layout), accounts=accounts)
        ) as items, short_switch_interval():
            _ingest_chunks(batch=batch, job=job, handle=handle, items=items)
    except FileRejected as error:
        ImportBatch.objects.filter(id=batch.id).exclude(status__in=FINISHED_IMPORT).update(status=ImportStatus.FAILED)
        raise ImportRejected(f"{batch.original_filename}: {error.message}", code=error.code) from error
    return _import_batch_finish(batch=batch, job=job)


def _ingest_chunks(*, batch: ImportBatch, job: Job, handle: object, items: Iterator[CandidateRow | RowError]) -> None:
    """Write the chunks after the checkpoint, each in a transaction with the checkpoint and the job progress."""
    position, allowed = _chunk_enter(batch=batch, items=items, position=0)
    while True:
        chunk: list[CandidateRow | RowError] = []
        try:
            with transaction.atomic():
                if _checkpoint_locked(batch=batch) == position:
                    chunk = list(islice(items, settings.LEDGER_INGEST_CHUNK_ROWS))
                    if not chunk:
                        return
                    written = (_write_chunk(batch=batch, items=chunk) if allowed
                               else _reject_chunk(batch=batch, items=chunk, first_row=position))
                    _advance_checkpoint(batch=batch, rows_done=position + len(chunk), chunk=written)
                    _classify_segment_queue(batch=batch, job=job, rows_before=position, chunk=chunk)
                    job_progress(job=job, processed=position + len(chunk), total=None,
                                 percent=_percent_read(handle, batch.size_bytes))
        except Exception:
            chunk_attempt_give_back(batch_id=batch.id, first_row=position)
            raise
        if not chunk:  # another run committed the chunk at our position meanwhile: catch up with it
            logger.info("import %s: another run wrote the rows from %s on; catching up with it", batch.id, position)
            position, allowed = _chunk_enter(batch=batch, items=items, position=position)
            continue
        position, allowed = position + len(chunk), True
        import_rows_record(  # after the commit: a rolled-back chunk counts nothing
            imported=written.imported, duplicates=written.duplicates, rejected=len(written.errors)
        )


def _classify_segment_queue(*, batch: ImportBatch, job: Job, rows_before: int,
                            chunk: list[CandidateRow | RowError]) -> None:
    """Queue the classification of the rows so far when this chunk crosses a multiple of
    LEDGER_CLASSIFY_SEGMENT_ROWS. In the chunk's transaction: only the run that commits the chunk queues it (and
    the job is sent after the commit), so each segment gets one job.

    Not for a company with two bank accounts: every post_propose job first pairs transfers between them (a
    self-join over all its unbooked lines), which would then run once per segment, each time with part of the
    file; such an import keeps one classify job, at the end."""
    segment = settings.LEDGER_CLASSIFY_SEGMENT_ROWS
    if batch.labeled or not segment or (rows_before + len(chunk)) // segment == rows_before // segment:
        return
    if company_has_two_bank_accounts(company_id=batch.company_id):
        return
    job_create(company=batch.company, kind=JobKind.CLASSIFY, created_by=job.created_by,
               params={"import_batch": str(batch.id), "through_line": chunk[-1].line})


def _chunk_enter(*, batch: ImportBatch, items: Iterator[object], position: int) -> tuple[int, bool]:
    """Catch up with the checkpoint and count this run's attempt at the chunk there, committed before its work.

    Returns the new position and whether the chunk may be written (False: it crashed the worker too often).
    """
    # The checkpoint may be far ahead: parse up to it before taking the lock, then the little that moved since.
    position = _catch_up(items, position=position, checkpoint=ImportBatch.objects.values_list(
        "rows_done", flat=True).get(id=batch.id))
    with transaction.atomic():
        checkpoint, allowed = chunk_attempt_begin(batch_id=batch.id)
        position = _catch_up(items, position=position, checkpoint=checkpoint)
    return position, allowed


def _checkpoint_locked(*, batch: ImportBatch) -> int:
    """The committed checkpoint, with the batch row locked to the end of the transaction: one chunk writer at once."""
    return ImportBatch.objects.select_for_update().values_list("rows_done", flat=True).get(id=batch.id)


def _reject_chunk(*, batch: ImportBatch, items: list[CandidateRow | RowError], first_row: int) -> _Chunk:
    """A chunk that crashed the worker LEDGER_CHUNK_MAX_ATTEMPTS times: every row rejected with the reason."""
    attempts = chunk_attempt_fail(batch_id=batch.id, first_row=first_row, rows=len(items))
    message = chunk_failure_message(first_line=items[0].line, last_line=items[-1].line, attempts=attempts)
    logger.warning("import %s: %s", batch.id, message)
    skipped = _Chunk(errors=[RowError(item.line, "", message) for item in items])
    _row_errors_create(batch=batch, errors=skipped.errors)
    return skipped


def _import_batch_finish(*, batch: ImportBatch, job: Job) -> JobOutcome:
    """Mark the import done, audit it and queue its classification — once, whichever run gets here first."""
    with transaction.atomic():
        first = ImportBatch.objects.filter(id=batch.id, status=ImportStatus.IMPORTING).update(
            status=ImportStatus.IMPORTED, finished_at=timezone.now()
        )
        ImportBatch.objects.filter(id=batch.id).update(chunk_attempts=0)  # no chunk past the last one
        batch.refresh_from_db()
        summary = import_batch_summary(batch=batch)
        if not first:
            classify = (Job.objects.filter(kind=JobKind.CLASSIFY, params__import_batch=str(batch.id))
                        .exclude(params__has_key="through_line").first())
            if classify is not None:
                summary["classify_job_id"] = str(classify.id)
            return JobOutcome(result=summary, has_errors=batch.rejected_count > 0)
        logger.info(
            "import %s (%s) finished: %s rows, %s imported, %s duplicates, %s rejected", batch.id,
            batch.original_filename, summary["rows"], summary["imported"], summary["duplicates"], summary["rejected"],
        )
        audit_record(
            action="import.finish", company=batch.company, system="ingest", target=batch,
            after={key: summary[key] for key in ("rows", "imported", "duplicates", "rejected")},
        )
        if not batch.labeled and batch.imported_count:
            # The new rows go straight on to classification (a job of its own, on the default queue).
            classify, _ = job_create(
                company=batch.company, kind=JobKind.CLASSIFY, created_by=job.created_by,
                params={"import_batch": str(batch.id)},
            )
            summary["classify_job_id"] = str(classify.id)
    return JobOutcome(result=summary, has_errors=batch.rejected_count > 0)


def import_batch_summary(*, batch: ImportBatch) -> dict[str, object]:
    """The per-file result the API, the CLI and the upload page show."""
    errors = list(batch.row_errors.values("line", "column", "message")[:RESULT_ERROR_LIMIT])
    duplicates = [
        {"line": line, "date": date.isoformat(), "description": description, "amount": str(amount)}
        for line, date, description, amount in batch.duplicates.values_list(
            "line", "date", "description", "amount"
        )[:RESULT_ERROR_LIMIT]
    ]
    return {
        "import_id": str(batch.id),
        "file": batch.original_filename,
        "rows": batch.imported_count + batch.duplicate_count + batch.rejected_count,
        "imported": batch.imported_count,
        "duplicates": batch.duplicate_count,
        "rejected": batch.rejected_count,
        "errors": errors,
        "errors_truncated": batch.rejected_count > len(errors),
        "duplicate_rows": duplicates,  # the rows already in the books, first 100
    }


def _catch_up(items: Iterator[object], *, position: int, checkpoint: int) -> int:
    """Consume the rows committed up to the checkpoint (still parsed: the file is a stream); the new position."""
    if checkpoint < position:
        raise RuntimeError(f"The import checkpoint moved back from {position} to {checkpoint}.")
    for _ in islice(items, checkpoint - position):
        pass
    return checkpoint


def _percent_read(handle: object, size: int) -> int:
    try:
        position = handle.tell()  # type: ignore[attr-defined]
    except (OSError, ValueError):
        return 0
    return min(99, position * 100 // size) if size else 0


def chart_lookup(*, company_id: int) -> dict[str, Account]:
    """Labeled files name accounts by code or by name; both resolve, case-insensitively for names."""
    lookup: dict[str, Account] = {}
    for account in Account.objects.filter(company_id=company_id, is_active=True):
        lookup[account.code] = account
        lookup[account.name.casefold()] = account
        lookup[f"{account.code} {account.name}".casefold()] = account
    return lookup


@dataclass
class CandidateRow:
    """A valid row on its way into the Transaction table (plain values: model instances cost too much per row)."""

    line: int
    date: object
    description: str
    counterparty: str
    amount: Decimal
    currency: str
    balance: Decimal | None
    external_id: str
    fingerprint: uuid.UUID
    account_id: int | None
    occurrence: int = 1


def _prepared_rows(
    *, batch: ImportBatch, rows: Iterable[ParsedRow | RowError], accounts: dict[str, Account]
) -> Iterator[CandidateRow | RowError]:
    """Each parsed row as the values to insert, or as the error that rejects it (runs in the read-ahead thread)."""
    for row in rows:
        if isinstance(row, RowError):
            yield row
            continue
        problem = row_problem(row, labeled=batch.labeled, accounts=accounts)
        yield problem if problem is not None else _candidate(batch=batch, row=row, accounts=accounts)


def _write_chunk(*, batch: ImportBatch, items: Iterable[CandidateRow | RowError]) -> _Chunk:
    written = _Chunk()
    candidates: list[CandidateRow] = []
    for item in items:
        if isinstance(item, RowError):
            written.errors.append(item)
        else:
            candidates.append(item)
    if candidates:
        write = chunk_write_postgres if connection.vendor == "postgresql" else _chunk_write_portable
        written.imported, written.duplicates = write(batch=batch, candidates=candidates)
    _row_errors_create(batch=batch, errors=written.errors)
    return written


def _row_errors_create(*, batch: ImportBatch, errors: list[RowError]) -> None:
    if errors:
        ImportRowError.objects.bulk_create(
            ImportRowError(batch=batch, line=error.line, column=error.column[:100], message=error.message[:500])
            for error in errors
        )


def _chunk_write_portable(*, batch: ImportBatch, candidates: list[CandidateRow]) -> tuple[int, int]:
    """Any database: number occurrences in Python, insert with the ORM; the unique constraints decide
    what is new, so two workers or two concurrent uploads of one file never insert a row twice."""
    _number_occurrences(batch=batch, candidates=candidates)
    now = timezone.now()
    Transaction.objects.bulk_create(
        [_as_model(batch=batch, row=row, now=now) for row in candidates], ignore_conflicts=True
    )
    inserted_lines = set(
        Transaction.objects.filter(
            import_batch=batch, line__gte=candidates[0].line, line__lte=candidates[-1].line
        ).values_list("line", flat=True)
    )
    duplicates = [row for row in candidates if row.line not in inserted_lines]
    ImportDuplicate.objects.bulk_create(
        ImportDuplicate(
            batch=batch, line=row.line, date=row.date, description=row.description, amount=row.amount,
            fingerprint=row.fingerprint, occurrence=row.occurrence, external_id=row.external_id,
        )
        for row in duplicates
    )
    return len(inserted_lines), len(duplicates)


def _status(row: CandidateRow) -> str:
    return TransactionStatus.CATEGORIZED if row.account_id else TransactionStatus.UNCATEGORIZED


def _as_model(*, batch: ImportBatch, row: CandidateRow, now: object) -> Transaction:
    return Transaction(
        company_id=batch.company_id, bank_account_id=batch.bank_account_id, import_batch_id=batch.id,
        line=row.line, date=row.date, description=row.description, counterparty=row.counterparty,
        amount=row.amount, currency=row.currency, balance=row.balance, external_id=row.external_id,
        fingerprint=row.fingerprint, occurrence=row.occurrence, status=_status(row), account_id=row.account_id,
        confirmed_at=now if row.account_id else None, created_at=now,
    )


def row_problem(row: ParsedRow, *, labeled: bool, accounts: dict[str, Account]) -> RowError | None:
    """Checks the parser cannot make because they depend on our schema or the company's chart."""
    if row.amount != row.amount.quantize(CENT):
        return RowError(row.line, "amount", f"{row.amount} has more than 2 decimal places.")
    if abs(row.amount) >= Decimal("1e12"):
        return RowError(row.line, "amount", f"{row.amount} is larger than 999,999,999,999.99.")
    if not row.description.strip():
        return RowError(row.line, "description", "The description is empty; expected some text.")
    for column, text in (("description", row.description), ("counterparty", row.counterparty)):
        if "\x00" in text:  # a database text value cannot hold it; binary junk in a text file, most likely
            return RowError(row.line, column, "The text contains a NUL character (byte 0); expected plain text.")
    if labeled:
        if not row.account:
            return RowError(row.line, "account", "The account is empty; a labeled file needs an account code or name.")
        if _resolve_account(row.account, accounts) is None:
            return RowError(
                row.line, "account", f"{row.account!r} is not an account code or name in this company's chart."
            )
    return None


def _resolve_account(value: str | None, accounts: dict[str, Account]) -> Account | None:
    if not value:
        return None
    value = value.strip()
    return accounts.get(value) or accounts.get(value.casefold())


def _candidate(*, batch: ImportBatch, row: ParsedRow, accounts: dict[str, Account]) -> CandidateRow:
    category = _resolve_account(row.account, accounts) if batch.labeled else None
    return CandidateRow(
        line=row.line,
        date=row.date,
        description=row.description[:500],
        counterparty=row.counterparty[:255],
        amount=row.amount,
        currency=(row.currency or "")[:3],
        balance=row.balance,
        external_id=(row.reference or "")[:100],
        fingerprint=transaction_fingerprint(bank_account_id=batch.bank_account_id, row=row),
        account_id=category.id if category else None,
    )


def _number_occurrences(*, batch: ImportBatch, candidates: list[CandidateRow]) -> None:
    """occurrence = 1 + rows with the same fingerprint earlier in this file (earlier chunks read from the DB).

    Memory stays bounded however long the file: earlier chunks are asked for in one indexed query per chunk
    (the partial unique index on (bank account, fingerprint, occurrence)), never kept in a Python dict.
    """
    fingerprints = {row.fingerprint for row in candidates if not row.external_id}
    seen: dict[uuid.UUID, int] = {}
    if fingerprints:
        inserted = Transaction.objects.filter(
            bank_account_id=batch.bank_account_id, external_id="", import_batch=batch, fingerprint__in=fingerprints
        ).values_list("fingerprint", "occurrence").order_by()
        skipped = (
            ImportDuplicate.objects.filter(batch=batch, fingerprint__in=fingerprints)
            .values_list("fingerprint", "occurrence")
            .order_by()
        )
        for fingerprint, occurrence in inserted.union(skipped, all=True):
            seen[fingerprint] = max(seen.get(fingerprint, 0), occurrence)
    for row in candidates:
        if not row.external_id:
            seen[row.fingerprint] = seen.get(row.fingerprint, 0) + 1
            row.occurrence = seen[row.fingerprint]


def _advance_checkpoint(*, batch: ImportBatch, rows_done: int, chunk: _Chunk) -> None:
    ImportBatch.objects.filter(id=batch.id).update(
        rows_done=rows_done,
        chunk_attempts=1,  # this run now starts the next chunk: its first attempt, committed with this one
        imported_count=F("imported_count") + chunk.imported,
        duplicate_count=F("duplicate_count") + chunk.duplicates,
        rejected_count=F("rejected_count") + len(chunk.errors),
    )
