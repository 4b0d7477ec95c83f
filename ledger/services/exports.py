r"""The journal as files other tools read: CSV (spreadsheets), an hledger journal, a beancount ledger.

Each export holds the booked entries (see ledger.services.reports) of one company, optionally limited to a
period, oldest first. `journal_export` checks the request and reads the chart up front, so that every refusal
is an ordinary error before the first byte is sent, then hands back a lazy generator: the lines are read with a
database iterator in chunks and written out a chunk at a time, so a large journal never sits in memory.

Signs follow the tools: a debit is a positive posting, a credit a negative one, so each entry sums to zero and
an account's balance in hledger or beancount is our debits - credits. Every amount carries the one currency of
the books, `settings.LEDGER_CURRENCY`.

Text is made safe for each format:
- CSV: text cells starting with = + - @ tab or CR get a leading `'`, so spreadsheets show them instead of
  running them; amounts stay plain numbers.
- hledger has no escapes: a description ends at a newline or at `;` (a comment starts there), so control
  characters become spaces and `;` becomes the full-width `；` (U+FF1B). The entry id is the transaction code,
  `(123)`, so a memo that starts with `(` stays the description.
- beancount strings are double-quoted with backslash escapes: `\\`, `\"`, `\n`, `\r`, `\t` round-trip exactly.
"""
from __future__ import annotations

import csv
import datetime
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Min

from ledger.exceptions import LedgerInvalid
from ledger.services.reports import booked_lines_in_period, period_validate
from ledger_site.spreadsheets import csv_safe
from transactions.models import AccountType, Company
from transactions.services.audit import audit_record

CHUNK_ROWS = 2000  # lines fetched per database round trip, and written per chunk of the response

ROOTS = {
    AccountType.ASSET: "Assets",
    AccountType.LIABILITY: "Liabilities",
    AccountType.EQUITY: "Equity",
    AccountType.INCOME: "Income",
    AccountType.EXPENSE: "Expenses",
}
HLEDGER_TYPES = {  # hledger's account type tags (`account NAME  ; type: A`), so `hledger bs`/`is` work
    AccountType.ASSET: "A", AccountType.LIABILITY: "L", AccountType.EQUITY: "E",
    AccountType.INCOME: "R", AccountType.EXPENSE: "X",
}
CSV_HEADER = ["entry_id", "date", "status", "kind", "memo", "source_transaction_id", "account_code",
              "account_name", "debit", "credit"]


@dataclass(frozen=True)
class ExportFormat:
    content_type: str
    extension: str
    render: Callable[..., Iterator[str]]


@dataclass(frozen=True)
class JournalExport:
    filename: str
    content_type: str
    chunks: Iterator[str]  # lazy: reads the database as it is consumed


@dataclass(frozen=True)
class LedgerAccount:
    """An account as the export names it, with the first day it is used in the export."""

    code: str
    name: str
    type: str
    full_name: str  # e.g. Assets:Bank:1000-Checking
    first_used: datetime.date


def journal_export(
    *, company: Company, export_format: str, date_from: datetime.date | None = None,
    date_to: datetime.date | None = None, user: Any = None,
) -> JournalExport:
    """The company's booked journal as `export_format` (csv, hledger, beancount): checked now, streamed later.

    Parameters:
        export_format: one of EXPORT_FORMATS.
        date_from, date_to: the period (either may be open); entries are included by their date.
        user: who exports; the export is recorded in the audit trail as `export.journal`.
    Returns:
        JournalExport: a file name, the content type and a generator of text chunks.
    Raises:
        LedgerInvalid: unknown format, date_from after date_to, or an account of an unknown type.
    """
    chosen = EXPORT_FORMATS.get(export_format)
    if chosen is None:
        raise LedgerInvalid(
            f"Unknown export format {export_format!r}: use one of {', '.join(EXPORT_FORMATS)}.",
            extra={"format": export_format},
        )
    period_validate(date_from=date_from, date_to=date_to)
    accounts = ledger_accounts(company=company, date_from=date_from, date_to=date_to)
    audit_record(action="export.journal", company=company, actor=user, target=company, after={
        "format": export_format, "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None,
    })
    period = f"{date_from.isoformat() if date_from else 'start'}-to-{date_to.isoformat() if date_to else 'end'}"
    return JournalExport(
        filename=f"journal-{company.slug}-{period}.{chosen.extension}",
        content_type=chosen.content_type,
        chunks=chosen.render(company=company, accounts=accounts, date_from=date_from, date_to=date_to),
    )


# ------------------------------------------------------------------------------------------ reading the books


def booked_lines(*, company: Company, date_from: datetime.date | None, date_to: datetime.date | None) -> Any:
    """The booked lines of the period as tuples (entry fields + account + amounts), oldest entry first."""
    lines = booked_lines_in_period(company=company, date_from=date_from, date_to=date_to)
    return lines.order_by("entry__date", "entry_id", "id").values_list(
        "entry_id", "entry__date", "entry__status", "entry__kind", "entry__memo", "entry__source_transaction_id",
        "entry__reverses_id", "account_id", "account__code", "account__name", "account__type", "account__is_bank",
        "debit", "credit", named=True,
    )


