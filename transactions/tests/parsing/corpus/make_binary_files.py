"""Writes the corpus files whose exact bytes matter (encodings, BOMs, line ends, binary formats).

Run `python make_binary_files.py` in this folder to regenerate them; a test checks the
committed files still equal what this script produces.
"""

from __future__ import annotations

import io
import random
import struct
import sys
import zipfile
import zlib
from pathlib import Path

FIXED_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def _sparkasse() -> bytes:
    """German Sparkasse-style export: cp1252, ';', every field quoted, DD.MM.YY, decimal comma, CRLF."""
    account = "DE12345678901234567890"
    rows = [
        ["Auftragskonto", "Buchungstag", "Valutadatum", "Buchungstext", "Verwendungszweck",
         "Beguenstigter/Zahlungspflichtiger", "Kontonummer", "BLZ", "Betrag", "Waehrung", "Info"],
        [account, "28.02.24", "28.02.24", "LASTSCHRIFT", "Stromabschlag Februar Kd-Nr. 4711",
         "Stadtwerke München GmbH", "DE98765432109876543210", "BYLADEM1001", "-85,00", "EUR", "Umsatz gebucht"],
        [account, "01.03.24", "01.03.24", "GUTSCHRIFT", "Gehalt März 2024",
         "Müller & Söhne KG", "DE11111111111111111111", "COBADEFFXXX", "2.345,67", "EUR", "Umsatz gebucht"],
        [account, "04.03.24", "04.03.24", "KARTENZAHLUNG", "Bäckerei Weiß Filiale 3",
         "Bäckerei Weiß", "", "", "-4,50", "EUR", "Umsatz gebucht"],
        [account, "15.03.24", "15.03.24", "ÜBERWEISUNG", "Miete April",
         "Hausverwaltung Groß", "DE22222222222222222222", "GENODEF1M01", "-1.150,00", "EUR", "Umsatz gebucht"],
    ]  # fmt: skip
    lines = [";".join(f'"{cell}"' for cell in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _utf16_tab(encoding: str) -> bytes:
    """Tab-separated UTF-16 with BOM, CRLF, characters outside cp1252."""
    text = (
        "Date\tDescription\tAmount\tCurrency\r\n"
        "2024-04-02\tCafé Zürich\t-6.80\tCHF\r\n"
        "2024-04-03\tSalaire avril\t5200.00\tchf\r\n"
        "2024-04-05\tŁódź transfer 東京\t-100.00\tCHF\r\n"
    )
    # The utf-16 codecs with explicit endianness write no BOM, so add the right one.
    bom = "\ufeff".encode(encoding)
    return bom + text.encode(encoding)


def _cr_only() -> bytes:
    """Old-Mac line ends (CR only), including a CR inside a quoted field."""
    return b'Date,Description,Amount\r2024-06-01,Coffee,-3.20\r2024-06-02,"Multi\rline",-1.00\r2024-06-03,Book,-12.00\r'


def _french_bom() -> bytes:
    """UTF-8 with BOM, ';', debit/credit, space / no-break / narrow no-break thousands separators."""
    text = (
        "Date opération;Libellé;Débit;Crédit\r\n"
        "13/03/2024;PRLV EDF;1 234,56;\r\n"
        "14/03/2024;VIR SALAIRE;;2\u00a0500,00\r\n"
        "15/03/2024;CB CARREFOUR;45,10;\r\n"
        "16/03/2024;VIR LOYER;3\u202f000,00;\r\n"
    )
    return text.encode("utf-8-sig")


def _cp1252_euro() -> bytes:
    """cp1252 with the euro sign (byte 0x80) after amounts."""
    text = "Date;Libellé;Montant\r\n13/03/2024;Café de la Gare;-3,50 €\r\n14/03/2024;Remboursement été;12,00 €\r\n"
    return text.encode("cp1252")


def _crlf_trailing_blank() -> bytes:
    """CRLF line ends with trailing blank lines and a blank line inside the data."""
    return (
        b"Date,Description,Amount\r\n2024-12-01,First,-1.00\r\n\r\n2024-12-02,Second,2.00\r\n\r\n\r\n"
    )


def _sloppy_ofx() -> bytes:
    """Real-world-style SGML OFX: blank lines first, incomplete header, lower-case tags, empty MEMO, cp1252."""
    text = (
        "\r\n\r\n"
        "OFXHEADER:100\r\n"
        "DATA:OFXSGML\r\n"
        "VERSION:102\r\n"
        "SECURITY:NONE\r\n"
        "ENCODING:USASCII\r\n"
        "CHARSET:8859-1\r\n"
        "\r\n"
        "<OFX>\r\n"
        "<BANKMSGSRSV1><STMTTRNRS><STMTRS>\r\n"
        "<CURDEF>EUR\r\n"
        "<BANKTRANLIST>\r\n"
        "<stmttrn>\r\n"
        "<trntype>DEBIT\r\n"
        "<dtposted>20240402\r\n"
        "<trnamt>-15,90\r\n"
        "<fitid>S-1\r\n"
        "<name>Boulangerie Éclair\r\n"
        "<memo>\r\n"
        "</stmttrn>\r\n"
        "<STMTTRN>\r\n"
        "<TRNTYPE>CREDIT\r\n"
        "<DTPOSTED>20240403000000.000[+1:CET]\r\n"
        "<TRNAMT>200.00\r\n"
        "<FITID>S-2\r\n"
        "<NAME>Virement reçu\r\n"
        "<MEMO>Loyer avril\r\n"
        "</STMTTRN>\r\n"
        "</BANKTRANLIST>\r\n"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1>\r\n"
        "</OFX>\r\n"
    )
    return text.encode("cp1252")


def _png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _zip(members: dict[str, str]) -> bytes:
    """A deterministic zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name, FIXED_ZIP_TIME), content)
    return buffer.getvalue()


def _xlsx() -> bytes:
    """The first members of an .xlsx workbook (enough to be recognised)."""
    return _zip(
        {
            "[Content_Types].xml": '<?xml version="1.0"?><Types/>',
            "xl/workbook.xml": '<?xml version="1.0"?><workbook/>',
        }
    )


def binary_files() -> dict[str, bytes]:
    """File name -> exact bytes."""
    return {
        "german_sparkasse.csv": _sparkasse(),
        "utf16le_tab.txt": _utf16_tab("utf-16-le"),
        "utf16be_tab.txt": _utf16_tab("utf-16-be"),
        "cr_only.csv": _cr_only(),
        "french_bom.csv": _french_bom(),
        "cp1252_euro.csv": _cp1252_euro(),
        "crlf_trailing_blank.csv": _crlf_trailing_blank(),
        "sloppy_sgml.ofx": _sloppy_ofx(),
        "image.png": _png(),
        "photo.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64),
        "statement.pdf": b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
        "spreadsheet.xlsx": _xlsx(),
        "legacy.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        "archive.zip": _zip({"statement.csv": "Date,Amount\n2024-01-01,1.00\n"}),
        "random.bin": random.Random(42).randbytes(4096),
        "html_export.xls": b"<html><body><table><tr><td>Date</td><td>Amount</td></tr></table></body></html>\n",
    }


def main() -> None:
    """Write the files next to this script."""
    folder = Path(__file__).resolve().parent
    for name, data in binary_files().items():
        (folder / name).write_bytes(data)
    print(f"wrote {len(binary_files())} files", file=sys.stderr)


if __name__ == "__main__":
    main()
