"""Turning decided bank transactions into journal entries (see ledger.models for the sign convention).

`journal_entries_propose` is the `post_propose` job: every current decision that is approved by a person or
auto-approved, of a transaction with no live entry yet, becomes an entry - proposed, or posted directly when the
company posts automatic decisions (`Company.post_automatic_decisions`) and the decision was automatic. Chunked,
bulk writes; the partial unique constraint keeps a transaction in the books at most once, so two runs (or a run
and an approval) racing never double an entry. `journal_entry_propose_for` does the same for one transaction
when a person approves, corrects or splits it.

By hand: `journal_entry_create` (entries entered by people or other sources), `journal_entries_post` (proposed ->
posted) and `journal_entry_reverse` (unpost: a posted reversing entry; the original becomes "reversed").
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Q
from django.utils import timezone

from decisions.models import Decision, DecisionStatus
from jobs.handlers import JobOutcome
from jobs.services import job_progress
from ledger.exceptions import LedgerConflict, LedgerInvalid
from ledger.models import BankMatch, EntryKind, EntryStatus, JournalEntry, JournalLine, MatchStatus, SplitLine
from ledger.selectors import booked
from ledger.services.locks import transactions_lock_free
from ledger.services.transfers import transfers_book
from transactions.models import Account, Company, Transaction, TransactionStatus
from transactions.selectors import company_has_two_bank_accounts
from transactions.services.audit import audit_record

DECIDED = (DecisionStatus.APPROVED, DecisionStatus.AUTO_APPROVED)


class Booking(NamedTuple):
    """What booking reads of a decision and its transaction (a tuple: post_propose reads 2,000 a chunk, and model
    instances for them cost more than the writes)."""
    decision_id: int
    transaction_id: int
    account_id: int
    status: str
    date: datetime.date
    description: str
    amount: Decimal
    bank_account_id: int


EntryLines = list[tuple[int, Decimal, Decimal]]  # (account, debit, credit) of one entry
BOOKING_FIELDS = ("id", "transaction_id", "account_id", "status", "transaction__date", "transaction__description",
                  "transaction__amount", "transaction__bank_account_id")
CENT = Decimal("0.01")
MAX_CHUNK_CLASHES = 3  # unique-constraint clashes tolerated per job before it fails (and is retried)


def entry_lines(*, amount: Decimal, bank_account_id: int, category_id: int) -> list[tuple[int, Decimal, Decimal]]:
    """(account, debit, credit) lines of a bank transaction: money in debits the bank, money out credits it."""
    return split_entry_lines(amount=amount, bank_account_id=bank_account_id, parts=[(category_id, amount)])


def split_entry_lines(
    *, amount: Decimal, bank_account_id: int, parts: Sequence[tuple[int, Decimal]],
) -> list[tuple[int, Decimal, Decimal]]:
    """Lines of a bank transaction whose category side is `parts` [(account, signed amount)] summing to `amount`.

    One bank line for the whole amount, one line per part on the opposite side (a single part is the plain case).
    """
    if sum((part for _, part in parts), Decimal("0")) != amount:
        raise LedgerInvalid(f"The parts sum to {sum(p for _, p in parts)}, not to the transaction's {amount}.")
    zero, magnitude = Decimal("0"), abs(amount)
    if amount > 0:
        return [(bank_account_id, magnitude, zero)] + [(account, zero, part) for account, part in parts]
    return [(account, -part, zero) for account, part in parts] + [(bank_account_id, zero, magnitude)]


def _lines_for(decision: Decision, splits: Sequence[tuple[int, Decimal]] | None = None
               ) -> list[tuple[int, Decimal, Decimal]]:
    """The entry lines of a decided transaction: its split parts when it has any, else its decided account.

    `splits`: its parts [(account, amount)] in position order when the caller read them already (in bulk).
    """
    txn = decision.transaction
    if splits is None:
        splits = [(split.account_id, split.amount) for split in txn.splits.all()]
    return split_entry_lines(amount=txn.amount, bank_account_id=txn.bank_account_id,
                             parts=splits or [(decision.account_id, txn.amount)])


def _unbooked_decisions(company: Company) -> Any:
    return (Decision.objects.filter(company=company, is_current=True, status__in=DECIDED, account__isnull=False)
            .exclude(transaction__amount=0).filter(~booked(OuterRef("transaction_id"))))


def journal_entries_propose(*, company: Company, job: Any = None, import_batch_id: Any = None,
                            decisions_after: int = 0, decisions_through: int | None = None,
                            expected: int | None = None) -> dict[str, Any]:
    """Book every decided, unbooked transaction of the company, in chunks; returns counts.

    `import_batch_id`: only that import's transactions (the post_propose job its classify job starts). All their
    decisions were written after decision id `decisions_after` (the mark the classify job took before its first
    chunk), so the walk starts there and never reads the company's older decisions, booked or not; it ends at
    `decisions_through` (the highest decision id when that job finished), so of an import classified in segments
    each segment's job walks its own stretch; the progress total is `expected` (what classify auto-approved)
    instead of a count over the history. Decided rows left
    unbooked by anything else are booked by the company-wide run (no import: POST /api/post/propose).
    """
    chunk_size = settings.LEDGER_CLASSIFY_CHUNK_ROWS
    # First: a transfer is one entry, not income plus expense. A pair needs lines on two different bank
    # accounts, so a company whose lines are all on one account has none; the pairing query (a self-join over
    # all its unbooked lines) is then skipped - it takes seconds per 10^4 lines.
    transfers = transfers_book(company=company) if company_has_two_bank_accounts(company_id=company.id) else 0
    if import_batch_id is None:
        total = _unbooked_decisions(company).count()
        last_id = 0
    else:
        total, last_id = expected, decisions_after
    counts = {"proposed": 0, "posted": 0}
    clashes = 0
    while True:
        bookings = [Booking(*row) for row in _chunk_query(company=company, last_id=last_id, size=chunk_size,
                                                          import_batch_id=import_batch_id, through=decisions_through)]
        if not bookings:
            break
        try:
            with transaction.atomic():
                written = _book_rows(company=company, bookings=bookings)
        except IntegrityError:
            # Booked meanwhile by someone who did not lock the rows first: the same chunk again, without them.
            clashes += 1
            if clashes > MAX_CHUNK_CLASHES:
                raise
            continue
        last_id = bookings[-1].decision_id
        for key in counts:
            counts[key] += written[key]
        if job is not None:
            processed = sum(counts.values())
            # `expected` is this attempt's classify count: a re-run after a crash may book more than that.
            job_progress(job=job, processed=processed, total=None if total is None else max(total, processed))
    return {"company": company.slug, **counts, "transfers": transfers}


def _chunk_query(*, company: Company, last_id: int, size: int, import_batch_id: Any = None,
                 through: int | None = None) -> Any:
    """The next decisions to book after `last_id`, in id order: the walk of the index decision_company_decided,
    so a chunk reads its own rows, not every decision left. Only the fields booking reads (the JSON explanation
    and alternatives are most of a decision's bytes)."""
    decisions = _unbooked_decisions(company).filter(id__gt=last_id)
    if import_batch_id is not None:
        decisions = decisions.filter(transaction__import_batch_id=import_batch_id)
    if through is not None:
        decisions = decisions.filter(id__lte=through)
    return decisions.order_by("id").values_list(*BOOKING_FIELDS)[:size]


def _splits_by_transaction(transaction_ids: list[int]) -> dict[int, list[tuple[int, Decimal]]]:
    """The split parts of these transactions in position order, in one query (no per-row prefetch objects)."""
    parts: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    if connection.vendor == "postgresql":
        # One array parameter instead of 2,000 (Django expands `__in`: ≈ 40 ms a chunk to build and parse).
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT transaction_id, account_id, amount FROM {SplitLine._meta.db_table} "
                           "WHERE transaction_id = ANY(%s) ORDER BY transaction_id, position", [list(transaction_ids)])
            rows = cursor.fetchall()
    else:
        rows = (SplitLine.objects.filter(transaction_id__in=transaction_ids).order_by("transaction_id", "position")
                .values_list("transaction_id", "account_id", "amount"))
    for transaction_id, account_id, amount in rows:
        parts[transaction_id].append((account_id, amount))
    return parts


