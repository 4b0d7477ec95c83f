"""Journal exports: CSV safe for spreadsheets, and hledger / beancount files that the real tools accept and whose
balances equal our trial balance. Nasty memos (quotes, `;`, newlines, unicode, formulas) survive."""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.exceptions import LedgerInvalid
from ledger.services import exports
from ledger.services.exports import account_component, journal_export
from ledger.services.postings import journal_entry_create
from ledger.services.reports import trial_balance
from ledger.tests.report_books import company_a_books, d
from transactions.models import AccountType, AuditEvent
from transactions.tests.factories import AccountFactory

# What each memo must become: hledger has no escapes (a `;` starts a comment, a line break ends the line);
# beancount and CSV keep the memo exactly.
NASTY = {
    "1": 'He said "hi"; then left\nsecond line\ttab',
    "3": "=cmd|' /C calc'!A0",
    "4": "(not a code) Café ☕ — naïve; \\ back\\slash",
    "7": "+SUM(1,2) @user -minus",
}
NASTY_IN_HLEDGER = {
    "1": 'He said "hi"； then left second line tab',
    "3": "=cmd|' /C calc'!A0",
    "4": "(not a code) Café ☕ — naïve； \\ back\\slash",
    "7": "+SUM(1,2) @user -minus",
}
ACCOUNT_NAMES = {  # our codes as the tools see them
    "1000": "Assets:Bank:1000-Checking",
    "2000": "Liabilities:2000-Credit-Card",
    "3000": "Equity:3000-Owner-s-Equity",
    "6100": "Expenses:6100-Office-Supplies",
    "6200": "Expenses:6200-Rent",
    "8000": "Income:8000-Sales-Revenue",
}
TOOL_ENV = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}  # hledger reads UTF-8 only under a UTF-8 locale


@pytest.fixture
def books(company_a, company_b):
    return company_a_books(company_a, company_b, memos=NASTY)


def _export(company, export_format, **period) -> str:
    return "".join(journal_export(company=company, export_format=export_format, **period).chunks)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, env=TOOL_ENV, timeout=120, check=False)


def _hledger() -> str:
    found = shutil.which("hledger")
    if found is None:
        pytest.fail("hledger is not installed: `./dev test` installs it (Debian package hledger)")
    return found


def _bean_check() -> str:
    return str(Path(sys.executable).with_name("bean-check"))


def _our_balances(company, **period) -> dict[str, Decimal]:
    report = trial_balance(company=company, **period)
    return {ACCOUNT_NAMES[row.code]: row.balance for row in report.accounts if row.balance}


# ---------------------------------------------------------------------------------------------- CSV


def test_csv_has_one_row_per_booked_line_with_numeric_amounts(books, company_a):
    rows = list(csv.reader(io.StringIO(_export(company_a, "csv"))))

    assert rows[0] == ["entry_id", "date", "status", "kind", "memo", "source_transaction_id", "account_code",
                       "account_name", "debit", "credit"]
    lines = rows[1:]
    assert len(lines) == 15  # 7 booked entries (#1-#5, #5R, #7), two lines each and three for #7; #6 is proposed
    entries = {int(row[0]) for row in lines}
    assert entries == {books.entries[n].pk for n in ("1", "2", "3", "4", "5", "5R", "7")}
    assert sum(Decimal(row[8]) for row in lines) == sum(Decimal(row[9]) for row in lines) == Decimal("13250.38")
    assert all(not row[8].startswith("'") and not row[9].startswith("'") for row in lines)
    staples = [row for row in lines if row[0] == str(books.entries["2"].pk)]
    assert staples == [
        [str(books.entries["2"].pk), "2025-01-10", "posted", "transaction", "STAPLES 00123",
         str(books.entries["2"].source_transaction_id), "6100", "Office Supplies", "250.40", "0.00"],
        [str(books.entries["2"].pk), "2025-01-10", "posted", "transaction", "STAPLES 00123",
         str(books.entries["2"].source_transaction_id), "1000", "Checking", "0.00", "250.40"],
    ]
    assert {row[2] for row in lines if row[0] == str(books.entries["5"].pk)} == {"reversed"}
    assert {row[3] for row in lines if row[0] == str(books.entries["5R"].pk)} == {"reversal"}


