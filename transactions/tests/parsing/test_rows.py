"""iter_rows: row errors (line, column, message), physical line numbers, summary buffering, file handling."""

from __future__ import annotations

import dataclasses
import datetime
import io
from decimal import Decimal

from transactions.parsing import (
    ParsedRow,
    RowError,
    detect_layout,
    iter_rows,
    layout_with_mapping,
)
from transactions.parsing.rows import PENDING_LIMIT

from .helpers import parse_bytes, split_results


def test_row_errors_name_line_column_and_expectation() -> None:
    data = (
        "Date;Description;Amount\n"
        "13.01.2024;ok;-1,00\n"
        "31.02.2024;bad date;-1,00\n"
        ";no date;-1,00\n"
        "14.01.2024;bad amount;zwölf\n"
        "15.01.2024;too;many;columns\n"
        "16.01.2024;ok;2,50\n"
    ).encode()
    layout, results = parse_bytes(data)
    assert layout.mapping.decimal_comma
    assert results == [
        ParsedRow(2, datetime.date(2024, 1, 13), "ok", "", Decimal("-1.00"), None, None, None, None),
        RowError(3, "Date", "'31.02.2024' is not a date in format DD.MM.YYYY"),
        RowError(4, "Date", "the date is empty; expected a date in format DD.MM.YYYY"),
        RowError(5, "Amount", "'zwölf' is not an amount; expected a number like -1234,56"),
        RowError(6, "row", "expected 3 columns, found 4"),
        ParsedRow(7, datetime.date(2024, 1, 16), "ok", "", Decimal("2.50"), None, None, None, None),
    ]


def test_one_row_can_have_several_errors() -> None:
    _, results = parse_bytes(b"Date,Amount,Balance\n2024-01-01,1.00,5.00\n2024-13-01,x,y\n2024-01-02,1.00,6.00\n")
    assert results[1:4] == [
        RowError(3, "Date", "'2024-13-01' is not a date in format YYYY-MM-DD"),
        RowError(3, "Amount", "'x' is not an amount; expected a number like -1234.56"),
        RowError(3, "Balance", "'y' is not an amount; expected a number like -1234.56"),
    ]


def test_physical_line_numbers_count_newlines_inside_quotes() -> None:
    data = (
        b"Statement for account 42\r\n"
        b"\r\n"
        b"Date,Memo,Amount\r\n"
        b'2024-01-01,"two\r\nlines",1.00\r\n'
        b'2024-01-02,"three\nlines\rmixed",2.00\r\n'
        b"\r\n"
        b"2024-01-03,one line,3.00\r\n"
    )
    layout, results = parse_bytes(data)
    assert layout.header_line == 3
    assert [(row.line, row.description) for row in results] == [
        (4, "two\r\nlines"),
        (6, "three\nlines\rmixed"),
        (10, "one line"),
    ]


def test_error_line_after_multiline_row() -> None:
    _, results = parse_bytes(b'Date,Memo,Amount\n2024-01-01,"a\nb\nc",1.00\n2024-01-02,x,oops\n2024-01-03,y,1.00\n')
    assert results[1] == RowError(5, "Amount", "'oops' is not an amount; expected a number like -1234.56")


def test_trailing_summary_lines_are_dropped() -> None:
    data = b"Date,Description,Amount\n2024-01-01,a,1.00\n\nTotal,,1.00\nClosing balance,,99.00\n\n"
    _, results = parse_bytes(data)
    assert [type(item) for item in results] == [ParsedRow]


def test_bad_rows_followed_by_a_good_row_are_reported() -> None:
    data = b"Date,Description,Amount\n2024-01-01,a,1.00\nSubtotal,,1.00\n2024-01-02,b,2.00\nTotal,,3.00\n"
    _, results = parse_bytes(data)
    assert results[1] == RowError(3, "Date", "'Subtotal' is not a date in format YYYY-MM-DD")
    assert [type(item) for item in results] == [ParsedRow, RowError, ParsedRow]