def _book(*, company: Company, decisions: Iterable[Decision], user: Any = None) -> dict[str, int]:
    """Entries and lines for these decisions (with their transactions loaded) in bulk; see `_book_rows`."""
    return _book_rows(company=company, user=user, bookings=[Booking(
        d.pk, d.transaction_id, d.account_id, d.status, d.transaction.date, d.transaction.description,
        d.transaction.amount, d.transaction.bank_account_id) for d in decisions])


def _book_rows(*, company: Company, bookings: list[Booking], user: Any = None) -> dict[str, int]:
    """Entries and lines for these decided transactions in bulk (inside the caller's transaction).

    Every writer of the books locks the transaction rows first (this, transfers, reconciliation matches, a
    person's decision), then checks they are still free in a new statement: of two racing bookings, the second
    sees the first's entry and skips the row. Automatic decisions of a company that posts them are posted:
    lines first, then the status (lines of a posted entry are final).
    """
    free = transactions_lock_free([b.transaction_id for b in bookings])
    bookings = [b for b in bookings if b.transaction_id in free]
    if not bookings:
        return {"proposed": 0, "posted": 0}
    splits = _splits_by_transaction([b.transaction_id for b in bookings])
    lines = [_line_parts(b, splits.get(b.transaction_id)) for b in bookings]
    post = {b.transaction_id for b in bookings
            if b.status == DecisionStatus.AUTO_APPROVED and company.post_automatic_decisions}
    write = _write_entries_postgres if connection.vendor == "postgresql" else _write_entries_portable
    write(company=company, bookings=bookings, lines=lines, post=post, user=actor_of(user))
    return {"proposed": len(bookings) - len(post), "posted": len(post)}