def test_csv_neutralizes_formulas_in_text_cells_only(books, company_a):
    AccountFactory(company=company_a, code="-6900", name="=HYPERLINK(\"http://evil\")", type=AccountType.EXPENSE)
    journal_entry_create(company=company_a, date=d("2025-03-20"), memo="@SUM(A1)\r\nnext", post=True, lines=[
        (company_a.accounts.get(code="-6900"), Decimal("5.00"), Decimal("0")),
        (company_a.accounts.get(code="1000"), Decimal("0"), Decimal("5.00"))])

    rows = list(csv.reader(io.StringIO(_export(company_a, "csv"))))[1:]

    memos = {row[4] for row in rows}
    assert "'=cmd|' /C calc'!A0" in memos and "'+SUM(1,2) @user -minus" in memos and "'@SUM(A1)\r\nnext" in memos
    assert 'He said "hi"; then left\nsecond line\ttab' in memos  # nothing to neutralize: kept exactly
    danger = [row for row in rows if row[6] == "'-6900"]
    assert [(row[7], row[8], row[9]) for row in danger] == [("'=HYPERLINK(\"http://evil\")", "5.00", "0.00")]
    assert not any(row[6].startswith(("=", "+", "-", "@")) or row[7].startswith(("=", "+", "-", "@")) for row in rows)


def test_csv_of_a_period(books, company_a):
    rows = list(csv.reader(io.StringIO(_export(company_a, "csv", date_from=d("2025-02-01"), date_to=d("2025-02-28")))))

    assert sorted({row[1] for row in rows[1:]}) == ["2025-02-03", "2025-02-15", "2025-02-20"]


# ---------------------------------------------------------------------------------------------- hledger


def test_hledger_accepts_the_journal_and_agrees_with_our_trial_balance(books, company_a, tmp_path):
    journal = _write(tmp_path, "books.journal", _export(company_a, "hledger"))
    hledger = _hledger()

    checked = _run(hledger, "-f", str(journal), "check")
    strict = _run(hledger, "--strict", "-f", str(journal), "check", "ordereddates")  # accounts, commodities too
    balances = _run(hledger, "-f", str(journal), "balance", "-O", "csv", "--no-total", "--flat")

    assert checked.returncode == 0, checked.stderr
    assert strict.returncode == 0, strict.stderr
    assert balances.returncode == 0, balances.stderr
    theirs = {}
    for account, amount in list(csv.reader(io.StringIO(balances.stdout)))[1:]:
        number, currency = amount.split(" ")
        assert currency == "USD"
        theirs[account] = Decimal(number)
    assert theirs == _our_balances(company_a, date_to=d("2025-12-31"))
    assert theirs["Assets:Bank:1000-Checking"] == Decimal("11149.60")  # and ours is the hand-checked one


def test_hledger_keeps_memos_readable_and_the_entry_id_as_the_code(books, company_a, tmp_path):
    journal = _write(tmp_path, "books.journal", _export(company_a, "hledger"))

    printed = _run(_hledger(), "-f", str(journal), "print", "-O", "csv")

    assert printed.returncode == 0, printed.stderr
    rows = list(csv.DictReader(io.StringIO(printed.stdout)))
    descriptions = {row["code"]: row["description"] for row in rows}
    for number, expected in NASTY_IN_HLEDGER.items():
        assert descriptions[str(books.entries[number].pk)] == expected
    comments = {row["code"]: row["comment"] for row in rows}
    reversal = books.entries["5R"]
    assert comments[str(reversal.pk)] == (
        f"entry:{reversal.pk}, kind:reversal, status:posted, reverses:{books.entries['5'].pk}")
    assert str(books.entries["6"].pk) not in descriptions  # proposed: not in the books
    assert "BETA SECRET SALE" not in printed.stdout


