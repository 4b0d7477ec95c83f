"""Decided bank transactions become balanced journal entries, at most once; on PostgreSQL the database itself
refuses unbalanced entries and changes to posted ones."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from decisions.models import Decision
from decisions.services import transaction_categorize
from ledger.models import EntryStatus, JournalEntry, JournalLine
from ledger.services.postings import entry_lines, journal_entries_propose
from rules.tests.factories import add_lines
from transactions.models import Account, Transaction, TransactionStatus

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="the triggers exist on PostgreSQL; SQLite relies on the services")


def _decide(company, description, amount, account, status="auto_approved", method="ml"):
    [line] = add_lines(company, description, 1, amount=amount)
    category = Account.objects.get(company=company, code=account)
    Decision.objects.create(company=company, transaction=line, method=method, status=status, account=category)
    return line


def _lines(entry):
    return [(line.account.code, line.debit, line.credit) for line in entry.lines.select_related("account")]


@pytest.mark.parametrize(("amount", "expected"), [
    (Decimal("250.00"), [(1, Decimal("250.00"), Decimal("0")), (2, Decimal("0"), Decimal("250.00"))]),
    (Decimal("-12.50"), [(2, Decimal("12.50"), Decimal("0")), (1, Decimal("0"), Decimal("12.50"))]),
])
def test_money_in_debits_the_bank_and_money_out_credits_it(amount, expected):
    assert entry_lines(amount=amount, bank_account_id=1, category_id=2) == expected


def test_decided_transactions_are_proposed_once_each(company_a):
    sale = _decide(company_a, "STRIPE PAYOUT", "400.00", "8000")
    supplies = _decide(company_a, "STAPLES", "-12.50", "6100", status="approved", method="human")
    _decide(company_a, "MYSTERY", "-1.00", "6100", status="needs_review", method="ml_suggestion")

    assert journal_entries_propose(company=company_a) == {"company": "alpha-bakery", "proposed": 2, "posted": 0,
                                                     "transfers": 0}
    assert journal_entries_propose(company=company_a)["proposed"] == 0  # idempotent

    entry = JournalEntry.objects.get(source_transaction=sale)
    assert (entry.status, entry.date, _lines(entry)) == (
        EntryStatus.PROPOSED, sale.date, [("1000", Decimal("400.00"), 0), ("8000", 0, Decimal("400.00"))])
    assert _lines(JournalEntry.objects.get(source_transaction=supplies)) == [
        ("6100", Decimal("12.50"), 0), ("1000", 0, Decimal("12.50"))]


def test_automatic_decisions_are_posted_directly_when_the_company_allows_it(company_a):
    company_a.post_automatic_decisions = True
    company_a.save()
    automatic = _decide(company_a, "STRIPE PAYOUT", "400.00", "8000")
    approved = _decide(company_a, "STAPLES", "-12.50", "6100", status="approved", method="human")

    assert journal_entries_propose(company=company_a)["posted"] == 1

    assert JournalEntry.objects.get(source_transaction=automatic).status == EntryStatus.POSTED
    assert Transaction.objects.get(pk=automatic.pk).status == TransactionStatus.POSTED
    assert JournalEntry.objects.get(source_transaction=approved).status == EntryStatus.PROPOSED


def test_an_approval_hands_the_transaction_to_the_books_and_a_correction_replaces_the_proposal(company_a, reviewer_a):
    line = _decide(company_a, "STAPLES", "-12.50", "6100", status="needs_review", method="ml_suggestion")
    office = Account.objects.get(company=company_a, code="6100")
    sales = Account.objects.get(company=company_a, code="8000")

    transaction_categorize(transaction_id=line.pk, user=reviewer_a, account=office)
    assert _lines(JournalEntry.objects.get(source_transaction=line)) == [
        ("6100", Decimal("12.50"), 0), ("1000", 0, Decimal("12.50"))]

    transaction_categorize(transaction_id=line.pk, user=reviewer_a, account=sales)
    [entry] = JournalEntry.objects.filter(source_transaction=line)
    assert _lines(entry)[0][0] == "8000" and entry.created_by == reviewer_a


def test_the_database_keeps_one_live_entry_per_transaction(company_a):
    line = _decide(company_a, "STAPLES", "-12.50", "6100")
    journal_entries_propose(company=company_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry.objects.create(company=company_a, date=line.date, source_transaction=line)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_unbalanced_entry_is_refused_at_commit_even_through_raw_sql(company_a):
    _decide(company_a, "STAPLES", "-12.50", "6100")
    journal_entries_propose(company=company_a)
    line = JournalLine.objects.filter(debit__gt=0).first()

    with pytest.raises(DatabaseError, match="not balanced"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE ledger_journalline SET debit = debit + 1 WHERE id = %s", [line.pk])

    assert JournalLine.objects.get(pk=line.pk).debit == Decimal("12.50")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_entry_left_without_lines_is_refused_and_one_deleted_with_its_lines_is_not(company_a):
    """The other two verdicts of the balance check at commit: lines = 0 is unbalanced while the entry exists; a
    proposed entry withdrawn together with its lines needs no check."""
    _decide(company_a, "STAPLES", "-12.50", "6100")
    journal_entries_propose(company=company_a)
    entry = JournalEntry.objects.get()

    with pytest.raises(DatabaseError, match=r"not balanced \(0 lines"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_journalline WHERE entry_id = %s", [entry.pk])
    assert JournalLine.objects.filter(entry=entry).count() == 2

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_journalline WHERE entry_id = %s", [entry.pk])
        cursor.execute("DELETE FROM ledger_journalentry WHERE id = %s", [entry.pk])
    assert not JournalEntry.objects.exists() and not JournalLine.objects.exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_posted_entry_and_its_lines_cannot_change(company_a):
    company_a.post_automatic_decisions = True
    company_a.save()
    _decide(company_a, "STAPLES", "-12.50", "6100")
    journal_entries_propose(company=company_a)
    entry = JournalEntry.objects.get()

    for statement in ("UPDATE ledger_journalline SET debit = 0, credit = 0 WHERE entry_id = %s",
                      "DELETE FROM ledger_journalline WHERE entry_id = %s",
                      "DELETE FROM ledger_journalentry WHERE id = %s",
                      "UPDATE ledger_journalentry SET memo = 'changed' WHERE id = %s"):
        with pytest.raises(DatabaseError, match="posted journal entry"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [entry.pk])
    assert _lines(entry) == [("6100", Decimal("12.50"), 0), ("1000", 0, Decimal("12.50"))]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_approvals_book_a_transaction_once(company_a, reviewer_a, admin_a):
    line = _decide(company_a, "STAPLES", "-12.50", "6100", status="needs_review", method="ml_suggestion")
    office = Account.objects.get(company=company_a, code="6100")
    errors: list[Exception] = []

    def approve(user):
        from django.db import connection as thread_connection

        try:
            transaction_categorize(transaction_id=line.pk, user=user, account=office)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=approve, args=(reviewer_a if i % 2 else admin_a,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert JournalEntry.objects.filter(source_transaction=line).count() == 1
    assert JournalLine.objects.count() == 2


def _bulk_decided(company, count):
    """`count` bank lines with a current decision each (every other one auto-approved), written in SQL: enough
    rows for the planner to choose between indexes, and no ANALYZE (autovacuum may not have run yet)."""
    bank = company.accounts.get(code="1000")
    category = Account.objects.get(company=company, code="6100")
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {Transaction._meta.db_table} (line, date, description, counterparty, amount, currency,
                external_id, fingerprint, occurrence, status, created_at, bank_account_id, company_id)
            SELECT n, DATE '2026-06-01', 'LINE ' || n, '', -12.50, 'USD', '', gen_random_uuid(), 1,
                'categorized', now(), %s, %s
            FROM generate_series(1, %s) n""", [bank.pk, company.pk, count])
        cursor.execute(f"""
            INSERT INTO {Decision._meta.db_table} (company_id, transaction_id, method, account_id, alternatives,
                explanation, status, is_current, created_at)
            SELECT company_id, id, 'ml', %s, '[]', '{{}}',
                CASE WHEN id %% 2 = 0 THEN 'auto_approved' ELSE 'needs_review' END, true, now()
            FROM {Transaction._meta.db_table} WHERE company_id = %s""", [category.pk, company.pk])


