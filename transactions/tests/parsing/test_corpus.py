"""Every file in corpus/ parsed and compared with its hand-checked <name>.expected.json."""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
from pathlib import Path

import pytest

from transactions.parsing import FileRejected, detect_layout, iter_rows, layout_with_mapping

from .helpers import error_dicts, row_dict, split_results

CORPUS = Path(__file__).parent / "corpus"
GENERATOR = CORPUS / "make_binary_files.py"


def corpus_files() -> list[Path]:
    """Data files of the corpus (everything but expectations, the generator and dotfiles)."""
    return sorted(
        path
        for path in CORPUS.iterdir()
        if not path.name.endswith((".expected.json", ".md")) and path != GENERATOR and not path.name.startswith(".")
    )


def expected_for(path: Path) -> dict:
    """The expectation file next to a corpus file."""
    return json.loads(path.with_name(path.name + ".expected.json").read_text(encoding="utf-8"))


def test_corpus_is_large_and_fully_described() -> None:
    files = corpus_files()
    assert len(files) >= 25
    for path in files:
        assert path.with_name(path.name + ".expected.json").exists(), f"{path.name} has no expected JSON"
    described = {path.name.removesuffix(".expected.json") for path in CORPUS.glob("*.expected.json")}
    assert described == {path.name for path in files}


def test_generated_files_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("make_binary_files", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, data in module.binary_files().items():
        assert (CORPUS / name).read_bytes() == data, f"{name} is stale: run {GENERATOR.name}"


@pytest.mark.parametrize("path", corpus_files(), ids=lambda path: path.name)
def test_corpus_file(path: Path) -> None:
    expected = expected_for(path)
    stream = io.BytesIO(path.read_bytes())
    if "rejected" in expected:
        with pytest.raises(FileRejected) as caught:
            detect_layout(stream, filename=path.name)
        assert {"code": caught.value.code, "message": caught.value.message} == expected["rejected"]
        return
    layout = detect_layout(stream, filename=path.name)
    actual_layout = {key: value for key, value in layout.to_dict().items() if key in expected["layout"]}
    assert actual_layout == expected["layout"]
    if "choose_date_format" in expected:
        assert layout.is_ambiguous
        mapping = dataclasses.replace(layout.mapping, date_format=expected["choose_date_format"])
        layout = layout_with_mapping(layout, mapping)
    else:
        assert not layout.is_ambiguous
    results = list(iter_rows(stream, layout))
    assert [item.line for item in results] == sorted(item.line for item in results), "results not in file order"
    rows, errors = split_results(results)
    assert [row_dict(row) for row in rows] == expected["rows"]
    assert error_dicts(errors) == expected["errors"]