def _line_parts(booking: Booking, splits: Sequence[tuple[int, Decimal]] | None) -> EntryLines:
    return split_entry_lines(amount=booking.amount, bank_account_id=booking.bank_account_id,
                             parts=splits or [(booking.account_id, booking.amount)])


def _write_entries_portable(*, company: Company, bookings: list[Booking], lines: list[EntryLines], post: set[int],
                            user: Any) -> None:
    """The ORM write of `_book_rows` (SQLite; PostgreSQL uses `_write_entries_postgres`)."""
    entries = JournalEntry.objects.bulk_create([
        JournalEntry(company=company, date=b.date, memo=b.description[:500], source_transaction_id=b.transaction_id,
                     created_by=user)
        for b in bookings
    ])
    JournalLine.objects.bulk_create([
        JournalLine(entry=entry, account_id=account_id, debit=debit, credit=credit)
        for entry, entry_lines in zip(entries, lines) for account_id, debit, credit in entry_lines
    ])
    if post:
        JournalEntry.objects.filter(pk__in=[e.pk for e in entries if e.source_transaction_id in post]).update(
            status=EntryStatus.POSTED, posted_at=timezone.now())
        Transaction.objects.filter(pk__in=post).update(status=TransactionStatus.POSTED)


# The house pattern of transactions/services/ingest_postgres.py: one binary array parameter per column, one
# set-based statement. Entries and their lines in one statement, in the order given (line ids follow it).
INSERT_ENTRIES = f"""
WITH entries AS (
    INSERT INTO {JournalEntry._meta.db_table} (
        company_id, date, memo, source_transaction_id, kind, status, created_by_id, created_at)
    SELECT %(company)s, e.date, e.memo, e.source, %(kind)s, %(proposed)s, %(user)s, %(now)s
    FROM unnest(%(date)b::date[], %(memo)b::text[], %(source)b::bigint[]) WITH ORDINALITY AS e(date, memo, source, n)
    ORDER BY e.n
    RETURNING id, source_transaction_id
),
lines AS (
    INSERT INTO {JournalLine._meta.db_table} (entry_id, account_id, debit, credit)
    SELECT entries.id, l.account, l.debit, l.credit
    FROM unnest(%(line_source)b::bigint[], %(line_account)b::bigint[], %(debit)b::numeric[], %(credit)b::numeric[])
        WITH ORDINALITY AS l(source, account, debit, credit, n)
    JOIN entries ON entries.source_transaction_id = l.source
    ORDER BY l.n
    RETURNING 1
)
SELECT (SELECT count(*) FROM lines),
    ARRAY(SELECT id FROM entries WHERE source_transaction_id = ANY(%(post)b::bigint[]) ORDER BY id)
"""
# A second statement, so the entries' triggers see lines that exist; the transactions follow their entries.
# By primary key: a filter on status would walk every proposed entry of the company (measured).
POST_ENTRIES = f"""
WITH posted AS (
    UPDATE {JournalEntry._meta.db_table} SET status = %(posted)s, posted_at = %(now)s
    WHERE id = ANY(%(ids)b::bigint[])
    RETURNING source_transaction_id
)
UPDATE {Transaction._meta.db_table} t SET status = %(transaction_posted)s
FROM posted WHERE t.id = posted.source_transaction_id
"""