class AccountNamer:
    """Names accounts for hledger and beancount: valid names, unique within one export, stable for an account."""

    def __init__(self) -> None:
        self.by_id: dict[int, LedgerAccount] = {}
        self._taken: set[str] = set()

    def add(self, *, account_id: int, code: str, name: str, type: str, is_bank: bool,
            first_used: datetime.date) -> LedgerAccount:
        root = ROOTS.get(type)  # type: ignore[call-overload]
        if root is None:
            raise LedgerInvalid(
                f"Account {code} has the unknown type {type!r}; the export needs one of {', '.join(ROOTS)}.",
                extra={"account": code},
            )
        base = f"{root}:{'Bank:' if is_bank else ''}{account_component(code, name)}"
        full_name = base
        for number in itertools.count(2):  # two codes may clean up to the same name ("1.1" and "1-1")
            if full_name not in self._taken:
                break
            full_name = f"{base}-{number}"
        self._taken.add(full_name)
        account = LedgerAccount(code=code, name=name, type=type, full_name=full_name, first_used=first_used)
        self.by_id[account_id] = account
        return account

    def late(self, line: Any) -> LedgerAccount | None:
        """The account of `line` if it is new to this export, else None.

        The chart is read before the lines; an entry posted meanwhile may bring an account the first query did
        not see. It is named here, and the renderers declare it just before the entry that uses it.
        """
        if line.account_id in self.by_id:
            return None
        return self.add(account_id=line.account_id, code=line.account__code, name=line.account__name,
                        type=line.account__type, is_bank=line.account__is_bank, first_used=line.entry__date)


def ledger_accounts(
    *, company: Company, date_from: datetime.date | None, date_to: datetime.date | None
) -> AccountNamer:
    """The accounts the export uses, each with a valid and unique hledger/beancount name (one grouped query)."""
    lines = booked_lines_in_period(company=company, date_from=date_from, date_to=date_to)
    rows = (lines.values("account_id", "account__code", "account__name", "account__type", "account__is_bank")
            .annotate(first_used=Min("entry__date")).order_by("account__code", "account_id"))
    namer = AccountNamer()
    for row in rows:
        namer.add(account_id=row["account_id"], code=row["account__code"], name=row["account__name"],
                  type=row["account__type"], is_bank=row["account__is_bank"], first_used=row["first_used"])
    return namer


def account_component(code: str, name: str) -> str:
    """`code-Name` as one account-name component both tools accept: ASCII letters, digits and dashes, starting
    with a capital letter or a digit (beancount's rule; hledger accepts anything beancount does)."""
    ascii_text = unicodedata.normalize("NFKD", f"{code}-{name}").encode("ascii", "ignore").decode("ascii")
    component = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-") or "Account"
    return component[0].upper() + component[1:]


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _signed(line: Any) -> str:
    """A line as the tools write a posting: debit positive, credit negative."""
    return _money(line.debit - line.credit)


def _batched(parts: Iterable[str]) -> Iterator[str]:
    """Join many small strings into fewer, larger chunks for the response (CHUNK_ROWS strings each)."""
    iterator = iter(parts)
    while batch := "".join(itertools.islice(iterator, CHUNK_ROWS)):
        yield batch


def _entries(lines: Any) -> Iterator[tuple[Any, list[Any]]]:
    """(first line, all lines) per entry, from lines ordered by entry."""
    for _, group in itertools.groupby(lines.iterator(chunk_size=CHUNK_ROWS), key=lambda line: line.entry_id):
        entry_lines = list(group)
        yield entry_lines[0], entry_lines


# ------------------------------------------------------------------------------------------ CSV


class _Echo:
    """A file-like object for csv.writer that hands back each row instead of storing it."""

    def write(self, value: str) -> str:
        return value


def render_csv(*, company: Company, accounts: AccountNamer, date_from: datetime.date | None,
               date_to: datetime.date | None) -> Iterator[str]:
    """One row per journal line: the entry's fields, then the account and the amounts (numbers, never quoted)."""
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_HEADER)
        lines = booked_lines(company=company, date_from=date_from, date_to=date_to)
        for line in lines.iterator(chunk_size=CHUNK_ROWS):
            yield writer.writerow([
                line.entry_id, line.entry__date.isoformat(), line.entry__status, line.entry__kind,
                csv_safe(line.entry__memo), line.entry__source_transaction_id or "",
                csv_safe(line.account__code), csv_safe(line.account__name),
                _money(line.debit), _money(line.credit),
            ])

    return _batched(rows())


# ------------------------------------------------------------------------------------------ hledger

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def hledger_text(text: str) -> str:
    """One line of text that hledger reads back as it is: no line breaks or controls, no `;` (a comment)."""
    return _CONTROL.sub(" ", text).replace(";", "\uff1b").strip()


