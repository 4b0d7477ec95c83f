"""The ingest job: stream a stored bank file through the parser and write it in committed chunks.

Each chunk of LEDGER_INGEST_CHUNK_ROWS rows is one database transaction that inserts its transactions,
records its duplicates and row errors, advances the batch checkpoint (`rows_done`) and the job progress.
A re-run after a crash skips the committed rows, so a file is imported exactly once, with no gap.
"""
from __future__ import annotations

import hashlib
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
from transactions.services.audit import audit_record
from transactions.services.ingest_postgres import chunk_write_postgres

RESULT_ERROR_LIMIT = 100  # the job result lists the first errors; all of them stay in ImportRowError
CENT = Decimal("0.01")


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
    """Ingest the ImportBatch behind `job`; resumes after the last committed chunk."""
    batch = ImportBatch.objects.select_related("company", "bank_account").get(job=job)
    if batch.company_id != job.company_id or batch.bank_account.company_id != job.company_id:
        raise ImportRejected("The import does not belong to the job's company.", code="tenant_mismatch")
    layout = Layout.from_dict(batch.layout)
    accounts = chart_lookup(company_id=batch.company_id) if batch.labeled else {}
    ImportBatch.objects.filter(id=batch.id).update(status=ImportStatus.IMPORTING)
    chunk_rows = settings.LEDGER_INGEST_CHUNK_ROWS
    try:
        with batch.file.open("rb") as handle:
            items = iter_rows(handle, layout)
            _skip(items, batch.rows_done)
            rows_done = batch.rows_done
            while chunk := list(islice(items, chunk_rows)):
                with transaction.atomic():
                    written = _write_chunk(batch=batch, items=chunk, accounts=accounts)
                    rows_done += len(chunk)
                    _advance_checkpoint(batch=batch, rows_done=rows_done, chunk=written)
                    job_progress(
                        job=job, processed=rows_done, total=None, percent=_percent_read(handle, batch.size_bytes)
                    )
    except FileRejected as error:
        ImportBatch.objects.filter(id=batch.id).update(status=ImportStatus.FAILED)
        raise ImportRejected(f"{batch.original_filename}: {error.message}", code=error.code) from error
    ImportBatch.objects.filter(id=batch.id).update(status=ImportStatus.IMPORTED, finished_at=timezone.now())
    batch.refresh_from_db()
    summary = import_batch_summary(batch=batch)
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


def _skip(items: Iterator[object], count: int) -> None:
    """Consume the rows a previous run already committed (still parsed: the file is a stream)."""
    for _ in islice(items, count):
        pass


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


def _write_chunk(*, batch: ImportBatch, items: Iterable[ParsedRow | RowError], accounts: dict[str, Account]) -> _Chunk:
    written = _Chunk()
    candidates: list[CandidateRow] = []
    for item in items:
        if isinstance(item, RowError):
            written.errors.append(item)
            continue
        problem = row_problem(item, labeled=batch.labeled, accounts=accounts)
        if problem is not None:
            written.errors.append(problem)
            continue
        candidates.append(_candidate(batch=batch, row=item, accounts=accounts))
    if candidates:
        write = chunk_write_postgres if connection.vendor == "postgresql" else _chunk_write_portable
        written.imported, written.duplicates = write(batch=batch, candidates=candidates)
    if written.errors:
        ImportRowError.objects.bulk_create(
            ImportRowError(batch=batch, line=error.line, column=error.column[:100], message=error.message[:500])
            for error in written.errors
        )
    return written


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
        imported_count=F("imported_count") + chunk.imported,
        duplicate_count=F("duplicate_count") + chunk.duplicates,
        rejected_count=F("rejected_count") + len(chunk.errors),
    )