def test_hledger_balances_of_a_period(books, company_a, tmp_path):
    journal = _write(tmp_path, "march.journal", _export(company_a, "hledger", date_from=d("2025-03-01"),
                                                         date_to=d("2025-03-31")))

    balances = _run(_hledger(), "-f", str(journal), "balance", "-O", "csv", "--no-total", "--flat")

    assert balances.returncode == 0, balances.stderr
    theirs = {account: Decimal(amount.split(" ")[0])
              for account, amount in list(csv.reader(io.StringIO(balances.stdout)))[1:]}
    assert theirs == {"Assets:Bank:1000-Checking": Decimal("-0.01"), "Expenses:6100-Office-Supplies": Decimal("-69.99"),
                      "Expenses:6200-Rent": Decimal("70.00")}
    assert theirs == _our_balances(company_a, date_from=d("2025-03-01"), date_to=d("2025-03-31"))


# ---------------------------------------------------------------------------------------------- beancount


def _beancount_balances(path: Path) -> tuple[dict[str, Decimal], list, list]:
    from beancount import loader
    from beancount.core import data

    entries, errors, _ = loader.load_file(str(path))
    balances: dict[str, Decimal] = defaultdict(Decimal)
    transactions = [entry for entry in entries if isinstance(entry, data.Transaction)]
    for entry in transactions:
        for posting in entry.postings:
            assert posting.units.currency == "USD"
            balances[posting.account] += posting.units.number
    return {account: amount for account, amount in balances.items() if amount}, errors, transactions


def test_bean_check_accepts_the_ledger_and_it_agrees_with_our_trial_balance(books, company_a, tmp_path):
    ledger = _write(tmp_path, "books.beancount", _export(company_a, "beancount"))

    checked = _run(_bean_check(), str(ledger))
    theirs, errors, _ = _beancount_balances(ledger)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert errors == []
    assert theirs == _our_balances(company_a, date_to=d("2025-12-31"))
    assert theirs["Equity:3000-Owner-s-Equity"] == Decimal("-10000.00")


def test_beancount_keeps_memos_exactly_and_the_entry_fields_as_metadata(books, company_a, tmp_path):
    ledger = _write(tmp_path, "books.beancount", _export(company_a, "beancount"))

    _, errors, transactions = _beancount_balances(ledger)

    assert errors == []
    by_entry = {entry.meta["entry"]: entry for entry in transactions}
    for number, memo in NASTY.items():
        assert by_entry[str(books.entries[number].pk)].narration == memo
    staples = by_entry[str(books.entries["2"].pk)]
    assert (staples.meta["kind"], staples.meta["source_transaction"]) == (
        "transaction", str(books.entries["2"].source_transaction_id))
    assert by_entry[str(books.entries["5"].pk)].meta["status"] == "reversed"
    assert str(books.entries["6"].pk) not in by_entry and len(by_entry) == 7


def test_beancount_of_a_period_opens_accounts_on_their_first_use(books, company_a, tmp_path):
    text = _export(company_a, "beancount", date_from=d("2025-02-01"), date_to=d("2025-02-28"))
    ledger = _write(tmp_path, "february.beancount", text)

    checked = _run(_bean_check(), str(ledger))

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "2025-02-15 open Liabilities:2000-Credit-Card USD" in text
    assert "2025-02-03 open Assets:Bank:1000-Checking USD" in text
    assert 'option "operating_currency" "USD"' in text


# ---------------------------------------------------------------------------------------------- names


@pytest.mark.parametrize(("code", "name", "expected"), [
    ("1000", "Checking", "1000-Checking"),
    ("6100", "Office Supplies & Postage", "6100-Office-Supplies-Postage"),
    ("7000", "Café Crème — Ünïcode", "7000-Cafe-Creme-Unicode"),
    ("abc", "lower case", "Abc-lower-case"),
    ("", "☕☕", "Account"),
    ("1.1", "x:y;z\"", "1-1-x-y-z"),
])
def test_account_components_are_valid_for_both_tools(code, name, expected):
    assert account_component(code, name) == expected


