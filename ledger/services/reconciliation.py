"""Reconciliation: does the bank statement agree with the books, for one bank account and period?

The figures (money is `Decimal`, signed like bank transactions: money in positive):
- statement opening balance: the user's value; else derived from the file's balance column (the first row's
  balance minus the amounts up to it); else the books' balance of the bank account before the period;
- statement closing balance: the file's balance column (the last row of the period, by date, then import order);
  else the user's value. A user's value that disagrees with the file is reported and blocks "balanced";
- posted movements: the sum of debit - credit of the bank account's lines of entries in the books
  (`BOOKED_STATUSES`) dated in the period;
- difference = opening + movements - statement closing. Zero (and nothing blocking) is "balanced": the period's
  bank rows that are in the books (a posted entry, or an accepted match) are then marked `reconciled_at`.
  Without any closing balance the run still lists the matches and the unmatched items, with status
  "unbalanced", no difference, and the blocking problem `closing_balance_missing` saying what to enter.

Matching pairs a bank row that no posted entry books yet (nothing, or only a proposed entry) with a posted entry
on the bank account that no bank row of this account books (entered by hand, from another source, or the other
side of a transfer booked from another account). The amount must be the same (the entry's debit - credit on the
bank account equals the row's amount) and the dates at most `window_days` apart. The score is transparent and
stored with its reasons: 0.800 for the same day, minus 0.100 per day apart, plus 0.200 when the bank text and the
memo share a word. Pairs are taken greedily, best score first; ties go to the closer date, then the lower bank-row
id, then the lower entry id - each row and each entry is used once. A pair someone rejected is never suggested
again. Accepting a match books the row (post_propose skips it, its proposed entry is withdrawn); unreconcile clears
the marks again. Runs, accepts, rejects and unreconciles are audited.
"""
from __future__ import annotations

import datetime
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from jobs.handlers import JobOutcome
from jobs.models import JobKind
from jobs.services import TRANSIENT_ERRORS, job_create, job_progress
from ledger.exceptions import LedgerConflict, LedgerInvalid
from ledger.models import (
    BOOKED_STATUSES,
    BankMatch,
    EntryKind,
    EntryStatus,
    JournalEntry,
    JournalLine,
    MatchStatus,
    Reconciliation,
    ReconciliationStatus,
)
from ledger.services.postings import CENT, actor_of
from transactions.models import Account, Company, Transaction, TransactionStatus
from transactions.services.audit import audit_record

ZERO = Decimal("0.00")
MONEY_LIMIT = Decimal("1e12")  # DecimalField(max_digits=14, decimal_places=2)
DEFAULT_WINDOW_DAYS = 3
MAX_WINDOW_DAYS = 7  # at 7 days apart a pair still scores 0.100; further apart it is no evidence any more
SAME_DAY_SCORE = Decimal("0.800")
DAY_STEP = Decimal("0.100")
WORD_BONUS = Decimal("0.200")
MAX_LISTED = 200  # unmatched items listed per side in the summary (the totals always count all of them)
MAX_GAPS = 20
# Words too common on bank statements and memos to say two texts are about the same thing.
STOP_WORDS = frozenset({
    "THE", "AND", "FOR", "FROM", "WITH", "PAYMENT", "PAYMENTS", "TRANSFER", "DEBIT", "CREDIT", "CARD", "POS", "ACH",
    "PURCHASE", "DEPOSIT", "WITHDRAWAL", "ONLINE", "BANK", "FEE", "REF", "INV", "INVOICE", "ENTRY", "MANUAL",
})
_WORD = re.compile(r"[A-Za-z][A-Za-z']{2,}")


# ----------------------------------------------------------------------------------------- start a run


