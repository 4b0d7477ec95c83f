"""Whole-file rejections: judged by content (never by file name), each with a clear message and code."""

from __future__ import annotations

import io
import pickle

import pytest

from transactions.parsing import FileRejected, detect_layout


def rejection(data: bytes, filename: str = "statement.csv") -> FileRejected:
    """The FileRejected raised for data."""
    with pytest.raises(FileRejected) as caught:
        detect_layout(io.BytesIO(data), filename=filename)
    return caught.value


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "empty", "empty"),
        (b"   \r\n\r\n  \n", "empty", "empty"),
        ("\ufeff".encode("utf-8"), "empty", "empty"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00[Content_Types].xml", "spreadsheet", "Excel spreadsheet (.xlsx)"),
        (b"PK\x03\x04\x14\x00mimetypeapplication/vnd.oasis.opendocument.spreadsheet", "spreadsheet", ".ods"),
        (b"PK\x03\x04\x14\x00\x00\x00statement.csv", "binary", "zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "spreadsheet", "old Excel spreadsheet (.xls)"),
        (b"\x89PNG\r\n\x1a\n" + bytes(50), "binary", "PNG image"),
        (b"\xff\xd8\xff\xe0" + bytes(50), "binary", "JPEG image"),
        (b"GIF89a" + bytes(50), "binary", "GIF image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "binary", "PDF"),
        (b"\x1f\x8b\x08\x00" + bytes(50), "binary", "gzip"),
        (bytes(range(256)) * 8, "binary", "binary file"),
        (b"<!DOCTYPE html><html><body><table></table></body></html>", "spreadsheet", "web page (HTML)"),
        (b"Date,Description,Amount\r\n", "header_only", "no transactions"),
        (b"Date,Description,Amount\n\n\nTotal,,0.00\n", "header_only", "no transactions"),
        (b"Hello,World\nThis is,not a statement\n", "no_header", "header row"),
        (b"Date,Description\n2024-01-01,Coffee\n", "no_amount_column", "no amount, debit or credit column"),
        (b"Description,Amount\nCoffee,-3.00\n", "no_date_column", "no date column"),
        (b"Date,Amount\nsoon,1.00\nlater,2.00\n", "no_date_column", "'Date' does not contain dates"),
        (b"Date,Amount\n2024-01-01,lots\n2024-01-02,more\n", "no_amount_column", "'Amount' does not contain amounts"),
    ],
)
def test_rejected_with_code_and_message(data: bytes, code: str, words: str) -> None:
    error = rejection(data)
    assert error.code == code
    assert words in error.message
    assert str(error) == error.message


def test_xlsx_message_tells_the_user_what_to_do() -> None:
    error = rejection(b"PK\x03\x04\x14\x00\x00\x00xl/workbook.xml")
    assert error.message == "This looks like an Excel spreadsheet (.xlsx); export it from Excel as CSV and upload that."


def test_content_decides_not_the_file_name() -> None:
    # A real CSV named .xlsx is accepted; a PNG named .csv is rejected.
    layout = detect_layout(io.BytesIO(b"Date,Amount\n2024-01-01,1.00\n"), filename="export.xlsx")
    assert layout.kind == "csv"
    assert rejection(b"\x89PNG\r\n\x1a\n" + bytes(50), filename="statement.csv").code == "binary"


def test_ofx_without_transactions_is_header_only() -> None:
    data = b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
    data += b"COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>"
    data += b"<CURDEF>USD<BANKTRANLIST></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    assert rejection(data).code == "header_only"


def test_broken_ofx_reports_ofxtools_message_briefly() -> None:
    data = b"OFXHEADER:100\n\n<OFX><STMTTRN><TRNAMT>1.00</TRNAMT> junk<FITID>1</STMTTRN></OFX>"
    error = rejection(data)
    assert error.code == "bad_ofx"
    assert error.message.startswith("This OFX file could not be read: Tail text 'junk'")
    assert "\n" not in error.message


def test_ofx_without_ofx_element_is_bad_ofx() -> None:
    assert rejection(b"OFXHEADER:100\nDATA:OFXSGML\n\nnothing here\n").code == "bad_ofx"


def test_text_in_an_unknown_encoding_is_not_silently_misread() -> None:
    # Valid UTF-8 at the start, then a stray Latin-1 byte after the sniffed sample: refuse, never mojibake.
    head = "Date,Description,Amount\n2024-01-01,Café,1.00\n".encode()
    filler = b"2024-01-02,Coffee,2.00\n" * 20000
    error = rejection(head + filler + b"2024-01-03,Caf\xe9,3.00\n")
    assert error.code == "encoding"


def test_ascii_sample_with_later_latin1_byte_falls_back_to_cp1252() -> None:
    filler = b"2024-01-02,Coffee,2.00\n" * 20000
    data = b"Date,Description,Amount\n" + filler + b"2024-01-03,Caf\xe9,3.00\n"
    layout = detect_layout(io.BytesIO(data))
    assert layout.encoding == "cp1252"


def test_file_rejected_carries_message_and_code() -> None:
    error = FileRejected("The file is empty.", "empty")
    assert (error.message, error.code, str(error)) == ("The file is empty.", "empty", "The file is empty.")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.code) == ("The file is empty.", "empty")