def test_odd_account_names_stay_unique_and_both_tools_accept_them(company_a, company_b, tmp_path, settings):
    settings.LEDGER_CURRENCY = "EUR"
    odd = [AccountFactory(company=company_a, code=code, name=name, type=AccountType.EXPENSE)
           for code, name in (("1-1", "Misc"), ("1.1", "Misc"), ("abc", "lower ünïcode"), ("7000", "☕"))]
    bank = company_a.accounts.get(code="1000")
    for index, account in enumerate(odd, start=1):
        journal_entry_create(company=company_a, date=d("2025-04-01"), memo=f"odd {index}", post=True, lines=[
            (account, Decimal(index), Decimal("0")), (bank, Decimal("0"), Decimal(index))])

    journal = _write(tmp_path, "odd.journal", _export(company_a, "hledger"))
    ledger = _write(tmp_path, "odd.beancount", _export(company_a, "beancount"))
    hledger_balances = _run(_hledger(), "-f", str(journal), "balance", "-O", "csv", "--no-total", "--flat")
    bean = _run(_bean_check(), str(ledger))

    assert hledger_balances.returncode == 0, hledger_balances.stderr
    assert bean.returncode == 0, bean.stdout + bean.stderr
    assert list(csv.reader(io.StringIO(hledger_balances.stdout)))[1:] == [
        ["Assets:Bank:1000-Checking", "-10.00 EUR"],
        ["Expenses:1-1-Misc", "1.00 EUR"],
        ["Expenses:1-1-Misc-2", "2.00 EUR"],
        ["Expenses:7000", "4.00 EUR"],
        ["Expenses:Abc-lower-unicode", "3.00 EUR"],
    ]


# ---------------------------------------------------------------------------------------------- the service


def test_the_export_is_checked_at_once_and_read_lazily_in_chunks(books, company_a, monkeypatch,
                                                                   django_assert_num_queries):
    whole = _export(company_a, "hledger")
    monkeypatch.setattr(exports, "CHUNK_ROWS", 4)

    with django_assert_num_queries(2):  # the accounts, and the audit event: no line is read yet
        export = journal_export(company=company_a, export_format="hledger")
    chunks = list(export.chunks)

    assert len(chunks) > 3 and "".join(chunks) == whole
    assert export.filename == "journal-alpha-bakery-start-to-end.journal"
    assert export.content_type == "text/plain; charset=utf-8"


@pytest.mark.parametrize("export_format", ["hledger", "beancount"])
def test_an_account_first_used_while_the_export_streams_is_declared_before_its_entry(
    export_format, books, company_a, tmp_path
):
    # The chart is read when the export starts; the lines only as it streams. An entry posted in between may
    # use an account the export has not declared yet.
    export = journal_export(company=company_a, export_format=export_format)
    fees = AccountFactory(company=company_a, code="6300", name="Bank Fees", type=AccountType.EXPENSE)
    journal_entry_create(company=company_a, date=d("2025-01-20"), memo="Fee", post=True, lines=[
        (fees, Decimal("2.50"), Decimal("0")), (books.accounts["1000"], Decimal("0"), Decimal("2.50"))])

    text = "".join(export.chunks)

    path = _write(tmp_path, f"late.{export_format}", text)
    if export_format == "hledger":
        checked = _run(_hledger(), "--strict", "-f", str(path), "check")
        assert "account Expenses:6300-Bank-Fees  ; type: X" in text
    else:
        checked = _run(_bean_check(), str(path))
        assert "2025-01-20 open Expenses:6300-Bank-Fees USD" in text
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert text.count("Expenses:6300-Bank-Fees") == 2  # declared once, used once


def test_an_unknown_format_or_a_reversed_period_is_refused_before_anything_is_sent(company_a):
    with pytest.raises(LedgerInvalid, match=r"Unknown export format 'xlsx': use one of csv, hledger, beancount\."):
        journal_export(company=company_a, export_format="xlsx")
    with pytest.raises(LedgerInvalid, match="date_from 2025-02-02 is after date_to 2025-02-01"):
        journal_export(company=company_a, export_format="csv", date_from=d("2025-02-02"), date_to=d("2025-02-01"))
    assert not AuditEvent.objects.filter(action="export.journal").exists()


def test_an_empty_journal_is_still_a_valid_file_for_both_tools(company_a, tmp_path):
    journal = _write(tmp_path, "empty.journal", _export(company_a, "hledger"))
    ledger = _write(tmp_path, "empty.beancount", _export(company_a, "beancount"))

    assert _run(_hledger(), "-f", str(journal), "check").returncode == 0
    assert _run(_bean_check(), str(ledger)).returncode == 0
    assert _export(company_a, "csv").splitlines() == [",".join(exports.CSV_HEADER)]