@postgres_only
def test_a_post_propose_chunk_reads_its_own_rows_whatever_the_statistics(company_a):
    """The chunk walks decision_company_decided in id order and stops at the chunk size. Before that index it
    walked (company, status) over every decided row left and sorted them: 1.9 s a chunk at 10^6 rows."""
    from ledger.services.postings import _chunk_query

    _bulk_decided(company_a, 20_000)
    middle = Decision.objects.order_by("id").values_list("id", flat=True)[10_000]

    plan = _chunk_query(company=company_a, last_id=middle, size=2000).explain()

    assert "decision_company_decided" in plan and "Sort" not in plan, plan


def test_post_propose_books_with_the_lines_in_order_and_posts_in_bulk(company_a, settings):
    """Chunks of 3 over 7 decisions (one split): every entry balanced, bank line where it belongs, automatic
    ones posted with their transactions, the person-approved ones proposed."""
    from ledger.models import SplitLine

    settings.LEDGER_CLASSIFY_CHUNK_ROWS = 3
    company_a.post_automatic_decisions = True
    company_a.save()
    lines = [_decide(company_a, f"SALE {n}", "100.00", "8000") for n in range(4)]
    lines += [_decide(company_a, f"STAPLES {n}", "-12.50", "6100", status="approved", method="human")
              for n in range(2)]
    split = _decide(company_a, "MIXED", "-30.00", "6100")
    sales = Account.objects.get(company=company_a, code="8000")
    office = Account.objects.get(company=company_a, code="6100")
    SplitLine.objects.bulk_create([SplitLine(transaction=split, account=office, amount=Decimal("-20.00"), position=0),
                                   SplitLine(transaction=split, account=sales, amount=Decimal("-10.00"), position=1)])

    assert journal_entries_propose(company=company_a) == {"company": "alpha-bakery", "proposed": 2, "posted": 5,
                                                     "transfers": 0}

    for line in lines[:4]:
        entry = JournalEntry.objects.get(source_transaction=line)
        assert (entry.status, entry.posted_at is not None, _lines(entry)) == (
            EntryStatus.POSTED, True, [("1000", Decimal("100.00"), 0), ("8000", 0, Decimal("100.00"))])
    for line in lines[4:]:
        entry = JournalEntry.objects.get(source_transaction=line)
        assert (entry.status, entry.memo, _lines(entry)) == (
            EntryStatus.PROPOSED, line.description, [("6100", Decimal("12.50"), 0), ("1000", 0, Decimal("12.50"))])
    assert _lines(JournalEntry.objects.get(source_transaction=split)) == [
        ("6100", Decimal("20.00"), 0), ("8000", Decimal("10.00"), 0), ("1000", 0, Decimal("30.00"))]
    statuses = dict(Transaction.objects.values_list("id", "status"))
    assert [statuses[line.id] for line in [*lines, split]] == [TransactionStatus.POSTED] * 4 + [
        TransactionStatus.UNCATEGORIZED] * 2 + [TransactionStatus.POSTED]


