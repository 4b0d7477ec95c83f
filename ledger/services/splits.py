"""Splits: one bank transaction shared between several accounts (a Costco run: supplies, groceries, inventory).

How the parts are read (the one place this is written down):
- A part names an account and gives **either** a fixed `amount` **or** a `percent`, **or neither**: that part
  takes the remainder (at most one such part).
- Fixed amounts come first. Percentages share what the fixed amounts leave (the whole amount when there are
  none): with 100.00, a fixed 20.00 and 50 % gives 20.00 + 40.00. This makes "fixed items, then the rest by
  percentage" expressible, which percentages of the whole could not do without a remainder part.
- Without a remainder part the percentages must add up to 100 - up to the rounding of each one to two decimals
  (three times 33.33 is three equal thirds): they are then read as shares of 100 exactly. With a remainder
  part they must leave something for it.
- Amounts are in cents and have the transaction's sign: give "-12.50" or "12.50" for money out (the sign may be
  left out), "12.50" for money in; a negative amount on money in is refused. Every stored part has the
  transaction's sign and none is zero.
- Rounding: each percentage part gets its exact share rounded down to the cent, and the cents left over go to
  the parts with the largest fractions of a cent, ties to the earliest part (the largest-remainder method). With
  a remainder part the percentage parts together get their exact total rounded half up, the remainder part the
  rest. So the parts always add up to the transaction's amount exactly, and the same input always gives the
  same cents.
- Each account at most once (two parts on one account are one part), 2 to MAX_SPLIT_PARTS parts.

`split_allocate` is the pure arithmetic (no database); `transaction_split` stores a person's split: it records
their decision through `decisions.services.transaction_categorize` (the largest part's account, so the queue,
the statistics and training see a human decision) and proposes the entry - one bank line for the whole amount,
one line per part (`ledger.services.postings`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.db import transaction as db_transaction

from decisions.models import Decision
from decisions.services import transaction_categorize
from ledger.exceptions import LedgerInvalid
from ledger.models import EntryStatus, JournalEntry, SplitLine
from ledger.services.postings import CENT, actor_of, journal_entry_propose_for, transaction_refuse_rebooking
from rules.selectors import chart_codes
from transactions.models import Account, Transaction
from transactions.services.audit import audit_record

MAX_SPLIT_PARTS = 50
PERCENT_PLACES = Decimal("0.0001")  # SplitLine.percent keeps 4 decimals
MAX_AMOUNT = Decimal("1000000000000")  # SplitLine.amount: 14 digits, 2 of them decimals
HUNDRED = Decimal(100)
MEMO_LENGTH = 200  # SplitLine.memo
# Each percentage may be rounded to two decimals: n parts may miss 100 by up to n x 0.005 (3 x 33.33 = 99.99).
PERCENT_ROUNDING_PER_PART = Decimal("0.005")


@dataclass(frozen=True)
class SplitPart:
    """One part as a person gives it: an account code and a fixed amount, a percent, or neither (the remainder)."""

    account: str = ""
    amount: Decimal | None = None
    percent: Decimal | None = None
    memo: str = ""

    @property
    def takes_remainder(self) -> bool:
        return self.amount is None and self.percent is None


@dataclass
class SplitResult:
    """A stored split: the transaction, the person's decision, the parts in order and the (proposed) entry."""

    transaction: Transaction
    decision: Decision | None
    parts: list[SplitLine]
    entry: JournalEntry | None


# ------------------------------------------------------------------------------------- reading the parts


def split_parts_parse(raw: Any) -> list[SplitPart]:
    """Parts from JSON or form values ([{"account", "amount", "percent", "memo"}]); texts become Decimals.

    Blank amount/percent texts mean "not given". Raises LedgerInvalid naming every value that is not a number
    (`parts[1].amount`); what the numbers mean is checked by `split_allocate`.
    """
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise _invalid({"parts": ["expected a list of parts"]})
    errors: dict[str, list[str]] = {}
    parts = []
    for index, item in enumerate(raw[: MAX_SPLIT_PARTS + 1]):
        where = f"parts[{index}]"
        if not isinstance(item, Mapping):
            errors[where] = ["expected an object with account and amount or percent"]
            continue
        numbers: dict[str, Decimal | None] = {}
        for field, example in (("amount", "-12.50"), ("percent", "40 or 33.33")):
            try:
                numbers[field] = _decimal_or_none(item.get(field))
            except ValueError:
                errors[f"{where}.{field}"] = [f"expected a number like {example}, got {str(item.get(field))[:40]!r}"]
        if len(numbers) == 2:
            parts.append(SplitPart(account=str(item.get("account") or "").strip(), amount=numbers["amount"],
                                   percent=numbers["percent"], memo=str(item.get("memo") or "").strip()))
    if len(raw) > MAX_SPLIT_PARTS:
        errors["parts"] = [f"expected at most {MAX_SPLIT_PARTS} parts, got {len(raw)}"]
    if errors:
        raise _invalid(errors)
    return parts