def _write_entries_postgres(*, company: Company, bookings: list[Booking], lines: list[EntryLines], post: set[int],
                            user: Any) -> None:
    connection.ensure_connection()
    now = timezone.now()
    # A plain psycopg cursor on Django's connection (inside the chunk's transaction), for binary array
    # parameters; Django's error wrapper maps psycopg's errors (a unique clash: IntegrityError) to django.db's.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(INSERT_ENTRIES, {
            "company": company.pk, "kind": EntryKind.TRANSACTION.value, "proposed": EntryStatus.PROPOSED.value,
            "user": getattr(user, "pk", None), "now": now,
            "date": [b.date for b in bookings], "memo": [b.description[:500] for b in bookings],
            "source": [b.transaction_id for b in bookings],
            "line_source": [b.transaction_id for b, entry_lines in zip(bookings, lines) for _ in entry_lines],
            "line_account": [account for entry_lines in lines for account, _, _ in entry_lines],
            "debit": [debit for entry_lines in lines for _, debit, _ in entry_lines],
            "credit": [credit for entry_lines in lines for _, _, credit in entry_lines],
            "post": sorted(post),
        })
        _, post_ids = cursor.fetchone()
        if post_ids:
            cursor.execute(POST_ENTRIES, {"posted": EntryStatus.POSTED.value, "now": now, "ids": post_ids,
                                          "transaction_posted": TransactionStatus.POSTED.value})


def transaction_refuse_rebooking(txn: Transaction, *, then: str, matched_ok: bool = False) -> None:
    """A person's new decision (a categorization, a split) changes how the transaction is booked: not once the
    books hold it otherwise - posted, a transfer, or (unless `matched_ok`) matched by reconciliation. A matched
    line may still be categorized: the decision is a label (statistics, training), the match books it. Call with
    the row locked."""
    live = (JournalEntry.objects.select_for_update()
            .filter(Q(source_transaction=txn) | Q(counter_transaction=txn)).exclude(status=EntryStatus.REVERSED))
    for entry in live:
        if entry.status == EntryStatus.POSTED:
            raise LedgerConflict(f"This transaction is posted (entry {entry.pk}): reverse that entry first, "
                                 f"then {then}.", extra={"entry": entry.pk})
        if entry.kind == EntryKind.TRANSFER:
            raise LedgerConflict(f"This transaction is booked as a transfer between own accounts (entry {entry.pk}): "
                                 f"reverse or withdraw the transfer first, then {then}.", extra={"entry": entry.pk})
    match = None if matched_ok else BankMatch.objects.filter(transaction=txn, status=MatchStatus.ACCEPTED).first()
    if match is not None:
        raise LedgerConflict(f"This transaction is matched to entry {match.entry_id} by reconciliation: unmatch it "
                             f"first, then {then}.", extra={"entry": match.entry_id})


def journal_entry_propose_for(*, decision: Decision, user: Any = None) -> JournalEntry | None:
    """A person approved, corrected or split a transaction: (re)propose its entry, inside their transaction.

    A proposed entry whose lines differ (another account, other split parts) is withdrawn and replaced; a posted
    one stays as it is (correcting the books after posting is a reversing entry: `journal_entry_reverse`).
    """
    if decision.account_id is None or decision.transaction.amount == 0:
        return None
    if BankMatch.objects.filter(transaction_id=decision.transaction_id, status=MatchStatus.ACCEPTED).exists():
        return None  # reconciliation matched the row to an entry that books it already
    live = (JournalEntry.objects.select_for_update().filter(source_transaction_id=decision.transaction_id)
            .exclude(status=EntryStatus.REVERSED).first())
    if live is not None:
        wanted = sorted(_lines_for(decision))
        if live.status != EntryStatus.PROPOSED or sorted(live.lines.values_list("account_id", "debit", "credit")) == wanted:
            return live
        live.delete()
    _book(company=decision.company, decisions=[decision], user=user)
    # None when booking passed it by: its import is being undone (`transactions_lock_free`).
    return JournalEntry.objects.filter(source_transaction_id=decision.transaction_id, status=EntryStatus.PROPOSED).first()


# ------------------------------------------------------------------------- entries by hand, post, reverse


