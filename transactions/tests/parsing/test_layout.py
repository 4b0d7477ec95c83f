"""Layout / ColumnMapping: serialisation, validation, fingerprints, user corrections."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path

import pytest

from transactions.parsing import ColumnMapping, Layout, detect_layout, layout_with_mapping

CORPUS = Path(__file__).parent / "corpus"


def csv_layout() -> Layout:
    """A detected layout of a small CSV."""
    return detect_layout(io.BytesIO(b"Date,Description,Debit,Credit\n13/01/2024,a,1.00,\n"))


@pytest.mark.parametrize(
    "name", ["chase_checking.csv", "german_sparkasse.csv", "ofx_sgml_v1.ofx", "ambiguous_dates.csv"]
)
def test_to_dict_from_dict_round_trip_through_json(name: str) -> None:
    layout = detect_layout(io.BytesIO((CORPUS / name).read_bytes()))
    data = json.loads(json.dumps(layout.to_dict()))
    assert Layout.from_dict(data) == layout


def test_is_ambiguous() -> None:
    layout = detect_layout(io.BytesIO((CORPUS / "ambiguous_dates.csv").read_bytes()))
    assert layout.is_ambiguous
    assert layout.date_format_candidates == ("%m/%d/%Y", "%d/%m/%Y")
    assert layout.mapping.date_format == "%m/%d/%Y"
    assert not csv_layout().is_ambiguous


def valid_dict() -> dict:
    """A valid serialised layout to break in tests."""
    return csv_layout().to_dict()


def broken(**changes: object) -> dict:
    """valid_dict() with some keys replaced (None value in mapping_changes removes nothing)."""
    data = valid_dict()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not a dict", "layout must be an object, not str"),
        ({"kind": "csv"}, "layout is missing keys: date_format_candidates, delimiter, encoding, fingerprint"),
        (broken(extra=1), "layout has unknown keys: extra"),
        (broken(kind="xlsx"), "kind must be one of csv, ofx, not 'xlsx'"),
        (broken(encoding="klingon"), "encoding 'klingon' is not a known text encoding"),
        (broken(encoding="base64"), "encoding 'base64' is not a text encoding"),
        (broken(delimiter=":"), "delimiter must be one of (',', ';', '\\t', '|'), not ':'"),
        (broken(header_line=-1), "header_line must be an integer >= 0, not -1"),
        (broken(header_line="1"), "header_line must be an integer >= 0, not '1'"),
        (broken(header=[1, 2]), "header must be a list of strings"),
        (broken(fingerprint="abc"), "fingerprint must be a 64-character lower-case sha256 hex string"),
        (broken(fingerprint="0" * 64), "fingerprint does not match the header and delimiter"),
        (broken(mapping=None), "a csv layout needs a column mapping"),
        (broken(date_format_candidates=["%Y"]), "date_format '%Y' does not contain a full date (day, month and year)"),
        (broken(header=["Date", "Description", "Debit"]), "mapping uses column 3 but the header has only 3 columns"),
    ],
)
def test_from_dict_rejects_bad_input_precisely(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Layout.from_dict(data)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mapping_changes", "message"),
    [
        ({"date": None}, "mapping.date is required"),
        ({"amount": 2}, "mapping has both an amount column and debit/credit columns"),
        ({"debit": None, "credit": None}, "mapping needs an amount column, or a debit and/or credit column"),
        ({"debit": -1}, "mapping.debit must be a column index (an integer >= 0) or null, not -1"),
        ({"debit": True}, "mapping.debit must be a column index"),
        ({"credit": 0}, "column 0 is mapped to both date and credit"),
        ({"direction": 1}, "mapping.direction (a CR/DR column) only makes sense together with mapping.amount"),
        ({"date_format": "no percent"}, "date_format must be a strptime pattern"),
        ({"date_format": "%Q"}, "is not a valid strptime pattern"),
        ({"decimal_comma": "yes"}, "mapping.decimal_comma must be true or false"),
        ({"colour": "red"}, "mapping has unknown keys: colour"),
    ],
)
def test_mapping_validation(mapping_changes: dict, message: str) -> None:
    data = valid_dict()
    data["mapping"].update(mapping_changes)
    with pytest.raises(ValueError, match=re.escape(message)):
        Layout.from_dict(data)


def test_mapping_without_date_key() -> None:
    with pytest.raises(ValueError, match="mapping.date is required"):
        ColumnMapping.from_dict({"amount": 1})


def test_ofx_layout_shape_is_checked() -> None:
    layout = detect_layout(io.BytesIO((CORPUS / "ofx_sgml_v1.ofx").read_bytes())).to_dict()
    with pytest.raises(ValueError, match="an ofx layout has no delimiter"):
        Layout.from_dict({**layout, "delimiter": ","})
    with pytest.raises(ValueError, match="an ofx layout has no column mapping"):
        Layout.from_dict({**layout, "mapping": valid_dict()["mapping"]})


def test_layout_with_mapping_keeps_fingerprint_and_resolves_ambiguity() -> None:
    layout = detect_layout(io.BytesIO((CORPUS / "ambiguous_dates.csv").read_bytes()))
    corrected = layout_with_mapping(layout, dataclasses.replace(layout.mapping, date_format="%d/%m/%Y"))
    assert corrected.fingerprint == layout.fingerprint
    assert corrected.date_format_candidates == ("%d/%m/%Y",)
    assert not corrected.is_ambiguous


def test_layout_with_mapping_validates() -> None:
    layout = csv_layout()
    with pytest.raises(ValueError, match="mapping uses column 9"):
        layout_with_mapping(layout, ColumnMapping(date=0, amount=9))
    ofx = detect_layout(io.BytesIO((CORPUS / "ofx_sgml_v1.ofx").read_bytes()))
    with pytest.raises(ValueError, match="only csv layouts have a column mapping to correct, not ofx"):
        layout_with_mapping(ofx, ColumnMapping(date=0, amount=1))


def test_fingerprint_is_stable_for_one_bank_export() -> None:
    january = b"Account 1\n\nDate,Description,Amount\n2024-01-02,a,1.00\n"
    february = b"Account 1\nPeriod February\n\n DATE , description,AMOUNT\n2024-02-02,b,-2.00\n2024-02-03,c,3.00\n"
    other_bank = b"Date;Description;Amount\n2024-01-02;a;1,00\n"
    prints = [detect_layout(io.BytesIO(data)).fingerprint for data in (january, february, other_bank)]
    assert prints[0] == prints[1] != prints[2]
    assert re.fullmatch(r"[0-9a-f]{64}", prints[0])
