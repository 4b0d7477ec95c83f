"""The import pipeline, run in-process: de-duplication, row errors, labeled files, resuming after a crash."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from jobs.models import Job, JobStatus
from jobs.services import job_run
from transactions.exceptions import ImportRejected
from transactions.models import Account, ImportBatch, Transaction
from transactions.services.imports import import_batch_submit
from transactions.services.ingest import CandidateRow
from transactions.services.ingest_postgres import chunk_write_postgres


def run_import(company, content: bytes, *, name: str = "bank.csv", labeled: bool = False) -> ImportBatch:
    batch = import_batch_submit(
        company=company, bank_account=Account.objects.get(company=company, code="1000"),
        upload=SimpleUploadedFile(name, content), filename=name, user=None, labeled=labeled, enqueue=False,
    )
    job_run(job_id=batch.job_id, worker="test")
    batch.refresh_from_db()
    return batch


JANUARY = b"""Date,Description,Amount
2025-01-10,STAPLES 00123,-12.50
2025-01-15,SQ *HAMILTON COFFEE #1123,-4.75
2025-01-15,SQ *HAMILTON COFFEE #1123,-4.75
2025-01-20,STRIPE PAYOUT,1500.00
"""
JANUARY_TO_FEBRUARY = b"""Date,Description,Amount
2025-01-15,SQ *HAMILTON COFFEE #1123,-4.75
2025-01-15,SQ *HAMILTON COFFEE #1123,-4.75
2025-01-20,STRIPE PAYOUT,1500.00
2025-02-01,COMCAST CABLE,-89.99
"""


def test_two_identical_rows_in_one_file_are_both_kept(company_a):
    batch = run_import(company_a, JANUARY)

    assert (batch.imported_count, batch.duplicate_count, batch.rejected_count) == (4, 0, 0)
    coffees = Transaction.objects.filter(description__contains="COFFEE").order_by("line")
    assert [(t.line, t.occurrence, t.amount) for t in coffees] == [(3, 1, Decimal("-4.75")), (4, 2, Decimal("-4.75"))]


def test_uploading_the_same_file_again_imports_nothing_and_lists_duplicates(company_a):
    run_import(company_a, JANUARY)

    again = run_import(company_a, JANUARY)

    assert (again.imported_count, again.duplicate_count, again.rejected_count) == (0, 4, 0)
    assert list(again.duplicates.values_list("line", flat=True)) == [2, 3, 4, 5]
    assert Transaction.objects.filter(company=company_a).count() == 4
    result = Job.objects.get(id=again.job_id).result
    assert result["duplicates"] == 4
    assert result["duplicate_rows"][0] == {
        "line": 2, "date": "2025-01-10", "description": "STAPLES 00123", "amount": "-12.50",
    }


def test_overlapping_statement_inserts_only_what_is_new(company_a):
    run_import(company_a, JANUARY)

    overlap = run_import(company_a, JANUARY_TO_FEBRUARY)

    assert (overlap.imported_count, overlap.duplicate_count) == (1, 3)
    assert list(overlap.transactions.values_list("description", flat=True)) == ["COMCAST CABLE"]
    assert Transaction.objects.filter(company=company_a).count() == 5


def test_rejected_rows_are_reported_with_line_and_column_and_valid_rows_imported(company_a):
    content = b"Date,Description,Amount\n2025-01-10,STAPLES,-12.50\n2025-01-11,STAPLES,twelve\n2025-01-12,OFFICE DEPOT,-3.10\n"

    batch = run_import(company_a, content)

    job = Job.objects.get(id=batch.job_id)
    assert job.status == JobStatus.FINISHED_WITH_ERRORS
    assert (batch.imported_count, batch.duplicate_count, batch.rejected_count) == (2, 0, 1)
    [error] = job.result["errors"]
    assert error["line"] == 3
    assert error["column"] == "Amount"
    assert "twelve" in error["message"]
    assert job.result["rows"] == job.result["imported"] + job.result["duplicates"] + job.result["rejected"]


def test_labeled_file_sets_the_account_and_rejects_unknown_accounts(company_a):
    content = (
        b"date,description,amount,account\n"
        b"2025-01-10,STAPLES 00123,-12.50,6100\n"
        b"2025-01-11,STRIPE PAYOUT,900.00,Sales Revenue\n"
        b"2025-01-12,MYSTERY,-1.00,9999\n"
    )

    batch = run_import(company_a, content, labeled=True)

    assert (batch.imported_count, batch.rejected_count) == (2, 1)
    assert dict(Transaction.objects.values_list("description", "account__code")) == {
        "STAPLES 00123": "6100", "STRIPE PAYOUT": "8000",
    }
    error = batch.row_errors.get()
    assert (error.line, error.column) == (4, "account")
    assert "'9999' is not an account code or name" in error.message


def test_resuming_a_job_skips_the_rows_its_committed_chunks_hold(company_a, settings):
    settings.LEDGER_INGEST_CHUNK_ROWS = 2
    batch = run_import(company_a, JANUARY_TO_FEBRUARY)
    Transaction.objects.filter(import_batch=batch, line__gt=3).delete()  # as if the worker died after chunk 1
    ImportBatch.objects.filter(id=batch.id).update(rows_done=2, imported_count=2)
    Job.objects.filter(id=batch.job_id).update(status=JobStatus.QUEUED)

    job_run(job_id=batch.job_id, worker="second")

    batch.refresh_from_db()
    assert (batch.imported_count, batch.duplicate_count) == (4, 0)
    assert sorted(batch.transactions.values_list("line", flat=True)) == [2, 3, 4, 5]


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "empty"), (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "binary"), (b"Date,Description,Amount\n", "header_only")],
)
def test_a_file_that_is_not_a_bank_statement_is_rejected_by_content(company_a, content, code):
    with pytest.raises(ImportRejected) as raised:
        run_import(company_a, content, name="statement.csv")

    assert raised.value.code == code
    assert "statement.csv" in raised.value.message
    assert not ImportBatch.objects.exists()
    assert not Job.objects.exists()


def test_a_nul_character_rejects_its_row_with_the_column_and_the_rest_is_imported(company_a):
    # Far enough into the file that the upload's content check (which refuses binary files) reads past it
    good = b"".join(b"2025-01-10,STAPLES %d,-12.50\n" % number for number in range(20_000))
    content = b"Date,Description,Amount\n" + good + b"2025-01-11,BROKEN\x00TEXT,-1.00\n2025-01-12,OFFICE DEPOT,-3.10\n"

    batch = run_import(company_a, content)

    assert (batch.imported_count, batch.rejected_count) == (20_001, 1)
    [error] = Job.objects.get(id=batch.job_id).result["errors"]
    assert (error["line"], error["column"]) == (20_002, "description")
    assert "NUL" in error["message"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL write path")
@pytest.mark.django_db(transaction=True)  # the chunk's atomic() is a real transaction, not a savepoint
def test_a_chunk_on_postgresql_commits_without_waiting_for_the_disk_and_only_that_transaction(company_a):
    batch = import_batch_submit(
        company=company_a, bank_account=Account.objects.get(company=company_a, code="1000"),
        upload=SimpleUploadedFile("bank.csv", JANUARY), filename="bank.csv", user=None, enqueue=False,
    )
    row = CandidateRow(
        line=2, date=date(2025, 1, 10), description="STAPLES 00123", counterparty="", amount=Decimal("-12.50"),
        currency="", balance=None, external_id="", fingerprint=uuid.uuid4(), account_id=None,
    )
    with connection.cursor() as cursor:
        with transaction.atomic():
            assert chunk_write_postgres(batch=batch, candidates=[row]) == (1, 0)
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
