"""Reading the books: journal entries of a company, one entry for a user."""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db.models import Exists, Prefetch, QuerySet

from ledger.exceptions import LedgerInvalid
from ledger.models import BankMatch, EntryKind, EntryStatus, JournalEntry, JournalLine, MatchStatus
from transactions.models import Company, Role
from transactions.selectors import company_object_get_for_user


def booked(transaction_ref: Any) -> Exists:
    """Whether the bank transaction `transaction_ref` (an OuterRef) is in the books already: the source or the
    counter side of a live entry, or matched to an entry by reconciliation."""
    live = JournalEntry.objects.exclude(status=EntryStatus.REVERSED)
    return (Exists(live.filter(source_transaction=transaction_ref))
            | Exists(live.filter(counter_transaction=transaction_ref))
            | Exists(BankMatch.objects.filter(transaction=transaction_ref, status=MatchStatus.ACCEPTED)))


def entry_get_for_user(*, user: Any, entry_id: Any, role: str = Role.ACCOUNTANT) -> JournalEntry:
    return company_object_get_for_user(queryset=_with_lines(JournalEntry.objects.all()), user=user, pk=entry_id,
                                       role=role, not_found="No such journal entry.")


def journal_entries_for_company(*, company: Company, params: Mapping[str, str]) -> QuerySet[JournalEntry]:
    """The company's entries, newest first, filtered by status, kind, period and text (precise 400s)."""
    entries = JournalEntry.objects.filter(company=company)
    problems: dict[str, list[str]] = {}
    for field, choices in (("status", EntryStatus), ("kind", EntryKind)):
        value = params.get(field, "")
        if value and value not in choices.values:
            problems[field] = [f"expected one of {', '.join(choices.values)}, got {value!r}"]
        elif value:
            entries = entries.filter(**{field: value})
    dates = {}
    for field in ("date_from", "date_to"):
        value = params.get(field, "")
        if value:
            try:
                dates[field] = datetime.date.fromisoformat(value)
            except ValueError:
                problems[field] = [f"expected a date YYYY-MM-DD, got {value!r}"]
    if "date_from" in dates:
        entries = entries.filter(date__gte=dates["date_from"])
    if "date_to" in dates:
        entries = entries.filter(date__lte=dates["date_to"])
    if params.get("q"):
        entries = entries.filter(memo__icontains=params["q"][:200])
    if problems:
        raise LedgerInvalid("Some filters are not valid.", extra={"fields": problems})
    return _with_lines(entries).order_by("-date", "-id")


def _with_lines(entries: QuerySet[JournalEntry]) -> QuerySet[JournalEntry]:
    lines = JournalLine.objects.select_related("account").order_by("id")
    return entries.select_related("posted_by", "created_by").prefetch_related(Prefetch("lines", queryset=lines))