def render_hledger(*, company: Company, accounts: AccountNamer, date_from: datetime.date | None,
                   date_to: datetime.date | None) -> Iterator[str]:
    """An hledger journal: the commodity, the accounts (with types), then one transaction per entry."""
    currency = settings.LEDGER_CURRENCY

    def parts() -> Iterator[str]:
        yield f"; Autoledger journal export: {hledger_text(company.name)} ({company.slug})\n"
        yield f"; booked entries from {date_from or 'the start'} to {date_to or 'the end'}\n\n"
        yield f"commodity 1000.00 {currency}\n\n"
        for account in accounts.by_id.values():
            yield _hledger_account(account)
        for first, entry_lines in _entries(booked_lines(company=company, date_from=date_from, date_to=date_to)):
            for line in entry_lines:
                if late := accounts.late(line):
                    yield _hledger_account(late)
            yield _hledger_header(first)
            for line in entry_lines:
                yield f"    {accounts.by_id[line.account_id].full_name}  {_signed(line)} {currency}\n"

    return _batched(parts())


def _hledger_account(account: LedgerAccount) -> str:
    return f"account {account.full_name}  ; type: {HLEDGER_TYPES[account.type]}\n"


def _hledger_header(entry: Any) -> str:
    """`DATE * (ENTRY_ID) MEMO  ; tags`: the entry id is the transaction code, the rest goes into tags."""
    tags = [f"entry:{entry.entry_id}", f"kind:{entry.entry__kind}", f"status:{entry.entry__status}"]
    if entry.entry__source_transaction_id:
        tags.append(f"source_transaction:{entry.entry__source_transaction_id}")
    if entry.entry__reverses_id:
        tags.append(f"reverses:{entry.entry__reverses_id}")
    description = hledger_text(entry.entry__memo)
    return (f"\n{entry.entry__date.isoformat()} * ({entry.entry_id}){' ' + description if description else ''}"
            f"  ; {', '.join(tags)}\n")


# ------------------------------------------------------------------------------------------ beancount

_BEANCOUNT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def beancount_string(text: str) -> str:
    """A double-quoted beancount string that loads back as `text` (other control characters become spaces)."""
    escaped = "".join(
        _BEANCOUNT_ESCAPES.get(char, " " if unicodedata.category(char) == "Cc" else char) for char in text
    )
    return f'"{escaped}"'


def render_beancount(*, company: Company, accounts: AccountNamer, date_from: datetime.date | None,
                     date_to: datetime.date | None) -> Iterator[str]:
    """A beancount ledger: options, the commodity, an `open` per account on its first use, then the entries."""
    currency = settings.LEDGER_CURRENCY

    def parts() -> Iterator[str]:
        yield (f"; Autoledger journal export of {company.slug}: booked entries from {date_from or 'the start'} "
               f"to {date_to or 'the end'}\n")
        yield f"option \"title\" {beancount_string(company.name)}\n"
        yield f"option \"operating_currency\" \"{currency}\"\n\n"
        if accounts.by_id:
            first_day = min(account.first_used for account in accounts.by_id.values())
            yield f"{first_day.isoformat()} commodity {currency}\n"
        for account in accounts.by_id.values():
            yield _beancount_open(account, currency)
        for first, entry_lines in _entries(booked_lines(company=company, date_from=date_from, date_to=date_to)):
            for line in entry_lines:
                # Beancount orders directives by date, not by place: an `open` dated on the entry's day is valid.
                if late := accounts.late(line):
                    yield _beancount_open(late, currency)
            yield _beancount_header(first)
            for line in entry_lines:
                yield f"  {accounts.by_id[line.account_id].full_name}  {_signed(line)} {currency}\n"

    return _batched(parts())


def _beancount_open(account: LedgerAccount, currency: str) -> str:
    return f"{account.first_used.isoformat()} open {account.full_name} {currency}\n"


def _beancount_header(entry: Any) -> str:
    """`DATE * "MEMO"` and the entry's fields as metadata (strings, so ids are not read as amounts)."""
    meta = {"entry": entry.entry_id, "kind": entry.entry__kind, "status": entry.entry__status,
            "source_transaction": entry.entry__source_transaction_id, "reverses": entry.entry__reverses_id}
    lines = "".join(f"  {key}: \"{value}\"\n" for key, value in meta.items() if value)
    return f"\n{entry.entry__date.isoformat()} * {beancount_string(entry.entry__memo)}\n{lines}"


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "csv": ExportFormat(content_type="text/csv; charset=utf-8", extension="csv", render=render_csv),
    "hledger": ExportFormat(content_type="text/plain; charset=utf-8", extension="journal", render=render_hledger),
    "beancount": ExportFormat(content_type="text/plain; charset=utf-8", extension="beancount",
                              render=render_beancount),
}
