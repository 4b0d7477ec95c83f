"""Transfers between the company's own bank accounts, booked once as a transfer (not as income and expense).

Checking -> savings shows up twice: -500.00 on the checking statement and +500.00 on the savings one (perhaps
imported days apart). A pair is a transfer when
  * the amounts are opposite and the bank accounts differ,
  * the dates are at most `LEDGER_TRANSFER_WINDOW_DAYS` apart, and
  * at least one side's description or counterparty points at the other account: it names the other account's
    code or a word of its name ("TRANSFER TO SAVINGS", "ONLINE PMT CARD 4400").
Each candidate gets a transparent score (1.0, minus 0.1 per day apart, plus 0.05 when both sides point at each
other) and the reasons behind it; pairs are taken best first, each transaction at most once, ties by ids.

Booking a pair: one entry (kind "transfer", debit the receiving bank account, credit the paying one) whose
source is the outgoing transaction and whose counter is the incoming one; both transactions get a "transfer"
decision (auto-approved) that replaces a machine's guess. A person's decision always wins: a transaction a person
approved, corrected or split, one already in the books, or one whose entry was reversed (unposted: it waits
for a person), is never paired. Runs at the start of every
post_propose job, so pairs are found whichever statement is imported first.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from decisions.models import Decision, DecisionMethod, DecisionStatus
from ledger.models import EntryKind, EntryStatus, JournalEntry, JournalLine
from ledger.selectors import booked
from ledger.services.locks import transactions_lock_free
from transactions.models import Account, Company, Transaction, TransactionStatus

WORD = re.compile(r"[A-Za-z0-9]+")
GENERIC_WORDS = {"bank", "account", "business", "the", "and", "of"}  # too common to point at one account
DAY_PENALTY = Decimal("0.1")
BOTH_POINT_BONUS = Decimal("0.05")


@dataclass(frozen=True)
class TransferPair:
    outgoing: Transaction
    incoming: Transaction
    score: Decimal
    reasons: list[str] = field(default_factory=list)


def _pointers(account: Account) -> set[str]:
    """Words that, in another statement's line, point at this bank account."""
    words = {word.lower() for word in WORD.findall(account.name) if len(word) >= 4} - GENERIC_WORDS
    return words | {account.code.lower()}


def _points_at(txn: Transaction, account: Account) -> str | None:
    text = {word.lower() for word in WORD.findall(f"{txn.description} {txn.counterparty}")}
    hit = sorted(text & _pointers(account))
    return hit[0] if hit else None


def _candidates(company: Company, window: int) -> list[Transaction]:
    """The company's unbooked bank lines that have an opposite line on another of its bank accounts within the
    window (one query; the text test is done in Python on these few)."""
    human = Decision.objects.filter(transaction=OuterRef("pk"), is_current=True, method=DecisionMethod.HUMAN,
                                    account__isnull=False)
    # A line someone unposted (its entry reversed) waits for a person: it is never paired again by a job.
    unposted = JournalEntry.objects.filter(Q(source_transaction=OuterRef("pk")) | Q(counter_transaction=OuterRef("pk")),
                                           status=EntryStatus.REVERSED)
    open_lines = (Transaction.objects.filter(company=company, confirmed_at__isnull=True).exclude(amount=0)
                  .filter(~booked(OuterRef("pk")), ~Exists(human), ~Exists(unposted)).exclude(splits__isnull=False))
    days = datetime.timedelta(days=window)
    opposite = Transaction.objects.filter(
        company=company, amount=-OuterRef("amount"), date__gte=OuterRef("date") - days,
        date__lte=OuterRef("date") + days,
    ).exclude(bank_account=OuterRef("bank_account"))
    return list(open_lines.filter(Exists(opposite)).select_related("bank_account").order_by("date", "id"))


