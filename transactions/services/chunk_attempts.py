"""How often an import chunk crashed the worker, so that a chunk which always does is skipped, not retried forever.

A worker killed mid-chunk (out of memory, a crashing library, a lost machine) cannot record anything, so the
attempt is counted *before* the chunk's work, in `ImportBatch.chunk_attempts` next to the checkpoint it belongs
to, and committed: when a run starts, in a transaction of its own (`chunk_attempt_begin`), and for every later
chunk with the commit of the chunk before it, which sets the count to 1 in the same UPDATE as the checkpoint
(that commit is when this run moves on to the next chunk; it costs no extra statement). A chunk that raises gives
its attempt back: the worker survived, and the job machinery retries (a lost database connection) or fails the job
(a bug). So the count is the runs that started the chunk and vanished; at LEDGER_CHUNK_MAX_ATTEMPTS the next run
rejects the chunk's rows with the reason instead of writing them, and records an ImportChunkFailure.

The counting happens under the batch's row lock, so two runs of one import never count over each other — except
that a run which joins another counts one attempt at the chunk the other is about to write although nothing
crashed; that errs on the side of skipping that chunk one crash sooner.
"""
from __future__ import annotations

import logging
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError
from django.db.transaction import TransactionManagementError
from django.db.models import F
from django.utils import timezone

from transactions.models import ImportBatch, ImportChunkFailure

logger = logging.getLogger(__name__)


def chunk_attempt_begin(*, batch_id: UUID) -> tuple[int, bool]:
    """Lock the import and count an attempt at the chunk at its checkpoint: (checkpoint, may the chunk be tried).

    False: that chunk already crashed the worker LEDGER_CHUNK_MAX_ATTEMPTS times. Call it in a transaction that
    commits before the chunk's work starts.
    """
    checkpoint, attempts = (
        ImportBatch.objects.select_for_update().values_list("rows_done", "chunk_attempts").get(id=batch_id)
    )
    if attempts >= settings.LEDGER_CHUNK_MAX_ATTEMPTS:
        return checkpoint, False
    ImportBatch.objects.filter(id=batch_id).update(chunk_attempts=F("chunk_attempts") + 1)
    return checkpoint, True


def chunk_attempt_fail(*, batch_id: UUID, first_row: int, rows: int) -> int:
    """Record that the chunk at the checkpoint is skipped (in the chunk's transaction); how often it crashed."""
    attempts = ImportBatch.objects.values_list("chunk_attempts", flat=True).get(id=batch_id)
    ImportChunkFailure.objects.create(
        batch_id=batch_id, first_row=first_row, rows=rows, attempts=attempts, failed_at=timezone.now()
    )
    return attempts


def chunk_failure_message(*, first_line: int, last_line: int, attempts: int) -> str:
    """What each row of a skipped chunk says in the import's rejected rows."""
    return (
        f"Not imported: lines {first_line}-{last_line} are one chunk of this file, and it crashed the import worker "
        f"{attempts} times, so it was skipped. Nothing else in the file was affected."
    )


def chunk_attempt_give_back(*, batch_id: UUID, first_row: int) -> None:
    """The chunk at `first_row` raised instead of killing the worker: that attempt does not count (best effort)."""
    try:
        ImportBatch.objects.filter(id=batch_id, rows_done=first_row, chunk_attempts__gt=0).update(
            chunk_attempts=F("chunk_attempts") - 1
        )
    except (DatabaseError, TransactionManagementError):  # never hide the chunk's own error behind this one
        # The database is gone too (the usual reason the chunk failed): the attempt stays counted, which only
        # brings a skip one crash closer.
        logger.warning("could not give back the attempt at row %s of import %s", first_row, batch_id, exc_info=True)
