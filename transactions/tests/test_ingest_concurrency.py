"""Two uploads of one file, ingested at the same moment by two workers, insert one set of rows."""
from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from jobs.services import job_run
from jobs.tests.helpers import bank_csv
from transactions.models import Account, ImportBatch, Transaction
from transactions.services.imports import import_batch_submit


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_uploads_insert_each_row_once(company_a, settings):
    settings.LEDGER_INGEST_CHUNK_ROWS = 50  # many small chunks, so the two jobs interleave
    rows = 2_000
    content = bank_csv(rows)
    bank_account = Account.objects.get(company=company_a, code="1000")
    batches = [
        import_batch_submit(
            company=company_a, bank_account=bank_account, upload=SimpleUploadedFile("same.csv", content),
            filename="same.csv", user=None, enqueue=False,
        )
        for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def ingest(batch: ImportBatch) -> None:
        try:
            barrier.wait(timeout=10)
            job_run(job_id=batch.job_id, worker=f"worker-{batch.id}")
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ingest, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    for batch in batches:
        batch.refresh_from_db()
    assert Transaction.objects.filter(company=company_a).count() == rows
    assert sum(batch.imported_count for batch in batches) == rows
    assert sum(batch.duplicate_count for batch in batches) == rows
    assert all(batch.rejected_count == 0 for batch in batches)
