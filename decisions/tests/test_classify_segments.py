"""A large import is classified in segments while it is read (LEDGER_CLASSIFY_SEGMENT_ROWS), so a second worker
classifies and books its first rows while the first worker still reads the file."""
from __future__ import annotations

import pytest

from decisions.models import Decision, DecisionStatus
from jobs.models import Job, JobKind
from jobs.services import job_run
from ledger.models import JournalEntry
from rules.services.lifecycle import rule_create
from rules.tests.factories import vendor_rule
from transactions.models import Account, Transaction
from transactions.tests.test_ingest import run_import

ROWS = 12  # file lines 2..13


def statement(rows: int = ROWS) -> bytes:
    """Every third row is a STAPLES purchase (a rule books it); the rest go to review (no model)."""
    lines = ["Date,Description,Amount"] + [
        f"2025-03-{day:02d},{'STAPLES 00123' if day % 3 == 0 else f'SHOP {day}'},-{day}.25"
        for day in range(1, rows + 1)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def segmented(settings):
    settings.LEDGER_INGEST_CHUNK_ROWS = 3  # chunks end at lines 4, 7, 10, 13
    settings.LEDGER_CLASSIFY_SEGMENT_ROWS = 5  # crossed by the chunks ending at rows 6 and 12
    settings.USE_ML = False


def classify_jobs(batch) -> list[Job]:
    return list(Job.objects.filter(kind=JobKind.CLASSIFY, params__import_batch=str(batch.id)).order_by("created_at"))


def decided_lines(batch) -> list[int]:
    return sorted(Decision.objects.filter(transaction__import_batch=batch, is_current=True)
                  .values_list("transaction__line", flat=True))


def test_the_chunk_that_crosses_a_segment_queues_a_classify_job_for_the_lines_so_far(company_a, segmented):
    batch = run_import(company_a, statement())

    jobs = classify_jobs(batch)

    assert [job.params.get("through_line") for job in jobs] == [7, 13, None]  # two segments, then the last job
    assert batch.job.result["classify_job_id"] == str(jobs[-1].id)  # the import names its last one


def test_each_segment_decides_its_own_lines_and_the_last_job_what_is_left(company_a, admin_a, segmented):
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    batch = run_import(company_a, statement())
    first, second, last = classify_jobs(batch)

    job_run(job_id=first.id, worker="test")

    assert decided_lines(batch) == list(range(2, 8))
    first.refresh_from_db()
    assert first.result["transactions"] == 6 and first.result["to_book"] == 2  # days 3 and 6
    post = Job.objects.get(id=first.result["post_propose_job_id"])
    job_run(job_id=post.id, worker="test")
    assert sorted(JournalEntry.objects.values_list("source_transaction__line", flat=True)) == [4, 7]

    # The last job may run before a segment (another worker, another queue order): it takes what is pending
    job_run(job_id=last.id, worker="test")
    job_run(job_id=second.id, worker="test")

    last.refresh_from_db()
    second.refresh_from_db()
    assert last.result["transactions"] == 6 and second.result["transactions"] == 0
    assert second.result["post_propose_job_id"] is None  # a segment with nothing to book queues no post_propose
    assert last.result["post_propose_job_id"] is not None
    assert decided_lines(batch) == list(range(2, ROWS + 2))  # every row decided, once
    assert not Transaction.objects.filter(import_batch=batch, status="uncategorized").exists()
    job_run(job_id=last.result["post_propose_job_id"], worker="test")
    booked = sorted(JournalEntry.objects.values_list("source_transaction__line", flat=True))
    assert booked == sorted(Decision.objects.filter(status=DecisionStatus.AUTO_APPROVED)
                            .values_list("transaction__line", flat=True)) == [4, 7, 10, 13]


@pytest.mark.parametrize("segment_rows", [0, 50])
def test_an_import_smaller_than_a_segment_or_with_segments_off_has_one_classify_job(company_a, segmented, settings,
                                                                                    segment_rows):
    settings.LEDGER_CLASSIFY_SEGMENT_ROWS = segment_rows

    batch = run_import(company_a, statement())

    assert [job.params.get("through_line") for job in classify_jobs(batch)] == [None]


def test_a_company_with_two_bank_accounts_classifies_an_import_at_the_end_only(company_a, segmented):
    """Every post_propose pairs transfers between its bank accounts first: not once per segment, with part of
    the file read."""
    Account.objects.create(company=company_a, code="1010", name="Savings", type="asset", is_bank=True)

    batch = run_import(company_a, statement())

    assert [job.params.get("through_line") for job in classify_jobs(batch)] == [None]


def test_a_labeled_import_queues_no_classification(company_a, segmented):
    content = statement().replace(b"Date,Description,Amount", b"Date,Description,Amount,Account")
    content = b"\n".join(line + b",6100" if i else line for i, line in enumerate(content.splitlines())) + b"\n"

    batch = run_import(company_a, content, labeled=True)

    assert batch.imported_count == ROWS and classify_jobs(batch) == []


def test_the_recent_jobs_on_the_home_page_name_a_segments_lines(client, company_a, admin_a, segmented):
    run_import(company_a, statement())
    client.force_login(admin_a)

    html = client.get("/").content.decode()

    assert "(rows to line 7)" in html and "(rows to line 13)" in html


def test_each_segments_post_propose_books_its_own_stretch_of_decisions(company_a, admin_a, segmented):
    """With one worker every classify job runs before any post_propose: the first one's post_propose must still
    book only its segment (decisions up to the highest id when its classify job ended), not walk the rest."""
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    batch = run_import(company_a, statement())
    jobs = classify_jobs(batch)
    for job in jobs:
        job_run(job_id=job.id, worker="test")
    first, second = (Job.objects.get(id=Job.objects.get(id=job.id).result["post_propose_job_id"]) for job in jobs[:2])

    job_run(job_id=first.id, worker="test")
    assert sorted(JournalEntry.objects.values_list("source_transaction__line", flat=True)) == [4, 7]

    job_run(job_id=second.id, worker="test")
    assert sorted(JournalEntry.objects.values_list("source_transaction__line", flat=True)) == [4, 7, 10, 13]


def test_a_segment_rerun_after_its_chunks_committed_still_queues_its_post_propose(company_a, admin_a, segmented):
    """The first attempt wrote every decision of the segment and died before queueing the post_propose: the re-run
    finds nothing pending, and must still queue one over the first attempt's decisions (its mark is kept)."""
    from decisions.services import _decisions_mark, transactions_classify

    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    batch = run_import(company_a, statement())
    first = classify_jobs(batch)[0]
    _decisions_mark(first)  # the first attempt: its mark, then its committed chunks
    transactions_classify(company=company_a, import_batch_id=batch.id, through_line=first.params["through_line"])
    Job.objects.filter(id=first.id).update(attempts=1)  # ... then the worker died

    job_run(job_id=first.id, worker="test")

    first.refresh_from_db()
    assert (first.attempts, first.result["transactions"], first.result["to_book"]) == (2, 0, 0)
    job_run(job_id=first.result["post_propose_job_id"], worker="test")
    assert sorted(JournalEntry.objects.values_list("source_transaction__line", flat=True)) == [4, 7]


def test_a_late_duplicate_ingest_run_reports_the_imports_last_classify_job(company_a, segmented):
    from transactions.services.ingest import import_batch_ingest

    batch = run_import(company_a, statement())

    again = import_batch_ingest(job=Job.objects.get(id=batch.job_id)).result

    assert again["classify_job_id"] == str(classify_jobs(batch)[-1].id)