def journal_entry_create(
    *, company: Company, date: datetime.date, memo: str, lines: Sequence[tuple[Account, Decimal, Decimal]],
    user: Any = None, kind: str = EntryKind.MANUAL, post: bool = False,
) -> JournalEntry:
    """An entry entered by hand (or from another source): balanced lines on the company's active accounts."""
    problems = []
    if len(lines) < 2:
        problems.append("an entry needs at least two lines")
    for index, (account, debit, credit) in enumerate(lines):
        where = f"lines[{index}]"
        if account.company_id != company.pk or not account.is_active:
            problems.append(f"{where}.account: {account.code} is not an active account of {company.slug}")
        if debit < 0 or credit < 0 or (debit > 0) == (credit > 0):
            problems.append(f"{where}: expected exactly one of debit and credit, positive (got {debit} / {credit})")
        for field, value in (("debit", debit), ("credit", credit)):
            if value != value.quantize(CENT):
                problems.append(f"{where}.{field}: expected at most 2 decimal places, got {value}")
    debits = sum((debit for _, debit, _ in lines), Decimal("0"))
    credits = sum((credit for _, _, credit in lines), Decimal("0"))
    if debits != credits:
        problems.append(f"debits ({debits}) must equal credits ({credits})")
    if problems:
        raise LedgerInvalid("The entry is not valid: " + "; ".join(problems) + ".", extra={"problems": problems})
    with transaction.atomic():
        entry = JournalEntry.objects.create(company=company, date=date, memo=memo[:500], kind=kind, created_by=actor_of(user))
        JournalLine.objects.bulk_create([JournalLine(entry=entry, account=account, debit=debit, credit=credit)
                                         for account, debit, credit in lines])
        audit_record(action="ledger.entry_create", company=company, actor=user, target=entry,
                     after={"memo": entry.memo, "kind": kind, "debits": str(debits)})
        if post:
            journal_entries_post(company=company, entry_ids=[entry.pk], user=user)
            entry.refresh_from_db()
    return entry


def journal_entries_post(*, company: Company, entry_ids: Sequence[int] | None, user: Any) -> int:
    """Post the company's proposed entries with these ids (all proposed ones for None); returns how many.

    Entries already posted are skipped (posting twice is harmless); ids of other companies are never touched.
    Their bank transactions become "posted".
    """
    with transaction.atomic():
        proposed = JournalEntry.objects.select_for_update().filter(company=company, status=EntryStatus.PROPOSED)
        if entry_ids is not None:
            proposed = proposed.filter(pk__in=list(entry_ids))
        ids = list(proposed.values_list("pk", flat=True))
        if not ids:
            return 0
        JournalEntry.objects.filter(pk__in=ids).update(status=EntryStatus.POSTED, posted_at=timezone.now(),
                                                       posted_by=actor_of(user))
        source_ids = JournalEntry.objects.filter(pk__in=ids).values("source_transaction_id")
        counter_ids = JournalEntry.objects.filter(pk__in=ids).values("counter_transaction_id")
        Transaction.objects.filter(company=company).filter(Q(pk__in=source_ids) | Q(pk__in=counter_ids)).update(
            status=TransactionStatus.POSTED)
        audit_record(action="ledger.post", company=company, actor=user, after={"entries": len(ids), "ids": ids[:100]})
    return len(ids)


def journal_entry_post(*, entry: JournalEntry, user: Any) -> None:
    """Post one proposed entry; anything else is a conflict (posting is not a way to undo a reversal)."""
    if not journal_entries_post(company=entry.company, entry_ids=[entry.pk], user=user):
        raise LedgerConflict(f"Entry {entry.pk} is {JournalEntry.objects.get(pk=entry.pk).status}; "
                             "only a proposed entry can be posted.")


def journal_entry_reverse(*, entry: JournalEntry, user: Any, date: datetime.date | None = None,
                          audit: bool = True) -> JournalEntry:
    """Unpost: a posted reversing entry with the lines swapped; the original becomes "reversed".

    The books are unchanged otherwise (both stay, they net to zero). The bank transaction is free to be booked
    again and goes back to the review queue (its decision "needs review"), so the next post_propose does not
    simply book it again: a person's new approval, correction or split proposes a fresh entry.
    """
    with transaction.atomic():
        entry = JournalEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != EntryStatus.POSTED or entry.kind == EntryKind.REVERSAL:
            raise LedgerConflict(f"Only a posted entry can be reversed; entry {entry.pk} is {entry.status}"
                                 + (" (a reversal itself)" if entry.kind == EntryKind.REVERSAL else "") + ".")
        [reversal_id] = _reverse_posted(entries=[entry], user=user, date=date)
        if audit:
            audit_record(action="ledger.reverse", company=entry.company, actor=user, target=entry,
                         after={"reversal": reversal_id})
    return JournalEntry.objects.get(pk=reversal_id)