def _import_of(company, lines):
    from transactions.models import ImportBatch

    batch = ImportBatch.objects.create(company=company, bank_account=company.accounts.get(code="1000"),
                                       original_filename="small.csv", size_bytes=1, sha256="0" * 64)
    Transaction.objects.filter(pk__in=[line.pk for line in lines]).update(import_batch=batch)
    return batch


def _rows_read(tables):
    """Rows this database transaction has read so far from `tables` (sequential and index fetches)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0) "
                       "FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)", [list(tables)])
        return cursor.fetchone()[0]


@postgres_only
def test_a_small_imports_post_propose_never_reads_the_companys_history(company_a, admin_a):
    """The post_propose job that an import's classify job starts walks from the mark that job took, over that
    import's decisions: 20,000 older decided rows (10,000 of them not booked yet) are neither read nor booked."""
    from jobs.models import Job, JobKind
    from jobs.services import job_create
    from ledger.services.postings import post_propose_job
    from decisions.services import classify_job
    from rules.services.lifecycle import rule_create
    from rules.tests.factories import vendor_rule

    _bulk_decided(company_a, 20_000)
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES", op="contains", field="description"))
    batch = _import_of(company_a, add_lines(company_a, "STAPLES", 10))
    classify, _ = job_create(company=company_a, kind=JobKind.CLASSIFY, created_by=None,
                             params={"import_batch": str(batch.pk)}, enqueue=False)
    follow = Job.objects.get(pk=classify_job(job=classify).result["post_propose_job_id"])
    assert follow.params["import_batch"] == str(batch.pk) and follow.params["expected"] == 10

    tables = (Decision._meta.db_table, Transaction._meta.db_table)  # the history's tables
    before = _rows_read(tables)
    result = post_propose_job(job=follow).result
    read = _rows_read(tables) - before

    assert (result["proposed"], result["posted"]) == (10, 0)
    assert JournalEntry.objects.count() == 10
    assert read < 200, read  # a walk from the start (or a count) reads ≥ 20,000