def test_summary_buffer_is_bounded() -> None:
    bad_rows = PENDING_LIMIT + 10
    data = b"Date,Description,Amount\n2024-01-01,a,1.00\n" + b"junk,,\n" * bad_rows
    _, results = parse_bytes(data)
    rows, errors = split_results(results)
    # The first PENDING_LIMIT + 1 are reported as soon as the buffer overflows; the rest is a trailing block.
    assert len(rows) == 1
    assert sorted({error.line for error in errors}) == list(range(3, 3 + PENDING_LIMIT + 1))


def test_unclosed_quote_at_end_is_reported_not_dropped() -> None:
    data = b'Date,Description,Amount\n2024-01-01,ok,1.00\n2024-01-02,"unclosed,2.00\n2024-01-03,hidden,3.00\n'
    _, results = parse_bytes(data)
    assert results[1] == RowError(3, "row", "expected 3 columns, found 2")


def test_oversized_field_is_a_row_error_and_parsing_continues() -> None:
    data = b'Date,Description,Amount\n2024-01-01,"' + b"x" * 200_000 + b'",1.00\n2024-01-02,ok,2.00\n'
    _, results = parse_bytes(data)
    assert results[0] == RowError(2, "row", "unreadable CSV row: field larger than field limit (131072)")
    assert isinstance(results[1], ParsedRow) and results[1].line == 3


def test_debit_credit_rules() -> None:
    data = (
        b"Date,Description,Paid out,Paid in\n"
        b"2024-01-01,out positive,12.00,\n"
        b"2024-01-02,out negative,-12.00,\n"
        b"2024-01-03,in,,7.50\n"
        b"2024-01-04,neither,,\n"
        b"2024-01-05,both,1.00,2.00\n"
        b"2024-01-06,bad,abc,\n"
        b"2024-01-07,zero and in,0.00,3.00\n"
    )
    _, results = parse_bytes(data)
    assert [item.amount if isinstance(item, ParsedRow) else item for item in results] == [
        Decimal("-12.00"),
        Decimal("-12.00"),
        Decimal("7.50"),
        RowError(5, "amount", "Paid out and Paid in are both empty; expected an amount"),
        RowError(6, "amount", "both Paid out ('1.00') and Paid in ('2.00') have an amount; expected only one"),
        RowError(7, "Paid out", "'abc' is not an amount; expected a number like -1234.56"),
        Decimal("3.00"),
    ]


def test_direction_column_errors() -> None:
    data = b"Date,Amount,Type\n2024-01-01,5.00,CR\n2024-01-02,5.00,DR\n"
    layout = detect_layout(io.BytesIO(data))
    assert layout.mapping.direction == 2
    bad = b"Date,Amount,Type\n2024-01-01,5.00,XX\n2024-01-02,-5.00,CR\n2024-01-03,-5.00,DR\n2024-01-04,1,C\n"
    _, results = parse_bytes(bad, layout)
    assert results == [
        RowError(2, "Type", "'XX' is not a credit/debit indicator; expected CR or DR"),
        RowError(3, "Type", "the amount '-5.00' is negative but 'CR' says money in"),
        ParsedRow(4, datetime.date(2024, 1, 3), "", "", Decimal("-5.00"), None, None, None, None),
        ParsedRow(5, datetime.date(2024, 1, 4), "", "", Decimal(1), None, None, None, None),
    ]


def test_currency_column_values() -> None:
    data = b"Date,Amount,Currency\n2024-01-01,1.00,eur\n2024-01-02,1.00,\n"
    layout, results = parse_bytes(data)
    assert [row.currency for row in results] == ["EUR", None]
    _, results = parse_bytes(b"Date,Amount,Currency\n2024-01-01,1.00,euro\n2024-01-02,1.00,\xe2\x82\xac\n", layout)
    assert results == [
        RowError(2, "Currency", "'euro' is not a currency code; expected three letters like EUR"),
        ParsedRow(3, datetime.date(2024, 1, 2), "", "", Decimal("1.00"), "EUR", None, None, None),
    ]


