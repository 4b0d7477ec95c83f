"""Accepting a bank file: store it under a generated name, detect its layout, and start the ingest job.

Two doors use these functions: the API and the CLI submit in one step (`import_batch_submit`); the upload
page stores and previews first (`import_batch_upload`), then starts the job once the user confirms the
layout (`import_batch_confirm`).
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace
from typing import IO, Any

from django.conf import settings
from django.core.files.base import File
from django.db import transaction

from jobs.models import JobKind
from jobs.services import job_create
from transactions.exceptions import AmbiguousDateFormat, ImportConflict, ImportRejected, UploadTooLarge
from transactions.models import Account, Company, ImportBatch, ImportProfile, ImportStatus
from transactions.parsing import FileRejected, Layout, detect_layout, layout_with_mapping
from transactions.services.audit import audit_record
from transactions.services.rates import upload_rate_check

HASH_BLOCK = 1024 * 1024


def file_sha256(handle: IO[bytes]) -> str:
    """sha256 of a file, read in blocks; leaves the handle at the start."""
    digest = hashlib.sha256()
    handle.seek(0)
    while block := handle.read(HASH_BLOCK):
        digest.update(block)
    handle.seek(0)
    return digest.hexdigest()


def bank_account_for(*, company: Company, code: str) -> Account:
    """The company's bank account with this code; a precise error otherwise."""
    account = Account.objects.filter(company=company, code=code).first()
    if account is None:
        raise ImportRejected(f"{company.name} has no account with code {code!r}.", code="unknown_bank_account")
    if not account.is_bank:
        raise ImportRejected(f"Account {account} is not a bank account.", code="not_a_bank_account")
    return account


def bank_account_refuse_while_undoing(*, bank_account: Account) -> None:
    """Refuse to start an import into a bank account while one of its imports is being undone: the rows that undo
    has not deleted yet would count as duplicates of the new file's, and then be deleted. Locks the bank account
    row to the end of the transaction, as `import_undo_request` does, so an undo cannot start in between."""
    list(Account.objects.select_for_update().filter(pk=bank_account.pk).values_list("pk", flat=True))
    undoing = ImportBatch.objects.filter(bank_account=bank_account, status=ImportStatus.UNDOING).first()
    if undoing is not None:
        raise ImportConflict(
            f"The import of {undoing.original_filename} into {bank_account.code} {bank_account.name} is being "
            "undone; import into this account again once the undo has finished.",
            extra={"import_id": str(undoing.pk)})


def import_batch_submit(
    *,
    company: Company,
    bank_account: Account,
    upload: IO[bytes],
    filename: str,
    user: Any,
    labeled: bool = False,
    layout_override: dict[str, Any] | None = None,
    date_format: str = "",
    idempotency_key: str = "",
    enqueue: bool = True,
) -> ImportBatch:
    """Store, detect and queue a file in one step (API, CLI). A repeated Idempotency-Key returns the first batch.

    With `enqueue=False` no message is sent: the caller runs the job in-process (`job_run`).
    """
    sha256 = file_sha256(upload)
    request_hash = _request_hash(
        sha256=sha256, bank_account=bank_account, labeled=labeled, layout=layout_override, date_format=date_format
    )
    batch_id = uuid.uuid4()
    with transaction.atomic():
        bank_account_refuse_while_undoing(bank_account=bank_account)
        job, created = job_create(
            company=company,
            kind=JobKind.INGEST,
            created_by=user,
            params={"import_id": str(batch_id)},
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            enqueue=enqueue,
        )
        if not created:
            return ImportBatch.objects.get(job=job)
        if _user_or_none(user):
            upload_rate_check(user=user, company=company)
        batch = _store(
            batch_id=batch_id, company=company, bank_account=bank_account, upload=upload,
            filename=filename, user=user, labeled=labeled, sha256=sha256,
        )
        try:
            batch.layout = _choose_layout(batch=batch, layout_override=layout_override, date_format=date_format).to_dict()
            batch.job = job
            batch.status = ImportStatus.QUEUED
            batch.save(update_fields=["layout", "job", "status"])
        except BaseException:
            batch.file.delete(save=False)
            raise
        _audit_upload(batch=batch, user=user, action="import.upload")
    return batch


def import_batch_upload(
    *, company: Company, bank_account: Account, upload: IO[bytes], filename: str, user: Any, labeled: bool = False
) -> ImportBatch:
    """Store the file and detect its layout; the batch waits in PREVIEW until the user confirms."""
    upload_rate_check(user=user, company=company)
    batch = _store(
        batch_id=uuid.uuid4(), company=company, bank_account=bank_account, upload=upload,
        filename=filename, user=user, labeled=labeled, sha256=file_sha256(upload),
    )
    try:
        with batch.file.open("rb") as handle:
            batch.layout = layout_detect(handle=handle, filename=filename, bank_account=bank_account).to_dict()
    except FileRejected as error:
        batch.file.delete(save=False)
        batch.delete()
        raise ImportRejected(f"{filename}: {error.message}", code=error.code) from error
    batch.save(update_fields=["layout"])
    _audit_upload(batch=batch, user=user, action="import.upload")
    return batch