def transfer_pairs(*, company: Company, window_days: int | None = None) -> list[TransferPair]:
    """The best non-overlapping transfer pairs among the company's unbooked bank lines."""
    window = settings.LEDGER_TRANSFER_WINDOW_DAYS if window_days is None else window_days
    lines = _candidates(company, window)
    if len({line.bank_account_id for line in lines}) < 2:
        return []
    incoming_by_amount: dict[Decimal, list[Transaction]] = {}
    for line in lines:
        if line.amount > 0:
            incoming_by_amount.setdefault(line.amount, []).append(line)
    scored = []
    for out in (line for line in lines if line.amount < 0):
        for inc in incoming_by_amount.get(-out.amount, []):
            days = abs((inc.date - out.date).days)
            if inc.bank_account_id == out.bank_account_id or days > window:
                continue
            out_points, in_points = _points_at(out, inc.bank_account), _points_at(inc, out.bank_account)
            if not (out_points or in_points):
                continue
            reasons = [f"opposite amounts ({out.amount} / +{inc.amount})",
                       "same day" if days == 0 else f"{days} day{'s' if days > 1 else ''} apart"]
            if out_points:
                reasons.append(f"outgoing line names {inc.bank_account.code} ('{out_points}')")
            if in_points:
                reasons.append(f"incoming line names {out.bank_account.code} ('{in_points}')")
            score = Decimal(1) - DAY_PENALTY * days + (BOTH_POINT_BONUS if out_points and in_points else 0)
            scored.append(TransferPair(outgoing=out, incoming=inc, score=score, reasons=reasons))
    scored.sort(key=lambda pair: (-pair.score, pair.outgoing.pk, pair.incoming.pk))
    taken: set[int] = set()
    pairs = []
    for pair in scored:
        if pair.outgoing.pk in taken or pair.incoming.pk in taken:
            continue
        taken |= {pair.outgoing.pk, pair.incoming.pk}
        pairs.append(pair)
    return pairs


def transfers_book(*, company: Company, window_days: int | None = None) -> int:
    """Find and book the company's transfer pairs; returns how many were booked."""
    booked_count = 0
    for pair in transfer_pairs(company=company, window_days=window_days):
        try:
            with transaction.atomic():
                booked_count += _book_pair(company=company, pair=pair)
        except IntegrityError:
            continue  # one side was booked meanwhile (an approval, another job): leave the pair alone
    return booked_count


def _book_pair(*, company: Company, pair: TransferPair) -> bool:
    out, inc = pair.outgoing, pair.incoming
    if transactions_lock_free([out.pk, inc.pk]) != {out.pk, inc.pk}:
        return False  # one side was booked meanwhile (a person, another job, a reconciliation match)
    if Transaction.objects.filter(pk__in=[out.pk, inc.pk], confirmed_at__isnull=False).exists():
        return False  # a person decided one side meanwhile
    now = timezone.now()
    post = company.post_automatic_decisions
    entry = JournalEntry.objects.create(
        company=company, date=min(out.date, inc.date), kind=EntryKind.TRANSFER,
        memo=f"Transfer {out.bank_account.code} -> {inc.bank_account.code}: {out.description}"[:500],
        source_transaction=out, counter_transaction=inc,
    )
    JournalLine.objects.bulk_create([
        JournalLine(entry=entry, account_id=inc.bank_account_id, debit=inc.amount, credit=Decimal(0)),
        JournalLine(entry=entry, account_id=out.bank_account_id, debit=Decimal(0), credit=-out.amount),
    ])
    if post:  # lines first, then the status: lines of a posted entry are final
        JournalEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.POSTED, posted_at=now)
    Decision.objects.filter(transaction_id__in=[out.pk, inc.pk], is_current=True).update(
        is_current=False, status=DecisionStatus.REJECTED)
    explanation = {"transfer_entry": entry.pk, "score": str(pair.score), "reasons": pair.reasons}
    Decision.objects.bulk_create([
        Decision(company=company, transaction=line, method=DecisionMethod.TRANSFER, account_id=other.bank_account_id,
                 status=DecisionStatus.AUTO_APPROVED, confidence=min(pair.score, Decimal(1)),
                 explanation={**explanation, "transfer_with": other.pk})
        for line, other in ((out, inc), (inc, out))
    ])
    for line, other in ((out, inc), (inc, out)):
        Transaction.objects.filter(pk=line.pk).update(
            account_id=other.bank_account_id,
            status=TransactionStatus.POSTED if post else TransactionStatus.CATEGORIZED)
    return True