def journal_entries_reverse(*, entries: Any, user: Any) -> int:
    """`journal_entry_reverse` for many entries at once (undo of a large import): the posted, non-reversal
    entries of the queryset `entries`, locked and reversed in chunks of LEDGER_CLASSIFY_CHUNK_ROWS (the size
    post_propose books in), a few set-based statements each, inside the caller's transaction. Returns how many
    were reversed."""
    reversible = entries.filter(status=EntryStatus.POSTED).exclude(kind=EntryKind.REVERSAL).order_by("pk")
    reversed_count, last_id = 0, 0
    while chunk := list(reversible.select_for_update().filter(pk__gt=last_id)
                        .only("pk", "company_id", "date", "memo", "source_transaction_id",
                              "counter_transaction_id")[:settings.LEDGER_CLASSIFY_CHUNK_ROWS]):
        _reverse_posted(entries=chunk, user=user)
        reversed_count += len(chunk)
        last_id = chunk[-1].pk
    return reversed_count


def _reverse_posted(*, entries: Sequence[JournalEntry], user: Any, date: datetime.date | None = None) -> list[int]:
    """Reverse these posted entries (locked by the caller): a posted reversal each, with the lines swapped; the
    originals become "reversed", their accepted bank matches rejected, and the bank lines they booked go back to
    review. Returns the reversals' ids, in the order of `entries`. A few statements whatever the count."""
    now, actor = timezone.now(), actor_of(user)
    reversals = JournalEntry.objects.bulk_create([
        JournalEntry(company_id=entry.company_id, date=date or entry.date, kind=EntryKind.REVERSAL,
                     memo=f"Reversal of #{entry.pk}: {entry.memo}"[:500], reverses_id=entry.pk, created_by=actor)
        for entry in entries])
    reversal_of = {entry.pk: reversal.pk for entry, reversal in zip(entries, reversals)}
    JournalLine.objects.bulk_create([
        JournalLine(entry_id=reversal_of[entry_id], account_id=account_id, debit=credit, credit=debit)
        for entry_id, account_id, debit, credit in JournalLine.objects.filter(entry_id__in=reversal_of)
        .order_by("entry_id", "pk").values_list("entry_id", "account_id", "debit", "credit")])
    JournalEntry.objects.filter(pk__in=reversal_of.values()).update(status=EntryStatus.POSTED, posted_at=now,
                                                                    posted_by=actor)
    JournalEntry.objects.filter(pk__in=reversal_of).update(status=EntryStatus.REVERSED)
    # A bank line that reconciliation matched to a reversed entry is no longer booked by it: the match is rejected
    # (never suggested again), so the line shows as unmatched and can be booked or matched anew.
    accepted = BankMatch.objects.filter(entry_id__in=reversal_of, status=MatchStatus.ACCEPTED)
    matched = list(accepted.values_list("transaction_id", flat=True))
    accepted.update(status=MatchStatus.REJECTED, decided_by=actor, decided_at=now)
    released = [pk for entry in entries for pk in (entry.source_transaction_id, entry.counter_transaction_id)
                if pk] + matched
    # Their reconciliation no longer holds either: the lines are reconciled again by the next run.
    Transaction.objects.filter(pk__in=released).update(status=TransactionStatus.NEEDS_REVIEW, reconciled_at=None)
    Decision.objects.filter(transaction_id__in=released, is_current=True).update(status=DecisionStatus.NEEDS_REVIEW)
    return [reversal.pk for reversal in reversals]


def actor_of(user: Any) -> Any:
    """The user to record as creator/decider: None for anonymous or system callers (commands, jobs)."""
    return user if getattr(user, "pk", None) else None


def post_propose_job(*, job: Any) -> JobOutcome:
    """The post_propose job (after every classify job, or POST /api/post/propose): pair transfers, book the
    company's decided transactions - only one import's when its classify job started this one (params
    `import_batch`, `decisions_after`, `decisions_through`, `expected`: see `journal_entries_propose`)."""
    params = job.params or {}
    if params.get("import_batch") is None:
        return JobOutcome(result=journal_entries_propose(company=job.company, job=job))
    return JobOutcome(result=journal_entries_propose(
        company=job.company, job=job, import_batch_id=params["import_batch"],
        decisions_after=int(params.get("decisions_after") or 0), decisions_through=params.get("decisions_through"),
        expected=params.get("expected")))