def test_the_mark_of_a_classify_job_survives_a_rerun(company_a):
    """A classify job re-run after a crash keeps its first mark: the first attempt's committed decisions stay in
    its post_propose job's scope."""
    from jobs.models import Job, JobKind
    from jobs.services import job_create
    from decisions.services import _decisions_mark

    job, _ = job_create(company=company_a, kind=JobKind.CLASSIFY, created_by=None, params={"import_batch": "x"},
                        enqueue=False)
    first = _decisions_mark(job)
    _decide(company_a, "STAPLES", "-12.50", "6100")  # the first attempt's chunk, committed

    again = Job.objects.get(pk=job.pk)  # the re-run loads the job afresh
    assert _decisions_mark(again) == first < Decision.objects.get().pk
    assert again.params == {"import_batch": "x", "decisions_after": first}


def test_the_company_wide_run_still_books_what_no_import_job_did(company_a):
    """Decided rows outside any import's scope (here: a decision older than the import's mark) are booked by the
    company-wide run (POST /api/post/propose), and an import's run after it books nothing twice."""
    older = _decide(company_a, "OLD", "-5.00", "6100")
    mark = Decision.objects.get(transaction=older).pk
    line = _decide(company_a, "NEW", "-7.00", "6100")
    batch = _import_of(company_a, [line])

    scoped = journal_entries_propose(company=company_a, import_batch_id=batch.pk, decisions_after=mark, expected=1)
    assert (scoped["proposed"], JournalEntry.objects.filter(source_transaction=older).exists()) == (1, False)
    assert journal_entries_propose(company=company_a)["proposed"] == 1
    assert journal_entries_propose(company=company_a, import_batch_id=batch.pk, decisions_after=0)["proposed"] == 0
    assert JournalEntry.objects.count() == 2


def test_locking_sends_the_ids_as_one_array_and_returns_the_free_rows(company_a):
    """transactions_lock_free: booked rows (a live entry) are left out; on PostgreSQL two statements, each with
    the ids as one array parameter (Django's `__in` sends a parameter per id)."""
    from django.test.utils import CaptureQueriesContext

    from ledger.services.locks import transactions_lock_free

    booked_line = _decide(company_a, "BOOKED", "-1.00", "6100")
    journal_entries_propose(company=company_a)
    free = add_lines(company_a, "FREE", 300)
    ids = [booked_line.pk, *(line.pk for line in free), 10**12]

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert transactions_lock_free(ids) == {line.pk for line in free}

    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 2
    if connection.vendor == "postgresql":
        assert all("= ANY(" in sql and " IN (" not in sql for sql in statements), statements
