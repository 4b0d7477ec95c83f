"""Recognising what each column of a bank export holds, from header names and sample values."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .amounts import readable_amount
from .dates import formats_matching, make_date_parser

_CURRENCY_CODES = {"eur", "usd", "gbp", "chf", "cad", "aud", "nzd", "jpy", "sek", "nok", "dkk", "pln", "czk", "huf"}

# Date column names, best first: the transaction date beats the posting date, which beats value date.
_DATE_PRIORITY = {
    **dict.fromkeys(
        (
            "transaction date",
            "trans date",
            "txn date",
            "trans dt",
            "date of transaction",
            "transaction dt",
            "started date",
            "transactiedatum",
            "date operation",
            "date de l operation",
            "date de operation",
            "fecha operacion",
            "fecha de operacion",
            "fecha transaccion",
            "belegdatum",
            "umsatzdatum",
        ),
        100,
    ),
    **dict.fromkeys(("date", "datum", "fecha", "data", "dato", "day"), 90),
    **dict.fromkeys(
        (
            "posting date",
            "posted date",
            "post date",
            "date posted",
            "booking date",
            "book date",
            "buchungstag",
            "buchungsdatum",
            "buchung",
            "boekdatum",
            "boekingsdatum",
            "date comptable",
            "date de comptabilisation",
            "fecha contable",
            "completed date",
            "settlement date",
            "processed date",
        ),
        80,
    ),
    **dict.fromkeys(
        (
            "value date",
            "value dt",
            "valuta",
            "valutadatum",
            "wertstellung",
            "wertstellungsdatum",
            "wert",
            "date de valeur",
            "date valeur",
            "fecha valor",
            "rentedatum",
        ),
        10,
    ),
}
_DESCRIPTION_PRIORITY = {
    **dict.fromkeys(
        (
            "description",
            "transaction description",
            "desc",
            "details",
            "transaction details",
            "detail",
            "narrative",
            "narration",
            "particulars",
            "verwendungszweck",
            "buchungstext",
            "beschreibung",
            "umsatztext",
            "vorgang",
            "libelle",
            "libelle operation",
            "libelle de l operation",
            "descripcion",
            "concepto",
            "omschrijving",
            "mededelingen",
            "text",
            "purpose",
            "remarks",
            "transaction",
        ),
        100,
    ),
    **dict.fromkeys(("memo", "notes", "note", "remittance information", "information", "info"), 50),
}
_MEMO_PRIORITY = 50
_PAYEE_NAMES = frozenset(
    (
        "payee",
        "payee name",
        "merchant",
        "merchant name",
        "name",
        "beneficiary",
        "counterparty",
        "counter party",
        "counterparty name",
        "other party",
        "payer payee",
        "payee payer",
        "beguenstigter zahlungspflichtiger",
        "begunstigter zahlungspflichtiger",
        "auftraggeber begunstigter",
        "auftraggeber beguenstigter",
        "auftraggeber empfanger",
        "empfanger",
        "empfaenger",
        "zahlungsempfanger",
        "auftraggeber",
        "beneficiaire",
        "tiers",
        "beneficiario",
        "tegenpartij",
        "naam",
        "naam omschrijving",
    )
)
_AMOUNT_NAMES = frozenset(
    (
        "amount",
        "amt",
        "transaction amount",
        "amount in",
        "net amount",
        "value",
        "sum",
        "betrag",
        "umsatz",
        "summe",
        "montant",
        "montant de l operation",
        "importe",
        "importe operacion",
        "bedrag",
    )
)
_DEBIT_NAMES = frozenset(
    (
        "debit",
        "debits",
        "debit amount",
        "debit amt",
        "amount debit",
        "withdrawal",
        "withdrawals",
        "withdrawal amount",
        "withdrawals amount",
        "paid out",
        "money out",
        "out",
        "outflow",
        "outgoing",
        "payments",
        "spent",
        "soll",
        "lastschrift",
        "ausgang",
        "belastung",
        "debet",
        "montant debit",
        "cargo",
        "cargos",
        "retiro",
    )
)
_CREDIT_NAMES = frozenset(
    (
        "credit",
        "credits",
        "credit amount",
        "credit amt",
        "amount credit",
        "deposit",
        "deposits",
        "deposit amount",
        "paid in",
        "money in",
        "in",
        "inflow",
        "incoming",
        "receipts",
        "received",
        "haben",
        "gutschrift",
        "eingang",
        "montant credit",
        "abono",
        "abonos",
        "ingreso",
        "ingresos",
    )
)
_DIRECTION_NAMES = frozenset(
    (
        "cr dr",
        "dr cr",
        "credit debit",
        "debit credit",
        "debit or credit",
        "credit or debit",
        "credit debit indicator",
        "debit credit indicator",
        "d c",
        "c d",
        "dc",
        "cd",
        "af bij",
        "soll haben",
        "s h",
        "sens",
        "type",
        "transaction type",
        "trans type",
        "indicator",
        "direction",
        "sign",
    )
)
_BALANCE_NAMES = frozenset(
    (
        "balance",
        "running balance",
        "running bal",
        "bal",
        "available balance",
        "ledger balance",
        "account balance",
        "balance after",
        "saldo",
        "solde",
        "kontostand",
        "saldo nach buchung",
    )
)
_CURRENCY_NAMES = frozenset(
    (
        "currency",
        "ccy",
        "curr",
        "cur",
        "currency code",
        "wahrung",
        "waehrung",
        "devise",
        "moneda",
        "divisa",
        "munt",
        "valuta",
    )
)
_REFERENCE_NAMES = frozenset(
    (
        "reference",
        "ref",
        "ref no",
        "ref #",
        "reference number",
        "reference no",
        "transaction id",
        "transaction reference",
        "transaction ref",
        "trans id",
        "txn id",
        "id",
        "fitid",
        "bank reference",
        "transaction number",
        "transaction no",
        "unique id",
        "referenz",
        "referencia",
        "kenmerk",
    )
)
_CHECK_NAMES = frozenset(
    (
        "check number",
        "check no",
        "check #",
        "check",
        "check num",
        "checknum",
        "check or slip #",
        "cheque number",
        "cheque no",
        "cheque #",
        "cheque",
        "chq no",
        "chq",
    )
)
_ACCOUNT_NAMES = frozenset(("account", "account code", "account name", "gl account", "gl code", "ledger account"))

# Values of a CR/DR-style column, mapped to the sign they give the amount.
DIRECTION_VALUES = {
    **dict.fromkeys(
        ("cr", "c", "credit", "+", "in", "bij", "h", "haben", "deposit", "gutschrift", "abono", "credito", "incoming"),
        1,
    ),
    **dict.fromkeys(
        ("dr", "d", "debit", "-", "out", "af", "s", "soll", "withdrawal", "lastschrift", "cargo", "debito", "outgoing"),
        -1,
    ),
}
_ISO_CURRENCY = re.compile(r"[A-Za-z]{3}")


def normalize_name(name: str) -> str:
    """Lower-case, accents and punctuation removed, currency units dropped: 'Betrag (EUR)' -> 'betrag'."""
    text = unicodedata.normalize("NFKD", name.strip().lower().replace("ß", "ss"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    tokens = re.sub(r"[^a-z0-9#]+", " ", text).split()
    kept = [token for token in tokens if token not in _CURRENCY_CODES]
    # "Betrag in EUR" -> "betrag"; but "Paid in" keeps its "in".
    if len(kept) < len(tokens) and len(kept) > 1 and kept[-1] == "in":
        kept.pop()
    return " ".join(kept) if kept else " ".join(tokens)


def normalize_indicator(value: str) -> str:
    """Normalise a CR/DR cell: 'Crédit' -> 'credit', 'D.' -> 'd'."""
    text = unicodedata.normalize("NFKD", value.strip().lower())
    return "".join(char for char in text if not unicodedata.combining(char)).rstrip(".")


@dataclass(frozen=True)
class Roles:
    """Column indexes chosen for each role (None when absent)."""

    date: int | None = None
    description: int | None = None
    counterparty: int | None = None
    amount: int | None = None
    debit: int | None = None
    credit: int | None = None
    direction: int | None = None
    balance: int | None = None
    currency: int | None = None
    reference: int | None = None
    check_number: int | None = None
    account: int | None = None

    @property
    def has_money(self) -> bool:
        """True when there is an amount or a debit/credit column."""
        return self.amount is not None or self.debit is not None or self.credit is not None


def _column_values(rows: Sequence[Sequence[str]], index: int) -> list[str]:
    """Non-blank stripped values of one column in sample rows."""
    return [row[index].strip() for row in rows if index < len(row) and row[index].strip()]


def _looks_like_dates(values: list[str]) -> bool:
    """True when the values are dates (or there are no values to tell)."""
    return not values or bool(formats_matching(values[:50]))


def _looks_like_amounts(values: list[str]) -> bool:
    """True when most values read as amounts (or there are no values to tell)."""
    sample = values[:50]
    return not sample or sum(readable_amount(value) for value in sample) * 2 > len(sample)


def _looks_like_direction(values: list[str]) -> bool:
    """True when every value is a CR/DR-style indicator."""
    return bool(values) and all(normalize_indicator(value) in DIRECTION_VALUES for value in values[:200])


def _looks_like_currency(values: list[str]) -> bool:
    """True when the values are three-letter currency codes."""
    return not values or all(_ISO_CURRENCY.fullmatch(value) for value in values[:200])


def _best(columns: dict[int, int]) -> int | None:
    """The column with the highest priority; the leftmost wins ties."""
    if not columns:
        return None
    return max(columns, key=lambda index: (columns[index], -index))


def _first(names: list[str], vocabulary: frozenset[str], taken: set[int]) -> int | None:
    """Leftmost column whose name is in the vocabulary and not already used."""
    return next((i for i, name in enumerate(names) if name in vocabulary and i not in taken), None)


def _date_column(names: list[str], rows: Sequence[Sequence[str]]) -> int | None:
    """The best-named column whose sample values are dates."""
    scored = {}
    for index, name in enumerate(names):
        priority = _DATE_PRIORITY.get(name)
        if priority is None and {"date", "datum", "fecha"} & set(name.split()):
            priority = 50
        if priority is not None and _looks_like_dates(_column_values(rows, index)):
            scored[index] = priority
    return _best(scored)


def _text_columns(names: list[str], rows: Sequence[Sequence[str]], taken: set[int]) -> tuple[int | None, int | None]:
    """(description, counterparty): payee goes to counterparty when there is also a description."""
    described = {
        i: _DESCRIPTION_PRIORITY[n] for i, n in enumerate(names) if n in _DESCRIPTION_PRIORITY and i not in taken
    }
    payee = _first(names, _PAYEE_NAMES, taken)
    top = max(described.values(), default=None)
    # Several description-like columns (Buchungstext + Verwendungszweck): the one that says most.
    best = max(
        (i for i, priority in described.items() if priority == top),
        key=lambda i: (sum(map(len, _column_values(rows, i))), -i),
        default=None,
    )
    if payee is None:
        return best, None
    if best is None:
        return payee, None
    if described[best] > _MEMO_PRIORITY:
        return best, payee
    # Only payee and memo: describe with whichever says more, keep the payee as counterparty.
    memo_text = sum(map(len, _column_values(rows, best)))
    payee_text = sum(map(len, _column_values(rows, payee)))
    return (best if memo_text > payee_text else payee), payee


def _money_columns(names: list[str], rows: Sequence[Sequence[str]], taken: set[int]) -> dict[str, int]:
    """Amount (+direction) or debit/credit columns whose values look like money."""

    def pick(vocabulary: frozenset[str]) -> int | None:
        index = _first(names, vocabulary, taken)
        return index if index is not None and _looks_like_amounts(_column_values(rows, index)) else None

    debit, credit, amount = pick(_DEBIT_NAMES), pick(_CREDIT_NAMES), pick(_AMOUNT_NAMES)
    if debit is not None and credit is not None:
        return {"debit": debit, "credit": credit}
    if amount is not None:
        money = {"amount": amount}
        direction = next(
            (
                i
                for i, name in enumerate(names)
                if name in _DIRECTION_NAMES and i not in taken and _looks_like_direction(_column_values(rows, i))
            ),
            None,
        )
        if direction is not None:
            money["direction"] = direction
        return money
    if debit is not None:
        return {"debit": debit}
    if credit is not None:
        return {"credit": credit}
    return {}


def recognise_columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Roles:
    """Assign roles to header columns by name, checked against sample data rows."""
    names = [normalize_name(cell) for cell in header]
    taken: set[int] = set()

    def claim(index: int | None, looks_right: Callable[[list[str]], bool] | None = None) -> int | None:
        """Reserve a column for one role, if its sample values fit the role."""
        if index is None or (looks_right and not looks_right(_column_values(rows, index))):
            return None
        taken.add(index)
        return index

    date = claim(_date_column(names, rows))
    money = _money_columns(names, rows, taken)
    taken.update(money.values())
    balance = claim(_first(names, _BALANCE_NAMES, taken), _looks_like_amounts)
    currency = claim(_first(names, _CURRENCY_NAMES, taken), _looks_like_currency)
    reference = claim(_first(names, _REFERENCE_NAMES, taken))
    check_number = claim(_first(names, _CHECK_NAMES, taken))
    account = claim(_first(names, _ACCOUNT_NAMES, taken))
    description, counterparty = _text_columns(names, rows, taken)
    return Roles(
        date=date,
        description=description,
        counterparty=counterparty,
        balance=balance,
        currency=currency,
        reference=reference,
        check_number=check_number,
        account=account,
        **money,
    )


def recognise_headerless(rows: Sequence[Sequence[str]]) -> Roles:
    """Roles for rows without a header: the date column, the amount column, the wordiest text column."""
    width = len(rows[0])
    columns = [[row[i].strip() for row in rows] for i in range(width)]
    date = next((i for i, values in enumerate(columns) if all(values) and _all_dates(values)), None)
    if date is None:
        return Roles()
    amounts = [i for i, values in enumerate(columns) if i != date and all(values) and all(map(readable_amount, values))]
    # Prefer a column with decimals over integer columns (those are more often ids).
    with_decimals = [i for i in amounts if all(re.search(r"[.,]\d{1,2}\)?\s*\S*$", v) for v in columns[i])]
    if not amounts:
        return Roles(date=date)
    amount = (with_decimals or amounts)[0]
    texts = [i for i in range(width) if i not in (date, *amounts)]
    description = max(texts, key=lambda i: sum(map(len, columns[i])), default=None)
    return Roles(date=date, amount=amount, description=description)


def _all_dates(values: list[str]) -> bool:
    """True when one format reads every value."""
    for date_format in formats_matching(values):
        parse = make_date_parser(date_format)
        if all(parse(value) for value in values):
            return True
    return False


def header_has_date_name(header: Sequence[str]) -> bool:
    """True when some column is named like a date."""
    return any(_date_column([normalize_name(c)], []) is not None for c in header)


def header_has_money_name(header: Sequence[str]) -> bool:
    """True when some column is named like an amount, debit or credit."""
    vocabulary = _AMOUNT_NAMES | _DEBIT_NAMES | _CREDIT_NAMES
    return any(normalize_name(cell) in vocabulary for cell in header)