def import_batch_confirm(
    *, batch: ImportBatch, user: Any, layout_override: dict[str, Any] | None = None, date_format: str = ""
) -> ImportBatch:
    """Start the ingest job for a previewed batch, with the layout as the user confirmed it. Idempotent.

    The confirmed layout is saved as the bank account's profile for this export, so the next file with the
    same header is read the same way without asking.
    """
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("company", "bank_account").get(id=batch.id)
        if batch.status != ImportStatus.PREVIEW:
            return batch  # already confirmed (a double click, a resubmitted form)
        bank_account_refuse_while_undoing(bank_account=batch.bank_account)
        layout = _choose_layout(batch=batch, layout_override=layout_override, date_format=date_format)
        batch.layout = layout.to_dict()
        if layout.mapping is not None:
            ImportProfile.objects.update_or_create(
                bank_account=batch.bank_account,
                fingerprint=layout.fingerprint,
                defaults={"company": batch.company, "layout": batch.layout, "confirmed_by": _user_or_none(user)},
            )
        batch.job, _ = job_create(
            company=batch.company, kind=JobKind.INGEST, created_by=user, params={"import_id": str(batch.id)}
        )
        batch.status = ImportStatus.QUEUED
        batch.save(update_fields=["layout", "job", "status"])
        audit_record(
            action="import.confirm", company=batch.company, actor=user, target=batch,
            after={"file": batch.original_filename, "mapping": batch.layout.get("mapping")},
        )
    return batch


def _audit_upload(*, batch: ImportBatch, user: Any, action: str) -> None:
    audit_record(
        action=action, company=batch.company, actor=user, target=batch,
        after={"file": batch.original_filename, "sha256": batch.sha256, "bytes": batch.size_bytes,
               "bank_account": batch.bank_account.code},
    )


def _store(
    *, batch_id: uuid.UUID, company: Company, bank_account: Account, upload: IO[bytes], filename: str,
    user: Any, labeled: bool, sha256: str,
) -> ImportBatch:
    if bank_account.company_id != company.id:
        raise ImportRejected("The bank account belongs to another company.", code="unknown_bank_account")
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(0)
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    if size > limit:
        raise UploadTooLarge(f"{filename} is {size / 1048576:.1f} MB; the limit is {settings.MAX_UPLOAD_MB} MB.")
    batch = ImportBatch(
        id=batch_id,
        company=company,
        bank_account=bank_account,
        uploaded_by=_user_or_none(user),
        original_filename=filename[:255],
        size_bytes=size,
        sha256=sha256,
        labeled=labeled,
    )
    batch.file.save("upload", File(upload), save=False)
    try:
        batch.save(force_insert=True)
    except BaseException:
        batch.file.delete(save=False)
        raise
    return batch


def layout_detect(*, handle: IO[bytes], filename: str, bank_account: Account | None) -> Layout:
    """Detect the file's layout; a saved profile for the same export (same header fingerprint) wins."""
    layout = detect_layout(handle, filename=filename)
    if bank_account is None or layout.mapping is None:
        return layout
    profile = ImportProfile.objects.filter(bank_account=bank_account, fingerprint=layout.fingerprint).first()
    if profile is None:
        return layout
    saved = Layout.from_dict(profile.layout)
    return replace(layout_with_mapping(layout, saved.mapping), date_format_candidates=saved.date_format_candidates)


def layout_resolve(
    *,
    handle: IO[bytes],
    filename: str,
    layout_override: dict[str, Any] | None = None,
    date_format: str = "",
    bank_account: Account | None = None,
) -> Layout:
    """The explicit layout if given, else the detected one; an ambiguous date format must be decided."""
    try:
        layout = (
            Layout.from_dict(layout_override)
            if layout_override
            else layout_detect(handle=handle, filename=filename, bank_account=bank_account)
        )
    except FileRejected as error:
        raise ImportRejected(f"{filename}: {error.message}", code=error.code) from error
    except ValueError as error:
        raise ImportRejected(f"{filename}: the layout is not valid: {error}", code="invalid_layout") from error
    if date_format:
        if layout.mapping is None:
            raise ImportRejected(f"{filename}: date_format applies to CSV files only.", code="invalid_layout")
        layout = replace(
            layout, mapping=replace(layout.mapping, date_format=date_format), date_format_candidates=(date_format,)
        )
    elif layout.is_ambiguous:
        raise AmbiguousDateFormat(
            f"{filename}: the dates could be read in more than one way "
            f"({', '.join(layout.date_format_candidates)}); choose one with date_format.",
            extra={"date_format_candidates": list(layout.date_format_candidates)},
        )
    return layout


def _choose_layout(*, batch: ImportBatch, layout_override: dict[str, Any] | None, date_format: str) -> Layout:
    with batch.file.open("rb") as handle:
        return layout_resolve(
            handle=handle,
            filename=batch.original_filename,
            layout_override=layout_override or batch.layout or None,
            date_format=date_format,
            bank_account=batch.bank_account,
        )


def _user_or_none(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


def _request_hash(**parts: Any) -> str:
    parts["bank_account"] = parts["bank_account"].pk
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