def test_reference_falls_back_to_check_number() -> None:
    data = b"Date,Amount,Transaction ID,Check Number\n2024-01-01,1.00,T1,\n2024-01-02,2.00,,1001\n2024-01-03,3.00,,\n"
    _, results = parse_bytes(data)
    assert [row.reference for row in results] == ["T1", "1001", None]


def test_trailing_delimiter_and_padded_cells_are_tolerated() -> None:
    data = b"Date,Description,Amount,\n 2024-01-01 , padded ,  -1.50 ,\n2024-01-02,no trailing,2.00\n"
    layout, results = parse_bytes(data)
    assert [(row.date.day, row.description, row.amount) for row in results] == [
        (1, "padded", Decimal("-1.50")),
        (2, "no trailing", Decimal("2.00")),
    ]
    assert layout.header == ("Date", "Description", "Amount", "")


def test_balance_only_rows_are_skipped() -> None:
    data = b"Date,Description,Amount,Balance\n2024-01-01,Opening balance,,100.00\n2024-01-02,x,1.00,101.00\n"
    _, results = parse_bytes(data)
    assert [row.line for row in results] == [3]


def test_labeled_account_column() -> None:
    _, results = parse_bytes(b"Date,Amount,Account\n2024-01-01,1.00,4000 Sales\n2024-01-02,2.00,\n")
    assert [row.account for row in results] == ["4000 Sales", None]


def test_user_mapping_changes_what_is_read() -> None:
    data = b"Date,Payee,Notes,Amount\n2024-01-01,Shop,Receipt 1,-1.00\n"
    layout = detect_layout(io.BytesIO(data))
    mapping = dataclasses.replace(layout.mapping, description=1, counterparty=None)
    _, results = parse_bytes(data, layout_with_mapping(layout, mapping))
    assert (results[0].description, results[0].counterparty) == ("Shop", "")


def test_ofx_row_errors_and_ordinal_fallback() -> None:
    data = (
        b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
        b"COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>usd\n"
        b"<BANKTRANLIST>\n<STMTTRN><DTPOSTED>2024<TRNAMT>1.00<FITID>A</STMTTRN>\n"
        b"<STMTTRN><DTPOSTED>20240102<TRNAMT>abc<FITID>B</STMTTRN>\n"
        b"<STMTTRN><DTPOSTED>20240103<TRNAMT>-2,50<CHECKNUM>77</STMTTRN>\n"
        b"</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )
    _, results = parse_bytes(data)
    assert results == [
        RowError(13, "DTPOSTED", "'2024' is not an OFX date; expected YYYYMMDD such as 20240315"),
        RowError(14, "TRNAMT", "'abc' is not an amount; expected a number like -12.34"),
        ParsedRow(15, datetime.date(2024, 1, 3), "", "", Decimal("-2.50"), "USD", None, "77", None),
    ]


def test_works_on_real_files_and_leaves_them_open(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "statement.csv"
    path.write_bytes(b"Date,Amount\n2024-01-01,1.00\n")
    with path.open("rb") as handle:
        handle.read(5)
        layout = detect_layout(handle)
        assert handle.tell() == 0
        assert len(list(iter_rows(handle, layout))) == 1
        assert not handle.closed
        assert len(list(iter_rows(handle, layout))) == 1  # iter_rows starts from the beginning again


class MinimalUpload:
    """Only read/seek/tell, like many upload wrappers."""

    def __init__(self, data: bytes):
        self._stream = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()


def test_works_with_a_minimal_file_like_object() -> None:
    upload = MinimalUpload("Datum;Betrag\n01.02.2024;-1,50\n".encode("utf-16"))
    layout = detect_layout(upload)  # type: ignore[arg-type]
    assert [row.amount for row in iter_rows(upload, layout)] == [Decimal("-1.50")]  # type: ignore[arg-type]


def test_iter_rows_is_lazy() -> None:
    layout = detect_layout(io.BytesIO(b"Date,Amount\n2024-01-01,1.00\n"))
    iter_rows(io.BytesIO(b"not read until iterated"), layout)  # no error: nothing is read yet
    iter_rows(io.BytesIO(b""), dataclasses.replace(layout, kind="ofx", mapping=None))
