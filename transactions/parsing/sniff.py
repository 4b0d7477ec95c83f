"""Deciding from the first bytes what a file is and how its text is encoded."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from .models import FileRejected

_SPREADSHEET_HINT = "open it in your spreadsheet program, save it as CSV and upload that"
_NOT_A_STATEMENT = "not a bank statement; upload the CSV, OFX or QFX file your bank exports"
# (magic bytes, rejection code, message); checked against the start of the file.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "spreadsheet",
        f"This looks like an old Excel spreadsheet (.xls); {_SPREADSHEET_HINT}.",
    ),
    (b"\x89PNG\r\n\x1a\n", "binary", f"This is a PNG image, {_NOT_A_STATEMENT}."),
    (b"\xff\xd8\xff", "binary", f"This is a JPEG image, {_NOT_A_STATEMENT}."),
    (b"GIF87a", "binary", f"This is a GIF image, {_NOT_A_STATEMENT}."),
    (b"GIF89a", "binary", f"This is a GIF image, {_NOT_A_STATEMENT}."),
    (
        b"%PDF-",
        "binary",
        (
            "This is a PDF document; PDF statements cannot be imported. Download the CSV, OFX or QFX "
            "export from your bank instead."
        ),
    ),
    (b"\x1f\x8b", "binary", "This is a compressed (gzip) file; decompress it and upload the CSV inside."),
    (b"Rar!", "binary", "This is a RAR archive; extract it and upload the CSV inside."),
    (b"7z\xbc\xaf\x27\x1c", "binary", "This is a 7-Zip archive; extract it and upload the CSV inside."),
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HTML_START = re.compile(rb"\s*(?:<!doctype html|<html|<table|<\?xml[^>]*>\s*<(?:workbook|html))", re.IGNORECASE)
# Control characters that never belong in a text statement (tab, LF, CR, FF and the DOS EOF mark do).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f\x7f]")
# cp1252 characters that real statements use; anything else above ASCII is suspicious.
_PLAUSIBLE_CP1252 = re.compile(
    r"[\w\s€£¥$§°«»‹›‘’“”„–—…·•\u00a0\u00b4\u00a8\u00ad±×÷¿¡ªº©®™%&/\\.,;:!?'\"()\[\]{}<>*+=@#^~|`-]"
)


def reject_by_magic(head: bytes) -> None:
    """Raise FileRejected for images, PDFs, archives and spreadsheets, judged by content."""
    if not head.strip():
        raise FileRejected("The file is empty.", "empty")
    for magic, code, message in _MAGIC:
        if head.startswith(magic):
            raise FileRejected(message, code)
    if head.startswith(b"PK\x03\x04"):
        raise _zip_rejection(head)
    if _HTML_START.match(head):
        raise FileRejected(
            f"This looks like a web page (HTML), which some banks save with an .xls name; {_SPREADSHEET_HINT}.",
            "spreadsheet",
        )


def _zip_rejection(head: bytes) -> FileRejected:
    """Tell an Excel or OpenDocument spreadsheet from another zip archive."""
    if b"xl/" in head or b"[Content_Types].xml" in head:
        return FileRejected(
            "This looks like an Excel spreadsheet (.xlsx); export it from Excel as CSV and upload that.", "spreadsheet"
        )
    if b"opendocument.spreadsheet" in head:
        return FileRejected(f"This looks like an OpenDocument spreadsheet (.ods); {_SPREADSHEET_HINT}.", "spreadsheet")
    if b"Index/Document.iwa" in head:
        return FileRejected(f"This looks like an Apple Numbers spreadsheet; {_SPREADSHEET_HINT}.", "spreadsheet")
    return FileRejected("This is a zip archive; unzip it and upload the CSV, OFX or QFX file inside.", "binary")


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when every other byte is NUL, as in BOM-less UTF-16 text."""
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0) / len(sample[0::2])
    odd_nuls = sample[1::2].count(0) / len(sample[1::2])
    if odd_nuls > 0.4 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def decodes(data: bytes, encoding: str, final: bool) -> bool:
    """True when data decodes strictly (a cut-off last character is fine unless final)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        decoder.decode(data, final=final)
    except UnicodeDecodeError:
        return False
    return True


def _plausible_cp1252(data: bytes) -> bool:
    """True when the non-ASCII characters decoded as cp1252 are ones Western text uses."""
    text = data.decode("cp1252")
    unusual = [char for char in text if ord(char) > 127 and not _PLAUSIBLE_CP1252.fullmatch(char)]
    non_ascii = sum(ord(char) > 127 for char in text)
    return len(unusual) * 10 <= non_ascii


def sniff_encoding(head: bytes, complete: bool) -> str:
    """Python codec name for the file: BOM, then strict UTF-8, then cp1252, then charset_normalizer."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    utf16 = _utf16_without_bom(head)
    if utf16:
        return utf16
    if b"\x00" in head:
        raise FileRejected("This is a binary file, not a text bank statement (CSV, OFX or QFX).", "binary")
    if decodes(head, "utf-8", final=complete):
        return "utf-8"
    if decodes(head, "cp1252", final=True) and _plausible_cp1252(head):
        return "cp1252"
    best = from_bytes(head).best()
    if best is None:
        raise FileRejected(
            "The file's text encoding could not be recognised; save it as UTF-8 CSV and upload it again.", "encoding"
        )
    return codecs.lookup(best.encoding).name


def reject_control_characters(text: str) -> None:
    """Raise FileRejected('binary') when decoded text is full of control characters."""
    if not text:
        return
    controls = len(_CONTROL.findall(text[:65536]))
    if controls > max(2, len(text[:65536]) // 1000):
        raise FileRejected("This is a binary file, not a text bank statement (CSV, OFX or QFX).", "binary")