def reconciliation_start(
    *,
    company: Company,
    bank_account_code: str,
    date_from: datetime.date,
    date_to: datetime.date,
    user: Any,
    closing_balance: Decimal | None = None,
    opening_balance: Decimal | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> Reconciliation:
    """Check the request, create the run (status "running") and queue its `reconcile` job after commit.

    Raises:
        LedgerInvalid: unknown account code, not a bank account, from after to, a window outside 0..7 days,
            a balance with more than 2 decimal places or too large.
    """
    bank_account = _bank_account(company=company, code=bank_account_code)
    problems = []
    if date_from > date_to:
        problems.append(f"date_from ({date_from}) must not be after date_to ({date_to})")
    earliest = datetime.date.min + datetime.timedelta(days=MAX_WINDOW_DAYS + 1)
    latest = datetime.date.max - datetime.timedelta(days=MAX_WINDOW_DAYS + 1)
    for name, day in (("date_from", date_from), ("date_to", date_to)):
        if not earliest <= day <= latest:
            problems.append(f"{name} ({day}) must be between {earliest} and {latest}")
    if not 0 <= window_days <= MAX_WINDOW_DAYS:
        problems.append(f"window_days must be between 0 and {MAX_WINDOW_DAYS} days, got {window_days}")
    for name, value in (("closing_balance", closing_balance), ("opening_balance", opening_balance)):
        if value is not None and not _is_money(value):
            problems.append(f"{name} must be an amount with at most 2 decimal places below 1000000000000, got {value}")
    if problems:
        raise LedgerInvalid("The reconciliation request is not valid: " + "; ".join(problems) + ".",
                            extra={"problems": problems})
    inputs = {"closing_balance": _text(closing_balance), "opening_balance": _text(opening_balance),
              "window_days": window_days}
    with transaction.atomic():
        reconciliation = Reconciliation.objects.create(
            company=company, bank_account=bank_account, period_start=date_from, period_end=date_to,
            status=ReconciliationStatus.RUNNING, created_by=actor_of(user), summary={"inputs": inputs},
        )
        job, _ = job_create(company=company, kind=JobKind.RECONCILE, created_by=actor_of(user),
                            params={"reconciliation_id": reconciliation.pk, **inputs})
        reconciliation.job = job
        reconciliation.save(update_fields=["job"])
    return reconciliation


def reconcile_job(*, job: Any) -> JobOutcome:
    """The `reconcile` job: run the reconciliation named in `job.params` (idempotent: a rerun recomputes it)."""
    params = job.params or {}
    reconciliation = (Reconciliation.objects.select_related("company", "bank_account", "created_by")
                      .filter(pk=params.get("reconciliation_id"), company_id=job.company_id).first())
    if reconciliation is None:
        raise LedgerInvalid(f"Job {job.id} names reconciliation {params.get('reconciliation_id')!r}, which is not "
                            f"a reconciliation of {job.company.slug}.")
    try:
        reconciliation = reconciliation_run(
            reconciliation=reconciliation,
            closing_balance=_decimal_or_none(params.get("closing_balance")),
            opening_balance=_decimal_or_none(params.get("opening_balance")),
            window_days=int(params.get("window_days", DEFAULT_WINDOW_DAYS)),
            job=job,
        )
    except TRANSIENT_ERRORS:
        raise  # retried: the reconciliation stays "running"
    except Exception as error:
        message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
        Reconciliation.objects.filter(pk=reconciliation.pk).update(
            status=ReconciliationStatus.FAILED,
            summary={**reconciliation.summary, "error": message},
        )
        raise
    return JobOutcome(result={
        "reconciliation_id": reconciliation.pk,
        "status": reconciliation.status,
        "difference": _text(reconciliation.difference),
        **{key: reconciliation.summary["counts"][key] for key in ("suggested", "missing", "unmatched_ledger",
                                                                   "reconciled")},
    })


# ----------------------------------------------------------------------------------------- the run


@dataclass
class StatementRow:
    id: int
    date: datetime.date
    amount: Decimal
    balance: Decimal | None
    description: str
    state: str = "missing"  # posted | matched | suggested | proposed | missing
    note: str = ""


@dataclass
class LedgerItem:
    id: int
    date: datetime.date
    memo: str
    kind: str
    status: str
    amount: Decimal = ZERO  # debit - credit on the bank account
    tied_rows: list[int] = field(default_factory=list)  # source / counter transactions on this bank account
    other_rows: list[int] = field(default_factory=list)  # source / counter transactions on other accounts
    reverses_id: int | None = None
    state: str = "unmatched"  # statement | matched | suggested | reversal_pair | unmatched
    note: str = ""


@dataclass(frozen=True)
class MatchSide:
    """One side of a possible match, as the matcher sees it."""

    id: int
    date: datetime.date
    amount: Decimal
    text: str


@dataclass(frozen=True)
class Suggestion:
    transaction_id: int
    entry_id: int
    score: Decimal
    reasons: list[str]
    days_apart: int


@dataclass
class Comparison:
    """What a run found: the period's bank rows and ledger items (each with its state) and the suggestions."""

    rows: list[StatementRow]
    items: dict[int, LedgerItem]  # entries dated in the period
    movements: Decimal
    suggestions: list[Suggestion]


def reconciliation_run(
    *,
    reconciliation: Reconciliation,
    closing_balance: Decimal | None,
    opening_balance: Decimal | None,
    window_days: int,
    job: Any = None,
) -> Reconciliation:
    """Compare the statement with the books for the reconciliation's account and period, suggest matches,
    store the figures and the summary, and mark the booked rows reconciled when the period balances.

    Parameters:
        closing_balance / opening_balance: the user's values (None: not given).
        window_days: how many days a bank row and an entry may lie apart to be suggested as a match.
    Returns:
        The reconciliation, updated (status balanced or unbalanced).
    """
    comparison = _compare(reconciliation=reconciliation, window_days=window_days, job=job)
    figures = _figures(rows=comparison.rows, company=reconciliation.company, bank=reconciliation.bank_account,
                       start=reconciliation.period_start, movements=comparison.movements,
                       closing_balance=closing_balance, opening_balance=opening_balance)
    summary = _summary(rows=comparison.rows, items=comparison.items, figures=figures, window_days=window_days,
                       inputs=reconciliation.summary.get("inputs", {}))
    balanced = figures["difference"] == 0 and not any(p["blocking"] for p in figures["problems"])
    _progress(job, 80)
    _store(reconciliation=reconciliation, comparison=comparison, figures=figures, summary=summary,
           balanced=balanced, window_days=window_days)
    return reconciliation


def _period_rows(reconciliation: Reconciliation) -> QuerySet[Transaction]:
    return Transaction.objects.filter(company_id=reconciliation.company_id,
                                      bank_account_id=reconciliation.bank_account_id,
                                      date__range=(reconciliation.period_start, reconciliation.period_end))


def _window_entries(reconciliation: Reconciliation, window: datetime.timedelta) -> QuerySet[JournalEntry]:
    """Booked entries on the bank account dated in the period widened by the match window on both sides."""
    return JournalEntry.objects.filter(
        company_id=reconciliation.company_id, status__in=BOOKED_STATUSES, lines__account=reconciliation.bank_account_id,
        date__range=(reconciliation.period_start - window, reconciliation.period_end + window))


def _compare(*, reconciliation: Reconciliation, window_days: int, job: Any) -> Comparison:
    """Read both sides, give every row and entry its state, and suggest matches (reads only)."""
    start, end = reconciliation.period_start, reconciliation.period_end
    window = datetime.timedelta(days=window_days)
    period_rows = _period_rows(reconciliation)
    rows = _statement_rows(period_rows)
    _progress(job, 20)
    items = _ledger_items(company=reconciliation.company, bank=reconciliation.bank_account, start=start - window,
                          end=end + window)
    period_items = {pk: item for pk, item in items.items() if start <= item.date <= end}
    _progress(job, 40)

    accepted = _accepted_matches(period_rows=period_rows, window_entries=_window_entries(reconciliation, window))
    _classify_rows(rows, accepted=accepted, posted=_rows_with_entries(period_rows, EntryStatus.POSTED),
                   proposed=_rows_with_entries(period_rows, EntryStatus.PROPOSED))
    candidates = [item for item in items.values()
                  if item.status == EntryStatus.POSTED and item.kind != EntryKind.REVERSAL and not item.tied_rows
                  and item.id not in accepted.by_entry and item.amount != 0]
    open_rows = [row for row in rows if row.state in ("missing", "proposed") and row.amount != 0
                 and row.id not in accepted]
    rejected = set(BankMatch.objects.filter(status=MatchStatus.REJECTED, transaction__in=period_rows.values("pk"))
                   .values_list("transaction_id", "entry_id"))
    suggestions = match_suggestions(
        rows=[MatchSide(row.id, row.date, row.amount, row.description) for row in open_rows],
        entries=[MatchSide(item.id, item.date, item.amount, item.memo) for item in candidates],
        window_days=window_days, excluded=rejected,
    )
    _progress(job, 70)
    suggested_rows = {suggestion.transaction_id for suggestion in suggestions}
    for row in rows:
        if row.id in suggested_rows:
            row.state, row.note = "suggested", ""
    _classify_items(period_items, row_ids={row.id for row in rows}, accepted=accepted,
                    suggested_entries={suggestion.entry_id for suggestion in suggestions})
    return Comparison(rows=rows, items=period_items, suggestions=suggestions,
                      movements=sum((item.amount for item in period_items.values()), ZERO))


def _store(*, reconciliation: Reconciliation, comparison: Comparison, figures: dict[str, Any],
           summary: dict[str, Any], balanced: bool, window_days: int) -> None:
    """Replace the period's open suggestions, mark the booked rows when balanced, save the run; one transaction."""
    bank = reconciliation.bank_account
    start, end = reconciliation.period_start, reconciliation.period_end
    window = datetime.timedelta(days=window_days)
    with transaction.atomic():
        # One run per bank account writes at a time: the suggestions of two runs must not collide.
        Account.objects.select_for_update().filter(pk=bank.pk).first()
        BankMatch.objects.filter(status=MatchStatus.SUGGESTED).filter(
            Q(transaction__in=_period_rows(reconciliation).values("pk"))
            | Q(entry__in=_window_entries(reconciliation, window).values("pk"))).delete()
        BankMatch.objects.bulk_create([
            BankMatch(company_id=reconciliation.company_id, transaction_id=s.transaction_id, entry_id=s.entry_id,
                      reconciliation=reconciliation, score=s.score, reasons=s.reasons)
            for s in comparison.suggestions
        ], ignore_conflicts=True)  # a pair accepted while this run was reading stays as it is
        reconciled = _mark_reconciled(reconciliation) if balanced else 0
        summary["counts"]["reconciled"] = reconciled
        reconciliation.opening_balance = figures["opening"]
        reconciliation.statement_closing_balance = figures["closing"]
        reconciliation.closing_balance_source = figures["closing_source"]
        reconciliation.ledger_movements = comparison.movements
        reconciliation.difference = figures["difference"]
        reconciliation.status = ReconciliationStatus.BALANCED if balanced else ReconciliationStatus.UNBALANCED
        reconciliation.summary = summary
        reconciliation.save(update_fields=[
            "opening_balance", "statement_closing_balance", "closing_balance_source", "ledger_movements",
            "difference", "status", "summary",
        ])
        audit_record(
            action="ledger.reconcile", company=reconciliation.company, actor=reconciliation.created_by,
            target=reconciliation,
            after={"bank_account": bank.code, "period": [start.isoformat(), end.isoformat()],
                   "status": reconciliation.status, "difference": _text(figures["difference"]),
                   "suggested": len(comparison.suggestions), "reconciled": reconciled},
        )


def match_suggestions(
    *, rows: Sequence[MatchSide], entries: Sequence[MatchSide], window_days: int,
    excluded: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset(),
) -> list[Suggestion]:
    """One-to-one suggestions between bank rows and ledger entries: same amount, at most `window_days` apart,
    best score first (ties: closer date, then lower row id, then lower entry id). Pairs in `excluded` (rejected
    before) are skipped. Pure: no database."""
    # Entries by amount, each list sorted by date: a row only looks at the entries inside its window, so a period
    # with thousands of identical amounts (coffees) stays fast.
    entries_by_amount: dict[Decimal, list[MatchSide]] = defaultdict(list)
    for entry in sorted(entries, key=lambda entry: (entry.date, entry.id)):
        entries_by_amount[entry.amount].append(entry)
    dates_by_amount = {amount: [entry.date for entry in same] for amount, same in entries_by_amount.items()}
    window = datetime.timedelta(days=window_days)
    pairs: list[Suggestion] = []
    for row in rows:
        same = entries_by_amount.get(row.amount, [])
        dates = dates_by_amount.get(row.amount, [])
        for entry in same[bisect_left(dates, row.date - window):bisect_right(dates, row.date + window)]:
            if (row.id, entry.id) not in excluded:
                pairs.append(_scored(row, entry, abs((row.date - entry.date).days)))
    pairs.sort(key=lambda s: (-s.score, s.days_apart, s.transaction_id, s.entry_id))
    taken_rows: set[int] = set()
    taken_entries: set[int] = set()
    chosen = []
    for pair in pairs:
        if pair.transaction_id not in taken_rows and pair.entry_id not in taken_entries:
            taken_rows.add(pair.transaction_id)
            taken_entries.add(pair.entry_id)
            chosen.append(pair)
    return chosen


def _scored(row: MatchSide, entry: MatchSide, days: int) -> Suggestion:
    reasons = [f"same amount {row.amount}", "same day" if days == 0 else f"{days} day{'s' if days > 1 else ''} apart"]
    score = SAME_DAY_SCORE - DAY_STEP * days
    shared = sorted(_words(row.text) & _words(entry.text))
    if shared:
        score += WORD_BONUS
        reasons.append("memo shares " + ", ".join(f"'{word}'" for word in shared[:3]))
    return Suggestion(transaction_id=row.id, entry_id=entry.id, score=score.quantize(Decimal("0.001")),
                      reasons=reasons, days_apart=days)


def _words(text: str) -> set[str]:
    """The significant words of a bank text or memo: 3+ letters, upper case, possessives dropped ("ACME'S")."""
    words = {word.removesuffix("'S").replace("'", "") for word in _WORD.findall(text.upper())}
    return {word for word in words if len(word) >= 3} - STOP_WORDS


# ----------------------------------------------------------------------------------------- reading the two sides


def _statement_rows(period_rows: QuerySet[Transaction]) -> list[StatementRow]:
    """The period's bank rows in statement order: by date, then by import (oldest file first) and line."""
    rows = [
        StatementRow(id=pk, date=date, amount=amount, balance=balance, description=description)
        for pk, date, amount, balance, description in (
            period_rows.order_by("date", "import_batch__created_at", "line", "id")
            .values_list("pk", "date", "amount", "balance", "description").iterator(chunk_size=5000)
        )
    ]
    return _in_statement_order(rows)


def _in_statement_order(rows: list[StatementRow]) -> list[StatementRow]:
    """Many banks export newest first: within a day, reverse the rows when only the reversed order makes their
    running balances add up (balance of the previous row + amount = balance)."""
    ordered: list[StatementRow] = []
    day: list[StatementRow] = []
    for row in [*rows, None]:
        if day and (row is None or row.date != day[0].date):
            if len(day) > 1 and not _chained(day) and _chained(day[::-1]):
                day.reverse()
            ordered.extend(day)
            day = []
        if row is not None:
            day.append(row)
    return ordered


def _chained(rows: Sequence[StatementRow]) -> bool:
    return all(
        previous.balance is not None and row.balance is not None and previous.balance + row.amount == row.balance
        for previous, row in pairwise(rows)
    )


def _ledger_items(*, company: Company, bank: Account, start: datetime.date,
                  end: datetime.date) -> dict[int, LedgerItem]:
    """Entries in the books dated from `start` to `end` with lines on the bank account, with their amount on it."""
    items: dict[int, LedgerItem] = {}
    lines = (
        JournalLine.objects.filter(account=bank, entry__company=company, entry__status__in=BOOKED_STATUSES,
                                   entry__date__range=(start, end))
        .order_by("entry_id", "id")
        .values_list("entry_id", "debit", "credit", "entry__date", "entry__memo", "entry__kind", "entry__status",
                     "entry__reverses_id", "entry__source_transaction_id",
                     "entry__source_transaction__bank_account_id", "entry__counter_transaction_id",
                     "entry__counter_transaction__bank_account_id")
    )
    for (entry_id, debit, credit, date, memo, kind, status, reverses_id, source_id, source_bank, counter_id,
         counter_bank) in lines.iterator(chunk_size=5000):
        item = items.get(entry_id)
        if item is None:
            item = items[entry_id] = LedgerItem(id=entry_id, date=date, memo=memo, kind=kind, status=status,
                                                reverses_id=reverses_id)
            for row_id, row_bank in ((source_id, source_bank), (counter_id, counter_bank)):
                if row_id is not None:
                    (item.tied_rows if row_bank == bank.pk else item.other_rows).append(row_id)
        item.amount += debit - credit
    return items


class AcceptedMatches(dict[int, tuple[int, str]]):
    """Accepted matches touching the period: {bank row: (entry, entry status)}, and `by_entry` {entry: row}."""

    def __init__(self) -> None:
        super().__init__()
        self.by_entry: dict[int, int] = {}


def _accepted_matches(*, period_rows: QuerySet[Transaction],
                      window_entries: QuerySet[JournalEntry]) -> AcceptedMatches:
    matches = BankMatch.objects.filter(status=MatchStatus.ACCEPTED).filter(
        Q(transaction__in=period_rows.values("pk")) | Q(entry__in=window_entries.values("pk")))
    accepted = AcceptedMatches()
    for transaction_id, entry_id, status in matches.values_list("transaction_id", "entry_id", "entry__status"):
        accepted[transaction_id] = (entry_id, status)
        accepted.by_entry[entry_id] = transaction_id
    return accepted


def _rows_with_entries(period_rows: QuerySet[Transaction], status: str) -> dict[int, int]:
    """{bank row: entry} for the period's rows that are the source or counter side of an entry with `status`."""
    ids = period_rows.values("pk")
    found: dict[int, int] = {}
    for entry_id, source_id, counter_id in JournalEntry.objects.filter(status=status).filter(
            Q(source_transaction__in=ids) | Q(counter_transaction__in=ids)).values_list(
            "pk", "source_transaction_id", "counter_transaction_id"):
        for row_id in (source_id, counter_id):
            if row_id is not None:
                found.setdefault(row_id, entry_id)
    return found


def _classify_rows(rows: list[StatementRow], *, accepted: AcceptedMatches, posted: dict[int, int],
                   proposed: dict[int, int]) -> None:
    for row in rows:
        match = accepted.get(row.id)
        if row.id in posted:
            row.state = "posted"
        elif match and match[1] != EntryStatus.REVERSED:
            row.state = "matched"
        elif row.id in proposed:
            row.state, row.note = "proposed", f"entry #{proposed[row.id]} is proposed, not posted yet"
        elif match:
            row.state, row.note = "missing", f"its matched entry #{match[0]} was reversed"
        else:
            row.state, row.note = "missing", "no entry in the books"


def _classify_items(items: dict[int, LedgerItem], *, row_ids: set[int], accepted: AcceptedMatches,
                    suggested_entries: set[int]) -> None:
    reversal_of = {item.reverses_id: item.id for item in items.values() if item.reverses_id in items}
    in_pairs = set(reversal_of) | set(reversal_of.values())  # a reversed entry and its reversal net to zero
    for item in items.values():
        matched_row = accepted.by_entry.get(item.id)
        if item.id in in_pairs:
            item.state = "reversal_pair"
        elif set(item.tied_rows) & row_ids:
            item.state = "statement"
        elif matched_row in row_ids:
            item.state = "matched"
        elif item.id in suggested_entries:
            item.state = "suggested"
        elif item.tied_rows:
            item.note = f"its bank row #{item.tied_rows[0]} is dated outside the period"
        elif matched_row is not None:
            item.note = f"matched to bank row #{matched_row} outside the period"
        else:
            item.note = "no bank row on the statement"


# ----------------------------------------------------------------------------------------- figures and summary


def _figures(*, rows: list[StatementRow], company: Company, bank: Account, start: datetime.date, movements: Decimal,
             closing_balance: Decimal | None, opening_balance: Decimal | None) -> dict[str, Any]:
    problems: list[dict[str, Any]] = []
    with_balance = [index for index, row in enumerate(rows) if row.balance is not None]
    file_opening = file_closing = None
    if with_balance:
        first, last = with_balance[0], with_balance[-1]
        file_opening = rows[first].balance - sum((row.amount for row in rows[:first + 1]), ZERO)  # type: ignore[operator]
        file_closing = rows[last].balance + sum((row.amount for row in rows[last + 1:]), ZERO)  # type: ignore[operator]
        problems += _balance_gaps(rows)
    ledger_opening = _ledger_balance_before(company=company, bank=bank, date=start)

    closing, closing_source = (file_closing, "file") if file_closing is not None else (
        (closing_balance, "user") if closing_balance is not None else (None, ""))
    if closing is None:
        problems.append(_problem("closing_balance_missing", blocking=True, message=(
            "The statement's closing balance is missing: the imported rows of this period have no balance column. "
            "Enter the closing balance from the bank statement and run the reconciliation again.")))
    elif closing_balance is not None and closing_source == "file" and closing_balance != file_closing:
        problems.append(_problem("closing_balance_disagrees", blocking=True, message=(
            f"You entered a closing balance of {closing_balance}, but the statement file's balance column ends the "
            f"period at {file_closing} (that value is used): rows may be missing from the import, or the period "
            "differs from the statement's.")))

    if opening_balance is not None:
        opening, opening_source = opening_balance, "user"
        if file_opening is not None and file_opening != opening_balance:
            problems.append(_problem("opening_balance_disagrees", message=(
                f"You entered an opening balance of {opening_balance}; the statement file implies {file_opening} "
                "(your value is used).")))
    elif file_opening is not None:
        opening, opening_source = file_opening, "file"
    else:
        opening, opening_source = ledger_opening, "ledger"
    if opening_source != "ledger" and opening != ledger_opening:
        problems.append(_problem("opening_balance_differs_from_books", message=(
            f"The statement opens at {opening} but the books hold {ledger_opening} on {bank.code} before {start} "
            f"(a difference of {opening - ledger_opening}): an earlier period is not reconciled.")))

    difference = opening + movements - closing if closing is not None else None
    return {"opening": opening, "opening_source": opening_source, "closing": closing, "closing_source": closing_source,
            "ledger_opening": ledger_opening, "difference": difference, "problems": problems,
            "rows_with_balance": len(with_balance)}


def _balance_gaps(rows: list[StatementRow]) -> list[dict[str, Any]]:
    """Consecutive rows whose running balances do not add up: a row is probably missing from the import."""
    gaps = []
    previous = None
    for row in rows:
        if row.balance is None:
            previous = None
            continue
        if previous is not None and previous.balance + row.amount != row.balance:  # type: ignore[operator]
            gaps.append(_problem("balance_gap", message=(
                f"The balance goes from {previous.balance} ({previous.date}, “{previous.description}”) to "
                f"{row.balance} ({row.date}, “{row.description}”), but that row's amount is {row.amount}: "
                f"{row.balance - previous.balance - row.amount} is unaccounted for "  # type: ignore[operator]
                "(a row missing from the import?).")))
        previous = row
    if len(gaps) > MAX_GAPS:
        gaps = gaps[:MAX_GAPS] + [_problem("balance_gap", message=f"… and {len(gaps) - MAX_GAPS} more gaps.")]
    return gaps


def _ledger_balance_before(*, company: Company, bank: Account, date: datetime.date) -> Decimal:
    totals = JournalLine.objects.filter(
        account=bank, entry__company=company, entry__status__in=BOOKED_STATUSES, entry__date__lt=date,
    ).aggregate(debit=Sum("debit"), credit=Sum("credit"))
    return ((totals["debit"] or ZERO) - (totals["credit"] or ZERO)).quantize(CENT)


def _summary(*, rows: list[StatementRow], items: dict[int, LedgerItem], figures: dict[str, Any], window_days: int,
             inputs: dict[str, Any]) -> dict[str, Any]:
    unmatched_rows = [row for row in rows if row.state in ("missing", "proposed")]
    unmatched_items = sorted((item for item in items.values() if item.state == "unmatched"),
                             key=lambda item: (item.date, item.id))
    row_total = sum((row.amount for row in unmatched_rows), ZERO)
    item_total = sum((item.amount for item in unmatched_items), ZERO)
    counts = {state: sum(1 for row in rows if row.state == state)
              for state in ("posted", "matched", "suggested", "proposed", "missing")}
    counts.update(statement_rows=len(rows), ledger_entries=len(items), unmatched_ledger=len(unmatched_items),
                  reconciled=0)
    movements = sum((item.amount for item in items.values()), ZERO)
    return {
        "inputs": inputs,
        "window_days": window_days,
        "opening_balance_source": figures["opening_source"],
        "ledger_opening_balance": _text(figures["ledger_opening"]),
        "statement": {"rows": len(rows), "rows_with_balance": figures["rows_with_balance"],
                      "total": _text(sum((row.amount for row in rows), ZERO))},
        "ledger": {"entries": len(items), "movements": _text(movements),
                   "closing": _text(figures["opening"] + movements)},
        "counts": counts,
        "unmatched_statement": [_row_json(row) for row in unmatched_rows[:MAX_LISTED]],
        "unmatched_statement_total": _text(row_total),
        "unmatched_ledger": [_item_json(item) for item in unmatched_items[:MAX_LISTED]],
        "unmatched_ledger_total": _text(item_total),
        # What the unmatched items account for: with the opening taken from the statement and every booked row
        # booked at its own amount, this equals the difference.
        "explained": _text(item_total - row_total),
        "problems": figures["problems"],
        "finished_at": timezone.now().isoformat(),
    }


def _row_json(row: StatementRow) -> dict[str, Any]:
    return {"id": row.id, "date": row.date.isoformat(), "description": row.description, "amount": _text(row.amount),
            "balance": _text(row.balance), "state": row.state, "note": row.note}


def _item_json(item: LedgerItem) -> dict[str, Any]:
    return {"id": item.id, "date": item.date.isoformat(), "memo": item.memo, "amount": _text(item.amount),
            "kind": item.kind, "note": item.note}


def _mark_reconciled(reconciliation: Reconciliation) -> int:
    """Mark the period's rows that are in the books (posted entry, or accepted match to a posted entry)."""
    posted = JournalEntry.objects.filter(status=EntryStatus.POSTED)
    booked = (Exists(posted.filter(source_transaction=OuterRef("pk")))
              | Exists(posted.filter(counter_transaction=OuterRef("pk")))
              | Exists(BankMatch.objects.filter(transaction=OuterRef("pk"), status=MatchStatus.ACCEPTED,
                                                entry__status=EntryStatus.POSTED)))
    return _period_rows(reconciliation).filter(reconciled_at__isnull=True).filter(booked).update(
        reconciled_at=timezone.now())


# ----------------------------------------------------------------------------------------- people's decisions


def bank_match_accept(*, match: BankMatch, user: Any) -> BankMatch:
    """Accept a suggested match: the bank row is booked by the entry from now on.

    A proposed (not yet posted) entry of the row is withdrawn, so that the row is not booked twice; the next
    post_propose skips the row. When the match's reconciliation balanced, the row is marked reconciled too.

    Raises:
        LedgerConflict: the match is not suggested any more, the entry is no longer posted, the row is in the books
            already, or either side has an accepted match meanwhile.
    """
    try:
        with transaction.atomic():
            match = _locked_suggestion(match=match, action="accepted")
            entry = JournalEntry.objects.select_for_update().get(pk=match.entry_id)
            row = Transaction.objects.select_for_update().get(pk=match.transaction_id)
            if entry.status != EntryStatus.POSTED:
                raise LedgerConflict(f"Entry #{entry.pk} is {entry.status} now; only a posted entry can be matched "
                                     "to a bank row.")
            booked = (JournalEntry.objects.filter(Q(source_transaction=row) | Q(counter_transaction=row))
                      .filter(status=EntryStatus.POSTED).first())
            if booked is not None:
                raise LedgerConflict(f"The bank row “{row.description}” of {row.date} is already in the books as "
                                     f"entry #{booked.pk}; accepting would book it twice.")
            # A proposed transfer books two rows: withdrawing it for one side would leave the other half-booked.
            transfer = (JournalEntry.objects.filter(Q(source_transaction=row) | Q(counter_transaction=row))
                        .filter(status=EntryStatus.PROPOSED, kind=EntryKind.TRANSFER).first())
            if transfer is not None:
                raise LedgerConflict(f"The bank row “{row.description}” is one side of the proposed transfer "
                                     f"entry #{transfer.pk}: withdraw or post that entry first.")
            taken = BankMatch.objects.filter(status=MatchStatus.ACCEPTED).filter(
                Q(transaction=row) | Q(entry=entry)).first()
            if taken is not None:
                raise LedgerConflict(f"Match {taken.pk} already pairs "
                                     f"{'this bank row' if taken.transaction_id == row.pk else f'entry #{entry.pk}'}"
                                     " with another item; reject one of them first.")
            withdrawn = list(JournalEntry.objects.filter(source_transaction=row, status=EntryStatus.PROPOSED)
                             .values_list("pk", flat=True))
            JournalEntry.objects.filter(pk__in=withdrawn).delete()
            now = timezone.now()
            BankMatch.objects.filter(pk=match.pk).update(status=MatchStatus.ACCEPTED, decided_by=actor_of(user),
                                                         decided_at=now)
            # Other suggestions for either side cannot be accepted any more.
            BankMatch.objects.filter(status=MatchStatus.SUGGESTED).filter(Q(transaction=row) | Q(entry=entry)).exclude(
                pk=match.pk).delete()
            reconciled = _reconcile_if_balanced(match=match, row=row, now=now)
            Transaction.objects.filter(pk=row.pk).update(
                status=TransactionStatus.POSTED, **({"reconciled_at": now} if reconciled else {}))
            _summary_after_decision(match=match, accepted=True, reconciled=reconciled)
            audit_record(action="ledger.match_accept", company=match.company, actor=user, target=match,
                         before={"status": MatchStatus.SUGGESTED},
                         after={"status": MatchStatus.ACCEPTED, "transaction": row.pk, "entry": entry.pk,
                                "score": str(match.score), "withdrawn_proposals": withdrawn,
                                "reconciled": reconciled})
    except IntegrityError:
        raise LedgerConflict(f"Match {match.pk} could not be accepted: another match of the same bank row or entry "
                             "was accepted at the same time.") from None
    match.refresh_from_db()
    return match


def bank_match_reject(*, match: BankMatch, user: Any) -> BankMatch:
    """Reject a suggested match: both sides count as unmatched, and the pair is never suggested again.

    Raises:
        LedgerConflict: the match is not suggested any more.
    """
    with transaction.atomic():
        match = _locked_suggestion(match=match, action="rejected")
        BankMatch.objects.filter(pk=match.pk).update(status=MatchStatus.REJECTED, decided_by=actor_of(user),
                                                     decided_at=timezone.now())
        _summary_after_decision(match=match, accepted=False, reconciled=False)
        audit_record(action="ledger.match_reject", company=match.company, actor=user, target=match,
                     before={"status": MatchStatus.SUGGESTED},
                     after={"status": MatchStatus.REJECTED, "transaction": match.transaction_id,
                            "entry": match.entry_id})
    match.refresh_from_db()
    return match


def _locked_suggestion(*, match: BankMatch, action: str) -> BankMatch:
    locked = BankMatch.objects.select_for_update().get(pk=match.pk)
    if locked.status != MatchStatus.SUGGESTED:
        raise LedgerConflict(f"Match {locked.pk} is already {locked.status}; only a suggested match can be {action}.")
    return BankMatch.objects.select_related("company", "transaction", "entry").get(pk=locked.pk)


def _reconcile_if_balanced(*, match: BankMatch, row: Transaction, now: datetime.datetime) -> bool:
    reconciliation = match.reconciliation
    return bool(
        reconciliation is not None and reconciliation.status == ReconciliationStatus.BALANCED
        and "unreconciled" not in reconciliation.summary and row.reconciled_at is None
        and reconciliation.bank_account_id == row.bank_account_id
        and reconciliation.period_start <= row.date <= reconciliation.period_end
    )


def _summary_after_decision(*, match: BankMatch, accepted: bool, reconciled: bool) -> None:
    """Keep the run's counts and unmatched lists true after a person decided one of its suggestions."""
    if match.reconciliation_id is None:
        return
    reconciliation = Reconciliation.objects.select_for_update().get(pk=match.reconciliation_id)
    summary = reconciliation.summary
    counts = summary.get("counts")
    if not counts:
        return
    counts["suggested"] = max(0, counts.get("suggested", 0) - 1)
    if accepted:
        counts["matched"] = counts.get("matched", 0) + 1
        counts["reconciled"] = counts.get("reconciled", 0) + int(reconciled)
    else:
        row, entry = match.transaction, match.entry
        counts["missing"] = counts.get("missing", 0) + 1
        summary.setdefault("unmatched_statement", []).append(_row_json(StatementRow(
            id=row.pk, date=row.date, amount=row.amount, balance=row.balance, description=row.description,
            state="missing", note="suggested match rejected")))
        summary["unmatched_statement_total"] = _text(Decimal(summary.get("unmatched_statement_total") or "0")
                                                     + row.amount)
        if reconciliation.period_start <= entry.date <= reconciliation.period_end:
            amount = _entry_amount_on(entry=entry, account_id=reconciliation.bank_account_id)
            counts["unmatched_ledger"] = counts.get("unmatched_ledger", 0) + 1
            summary.setdefault("unmatched_ledger", []).append(_item_json(LedgerItem(
                id=entry.pk, date=entry.date, memo=entry.memo, kind=entry.kind, status=entry.status, amount=amount,
                note="suggested match rejected")))
            summary["unmatched_ledger_total"] = _text(Decimal(summary.get("unmatched_ledger_total") or "0") + amount)
        summary["explained"] = _text(Decimal(summary.get("unmatched_ledger_total") or "0")
                                     - Decimal(summary.get("unmatched_statement_total") or "0"))
    Reconciliation.objects.filter(pk=reconciliation.pk).update(summary=summary)


def _entry_amount_on(*, entry: JournalEntry, account_id: int) -> Decimal:
    totals = entry.lines.filter(account_id=account_id).aggregate(debit=Sum("debit"), credit=Sum("credit"))
    return ((totals["debit"] or ZERO) - (totals["credit"] or ZERO)).quantize(CENT)


def reconciliation_unreconcile(*, reconciliation: Reconciliation, user: Any, transaction_id: int | None = None) -> int:
    """Clear `reconciled_at` of the reconciliation's bank rows (its account and period), or of one of them;
    audited as `ledger.unreconcile`. Returns how many rows were unmarked.

    Raises:
        LedgerInvalid: the transaction is not a bank row of this reconciliation's account and period.
        LedgerConflict: none of those rows is marked reconciled.
    """
    with transaction.atomic():
        reconciliation = (Reconciliation.objects.select_for_update().select_related("company", "bank_account")
                          .get(pk=reconciliation.pk))
        period = Transaction.objects.filter(
            company=reconciliation.company, bank_account=reconciliation.bank_account,
            date__range=(reconciliation.period_start, reconciliation.period_end))
        scope = f"{reconciliation.bank_account.code}, {reconciliation.period_start} to {reconciliation.period_end}"
        target: Any = reconciliation
        if transaction_id is not None:
            target = period.filter(pk=transaction_id).first()
            if target is None:
                raise LedgerInvalid(f"Transaction {transaction_id} is not a bank row of reconciliation "
                                    f"{reconciliation.pk} ({scope}).", extra={"fields": {"transaction": [
                                        "not a bank row of this reconciliation"]}})
            period = period.filter(pk=transaction_id)
        marked_rows = period.filter(reconciled_at__isnull=False)
        marked = list(marked_rows.order_by("pk").values_list("pk", flat=True)[:100])
        if not marked:
            raise LedgerConflict(
                f"Nothing to unreconcile: no bank row of reconciliation {reconciliation.pk} ({scope}) is marked "
                "reconciled." if transaction_id is None else
                f"Transaction {transaction_id} is not marked reconciled.")
        count = marked_rows.update(reconciled_at=None)
        now = timezone.now()
        events = reconciliation.summary.get("unreconciled_events", [])
        events.append({"at": now.isoformat(), "by": getattr(user, "username", "") or "", "rows": count,
                       "transaction": transaction_id})
        summary = {**reconciliation.summary, "unreconciled_events": events}
        if transaction_id is None:
            summary["unreconciled"] = {"at": now.isoformat(), "by": getattr(user, "username", "") or "",
                                       "rows": count}
        Reconciliation.objects.filter(pk=reconciliation.pk).update(summary=summary)
        audit_record(action="ledger.unreconcile", company=reconciliation.company, actor=user, target=target,
                     before={"reconciled": count, "transactions": marked},
                     after={"reconciled": 0, "reconciliation": reconciliation.pk})
    return count


# ----------------------------------------------------------------------------------------- helpers


def _bank_account(*, company: Company, code: str) -> Account:
    account = Account.objects.filter(company=company, code=code).first()
    if account is None:
        raise LedgerInvalid(f"{company.name} has no account with code {code!r}.",
                            extra={"fields": {"bank_account": [f"no account {code!r} in the chart"]}})
    if not account.is_bank:
        raise LedgerInvalid(f"Account {account.code} {account.name} is not a bank account; reconcile a bank account.",
                            extra={"fields": {"bank_account": [f"{account.code} is not a bank account"]}})
    return account


def _problem(code: str, *, message: str, blocking: bool = False) -> dict[str, Any]:
    return {"code": code, "message": message, "blocking": blocking}


def _is_money(value: Decimal) -> bool:
    return value.is_finite() and value == value.quantize(CENT) and abs(value) < MONEY_LIMIT


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _decimal_or_none(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise LedgerInvalid(f"{value!r} is not an amount.") from None


def _progress(job: Any, percent: int) -> None:
    if job is not None:
        job_progress(job=job, processed=percent, total=100, percent=percent)