# ---------------------------------------------------------------------------------------------- API


@pytest.mark.parametrize(("export_format", "content_type", "extension"), [
    ("csv", "text/csv; charset=utf-8", "csv"),
    ("hledger", "text/plain; charset=utf-8", "journal"),
    ("beancount", "text/plain; charset=utf-8", "beancount"),
])
def test_export_api_streams_an_attachment(export_format, content_type, extension, books, accountant_a,
                                          token_client_for):
    response = token_client_for(accountant_a).get(
        f"/api/ledger/export?company=alpha-bakery&format={export_format}&date_from=2025-01-01&date_to=2025-03-31")

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="journal-alpha-bakery-2025-01-01-to-2025-03-31.{extension}"')
    body = b"".join(response.streaming_content).decode()
    assert "Duplicate charge" in body and "Proposed rent" not in body and "BETA SECRET SALE" not in body
    event = AuditEvent.objects.get(action="export.journal")
    assert (event.actor, event.company_id, event.after) == (
        accountant_a, books.accounts["1000"].company_id,
        {"format": export_format, "date_from": "2025-01-01", "date_to": "2025-03-31"})


def test_export_api_defaults_to_csv_and_ignores_the_accept_header(books, accountant_a, token_client_for):
    response = token_client_for(accountant_a).get("/api/ledger/export?company=alpha-bakery",
                                                  HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(response.streaming_content).decode().startswith("entry_id,date,status,kind,memo,")


@pytest.mark.parametrize(("query", "field"), [
    ("company=alpha-bakery&format=xlsx", "format"),
    ("company=alpha-bakery&date_from=2025-02-30", "date_from"),
    ("format=csv", "company"),
])
def test_export_api_malformed_queries_are_400s_naming_the_field(query, field, accountant_a, token_client_for):
    response = token_client_for(accountant_a).get(f"/api/ledger/export?{query}")

    assert response.status_code == 400
    assert (response.json()["code"], list(response.json()["extra"]["fields"])) == ("invalid", [field])
    assert not AuditEvent.objects.filter(action="export.journal").exists()


def test_export_api_reversed_period_is_a_400(accountant_a, token_client_for):
    response = token_client_for(accountant_a).get(
        "/api/ledger/export?company=alpha-bakery&date_from=2025-03-01&date_to=2025-02-01")

    assert response.status_code == 400 and response.json()["code"] == "ledger_invalid"


def test_export_api_of_another_company_is_a_404_and_leaks_nothing(books, outsider, token_client_for):
    response = token_client_for(outsider).get("/api/ledger/export?company=alpha-bakery&format=beancount")

    assert response.status_code == 404 and not response.streaming
    assert b"Checking" not in response.content
    assert not AuditEvent.objects.filter(action="export.journal").exists()


def test_the_page_session_may_download_the_export(books, accountant_a, client):
    client.force_login(accountant_a)

    response = client.get("/api/ledger/export?company=alpha-bakery&format=hledger&date_to=2025-03-31")

    assert response.status_code == 200
    assert "Assets:Bank:1000-Checking" in b"".join(response.streaming_content).decode()


# ---------------------------------------------------------------------------------------------- the setting


@pytest.mark.parametrize(("value", "accepted"), [("EUR", True), ("usd", False), ("US$", False), ("EURO", False)])
def test_ledger_currency_must_be_a_currency_code_at_startup(value, accepted):
    started = subprocess.run(
        [sys.executable, "-c", "import ledger_site.settings as s; print(s.LEDGER_CURRENCY)"],
        capture_output=True, text=True, timeout=60, check=False, cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "LEDGER_CURRENCY": value, "SECRET_KEY": "x", "DEBUG": "1"},
    )

    assert (started.returncode == 0) == accepted, started.stderr
    if accepted:
        assert started.stdout.strip() == value
    else:
        assert f"LEDGER_CURRENCY={value!r} is not a currency code: use 3 capital letters, e.g. USD." in started.stderr