def _decimal_or_none(value: Any) -> Decimal | None:
    """None for a missing or blank value, the Decimal for a number; ValueError for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(value)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation as error:
        raise ValueError(value) from error
    if not number.is_finite():
        raise ValueError(value)
    return number


# ---------------------------------------------------------------------------------------------- storing


def transaction_split(
    *, transaction: Transaction, parts: Sequence[SplitPart], user: Any, expected_decision_id: int | None = None,
) -> SplitResult:
    """A person splits a bank transaction across accounts: store the parts, record the decision, propose the entry.

    Parameters: `transaction` - a transaction the caller has authorized (`decisions.selectors.
    transaction_get_for_user` with the reviewer role); `parts` - SplitParts with account codes (see
    `split_parts_parse`); `expected_decision_id` - the decision the reviewer was looking at, as for
    `transaction_categorize` (another reviewer deciding first makes this a 409 and nothing changes).
    Returns: the stored SplitResult. A re-split replaces the earlier parts.
    Raises: LedgerInvalid (400) for parts that do not add up or accounts outside the company's active chart
    (bank accounts included); LedgerConflict (409) when the transaction is posted, a transfer or matched to an
    entry by reconciliation (reverse or undo that first); DecisionConflict (409) for a concurrent decision.
    """
    with db_transaction.atomic():
        txn = Transaction.objects.select_for_update().select_related("company").get(pk=transaction.pk)
        transaction_refuse_rebooking(txn, then="split it")
        amounts, accounts = _checked(txn, parts)
        before = [_part_json(line) for line in SplitLine.objects.filter(transaction=txn).select_related("account")]
        # The person's decision for the queue, the statistics, rule promotion and training: the account that gets
        # most of the money (ties: the earliest part). transaction_categorize also clears any earlier split.
        largest = max(range(len(parts)), key=lambda index: (abs(amounts[index]), -index))
        decision = transaction_categorize(transaction_id=txn.pk, user=user, account=accounts[parts[largest].account],
                                          expected_decision_id=expected_decision_id)
        lines = SplitLine.objects.bulk_create([
            SplitLine(transaction=txn, account=accounts[part.account], amount=amount, position=position, memo=part.memo,
                      percent=None if part.percent is None else part.percent.quantize(PERCENT_PLACES))
            for position, (part, amount) in enumerate(zip(parts, amounts))
        ])
        # transaction_categorize proposed an entry before the parts existed: propose again with one line per part.
        decision.transaction = txn
        entry = journal_entry_propose_for(decision=decision, user=actor_of(user))
        audit_record(action="ledger.split", company=txn.company, actor=user, target=txn,
                     before={"parts": before} if before else None,
                     after={"parts": [_part_json(line) for line in lines], "decision": decision.pk,
                            "entry": entry.pk if entry else None})
    return SplitResult(transaction=txn, decision=decision, parts=lines, entry=entry)


def transaction_split_state(*, transaction: Transaction) -> SplitResult:
    """What a transaction's split looks like now: its parts (none if not split), current decision and live entry.

    A read, kept next to the write it describes (the GET endpoint and the split page use it)."""
    return SplitResult(
        transaction=transaction,
        decision=Decision.objects.filter(transaction=transaction, is_current=True).first(),
        parts=list(SplitLine.objects.filter(transaction=transaction).select_related("account")),
        entry=(JournalEntry.objects.filter(source_transaction=transaction).exclude(status=EntryStatus.REVERSED)
               .prefetch_related("lines__account").first()),
    )


def _checked(txn: Transaction, parts: Sequence[SplitPart]) -> tuple[list[Decimal], dict[str, Account]]:
    """The allocated amounts and the accounts by code; every problem of either kind in one LedgerInvalid."""
    errors: dict[str, list[str]] = {}
    amounts: list[Decimal] = []
    accounts: dict[str, Account] = {}
    try:
        amounts = split_allocate(txn.amount, parts)
    except LedgerInvalid as error:
        _collect(errors, error)
    try:
        accounts = _accounts_of(txn, parts)
    except LedgerInvalid as error:
        _collect(errors, error)
    if errors:
        raise _invalid(dict(sorted(errors.items(), key=lambda item: _field_order(item[0]))))
    return amounts, accounts


def _collect(errors: dict[str, list[str]], error: LedgerInvalid) -> None:
    for field, problems in error.extra["fields"].items():
        errors.setdefault(field, []).extend(problems)


def _field_order(field: str) -> tuple[int, str]:
    """"parts" first, then parts[0]..., parts[10] after parts[9]."""
    if not field.startswith("parts["):
        return (-1, field)
    index, _, rest = field[len("parts["):].partition("]")
    return (int(index), rest)


def _accounts_of(txn: Transaction, parts: Sequence[SplitPart]) -> dict[str, Account]:
    """The parts' accounts by code; each must be an active category account of the company's chart - the same
    chart rules and reviewers choose from (`rules.selectors.chart_codes`: no bank accounts)."""
    allowed = chart_codes(company_id=txn.company_id)
    found = {account.code: account for account in Account.objects.filter(
        company_id=txn.company_id, code__in={part.account for part in parts})}
    errors: dict[str, list[str]] = {}
    for index, part in enumerate(parts):
        where = f"parts[{index}].account"
        account = found.get(part.account)
        if not part.account:
            errors[where] = ["expected the code of an account of the chart, e.g. 6100"]
        elif account is None:
            errors[where] = [f"{part.account!r} is not an account of {txn.company.name}'s chart"]
        elif part.account not in allowed:
            why = "a bank account" if account.is_bank else "inactive"
            errors[where] = [f"{account.code} {account.name} is {why}: expected an active category account"]
    if errors:
        raise _invalid(errors)
    return {code: account for code, account in found.items() if code in allowed}


def _part_json(line: SplitLine) -> dict[str, str | None]:
    return {"account": line.account.code, "amount": str(line.amount),
            "percent": None if line.percent is None else str(line.percent), "memo": line.memo}


# ------------------------------------------------------------------------------------------ the arithmetic


def split_allocate(amount: Decimal, parts: Sequence[SplitPart]) -> list[Decimal]:
    """The signed amount of each part, in order, adding up exactly to `amount` (see the module docstring).

    Parameters: `amount` - the transaction's signed amount; `parts` - SplitParts (account codes are only
    checked for repeats here; whether they belong to the chart is `transaction_split`'s business).
    Returns: one Decimal per part, each with the transaction's sign, quantized to the cent, none zero.
    Raises: LedgerInvalid with `extra.fields` naming each problem's part and field (`parts[2].percent`) and
    what was expected.
    """
    errors = _part_errors(amount, parts)
    if errors:
        raise _invalid(errors)
    sign = 1 if amount > 0 else -1
    total = _cents(abs(amount))
    cents: list[int | None] = [None] * len(parts)
    fixed_total = 0
    for index, part in enumerate(parts):
        if part.amount is not None:
            cents[index] = _cents(abs(part.amount))
            fixed_total += cents[index] or 0
            if fixed_total > total:
                raise _invalid({f"parts[{index}].amount": [
                    f"the fixed amounts reach {_money(fixed_total)} here, more than the transaction's "
                    f"{_money(total)}"]})
    rest = total - fixed_total
    percent_indexes = [index for index, part in enumerate(parts) if part.percent is not None]
    remainder_index = next((index for index, part in enumerate(parts) if part.takes_remainder), None)
    if percent_indexes:
        _share_by_percent(parts, percent_indexes, rest=rest, has_remainder=remainder_index is not None, into=cents)
    if remainder_index is not None:
        cents[remainder_index] = rest - sum(cents[index] or 0 for index in percent_indexes)
    elif not percent_indexes and fixed_total != total:
        raise _invalid({"parts": [
            f"the amounts add up to {_money(fixed_total)}, expected exactly the transaction's {_money(total)}; "
            "or leave one part's amount and percent empty to take the rest"]})
    zero = {f"parts[{index}]" + ("" if parts[index].takes_remainder else ".percent"):
            [_zero_part_message(parts[index], rest)] for index, value in enumerate(cents) if not value}
    if zero:
        raise _invalid(zero)
    return [(Decimal(value or 0) * CENT * sign).quantize(CENT) for value in cents]


def _part_errors(amount: Decimal, parts: Sequence[SplitPart]) -> dict[str, list[str]]:
    """What is wrong with the parts one by one (and their number), before any arithmetic."""
    errors: dict[str, list[str]] = {}
    if amount == 0:
        return {"parts": ["the transaction's amount is 0.00: there is nothing to split"]}
    if len(parts) < 2:
        errors["parts"] = [f"expected at least 2 parts, got {len(parts)}: one account for the whole amount is a "
                           "plain categorization"]
    elif len(parts) > MAX_SPLIT_PARTS:
        errors["parts"] = [f"expected at most {MAX_SPLIT_PARTS} parts, got {len(parts)}"]
    first_of_account: dict[str, int] = {}
    remainder_at: int | None = None
    for index, part in enumerate(parts):
        where = f"parts[{index}]"
        if part.account:
            if part.account in first_of_account:
                errors[f"{where}.account"] = [
                    f"{part.account} is already parts[{first_of_account[part.account]}]'s account: give each "
                    "account once"]
            first_of_account.setdefault(part.account, index)
        if len(part.memo) > MEMO_LENGTH:
            errors[f"{where}.memo"] = [f"expected at most {MEMO_LENGTH} characters, got {len(part.memo)}"]
        if part.amount is not None and part.percent is not None:
            errors[where] = ["give an amount or a percent, not both"]
        elif part.takes_remainder:
            if remainder_at is not None:
                errors[where] = [f"only one part may take the remainder (parts[{remainder_at}] already does): give "
                                 "this one an amount or a percent"]
            remainder_at = index if remainder_at is None else remainder_at
        if part.amount is not None:
            problem = _amount_problem(part.amount, money_in=amount > 0)
            if problem:
                errors[f"{where}.amount"] = [problem]
        if part.percent is not None:
            problem = _percent_problem(part.percent)
            if problem:
                errors[f"{where}.percent"] = [problem]
    return errors


def _amount_problem(value: Decimal, *, money_in: bool) -> str:
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        return f"expected an amount below {MAX_AMOUNT:,}, got {value}"
    if value == 0:
        return "expected a non-zero amount (leave the part out instead)"
    if value.quantize(CENT) != value:
        return f"expected at most 2 decimal places (cents), got {value}"
    if money_in and value < 0:
        return f"the transaction is money in: expected a positive amount, got {value}"
    return ""


def _percent_problem(value: Decimal) -> str:
    if not value.is_finite() or not 0 < value <= HUNDRED:
        return f"expected a percentage above 0 and at most 100, got {value}"
    if value.quantize(PERCENT_PLACES) != value:
        return f"expected at most 4 decimal places, got {value}"
    return ""


def _share_by_percent(parts: Sequence[SplitPart], indexes: list[int], *, rest: int, has_remainder: bool,
                      into: list[int | None]) -> None:
    """Cents of the percentage parts out of `rest` (largest remainder, ties to the earliest), written to `into`."""
    percents = [parts[index].percent or Decimal(0) for index in indexes]
    percent_total = sum(percents, Decimal(0))
    if has_remainder:
        # Shares of `rest`; what they leave goes to the remainder part (which must get something).
        if percent_total >= HUNDRED:
            at = _first_index_reaching(indexes, percents, HUNDRED)
            raise _invalid({f"parts[{at}].percent": [
                f"the percentages reach {percent_total.normalize():f} here: with a part taking the remainder they "
                "must add up to less than 100"]})
        exact = [Fraction(percent) * rest / 100 for percent in percents]
        target = int(sum(exact, Fraction(0)) + Fraction(1, 2))  # the group's exact total, rounded half up
    else:
        tolerance = PERCENT_ROUNDING_PER_PART * len(percents)
        if abs(percent_total - HUNDRED) > tolerance:
            raise _invalid({f"parts[{indexes[-1]}].percent": [
                f"the percentages add up to {percent_total.normalize():f}, expected 100 (within "
                f"{tolerance.normalize():f} for rounding each to two decimals); or leave one part's amount and "
                "percent empty to take the rest"]})
        # Read as shares of 100 exactly: three times 33.33 are three equal thirds.
        exact = [Fraction(percent) / Fraction(percent_total) * rest for percent in percents]
        target = rest
    floors = [int(share) for share in exact]  # shares are non-negative: int() rounds down
    leftover = target - sum(floors)
    by_fraction = sorted(range(len(exact)), key=lambda position: (-(exact[position] - floors[position]), position))
    for position in by_fraction[:leftover]:
        floors[position] += 1
    for position, index in enumerate(indexes):
        into[index] = floors[position]


def _first_index_reaching(indexes: list[int], percents: list[Decimal], limit: Decimal) -> int:
    running = Decimal(0)
    for index, percent in zip(indexes, percents):
        running += percent
        if running >= limit:
            return index
    return indexes[-1]


def _zero_part_message(part: SplitPart, rest: int) -> str:
    if part.takes_remainder:
        return (f"nothing is left for this part (the remainder): the other parts already take all of "
                f"{_money(rest)}" if rest else "nothing is left for this part (the remainder): the fixed amounts "
                "already take the whole amount")
    if not rest:
        return "the fixed amounts take the whole amount: nothing is left to share by percent"
    return (f"{(part.percent or Decimal(0)).normalize():f} % of {_money(rest)} is less than a cent once rounded: "
            "every part needs at least 0.01")


def _cents(value: Decimal) -> int:
    return int((value / CENT).to_integral_value())


def _money(cents: int) -> str:
    return f"{Decimal(cents) * CENT:.2f}"


def _invalid(errors: dict[str, list[str]]) -> LedgerInvalid:
    first_field, first = next(iter(errors.items()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return LedgerInvalid(f"The split is not valid: {first_field}: {first[0]}{more}.", extra={"fields": errors})
