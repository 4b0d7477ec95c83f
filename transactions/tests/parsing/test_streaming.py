"""Large files are streamed: bounded memory in detect_layout and iter_rows; the package stays Django-free."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

from transactions.parsing import ParsedRow, detect_layout, iter_rows

ROWS = 200_000
PEAK_LIMIT = 2 * 1024 * 1024


def write_big_statement(path: Path, rows: int) -> None:
    """A CSV (about 50 bytes a row) with a preamble, varied dates and a trailing summary."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Account 12345678\r\n\r\nDate,Description,Amount,Balance\r\n")
        for number in range(rows):
            day = 1 + number % 28
            month = 1 + (number // 28) % 12
            amount = f"-{number % 5000}.{number % 100:02d}"
            handle.write(f'{day:02d}/{month:02d}/2024,"Payment {number}, shop {number % 977}",{amount},{number}.00\r\n')
        handle.write("Total,,,\r\n")


def test_iter_rows_memory_is_bounded(tmp_path: Path) -> None:
    path, small = tmp_path / "big.csv", tmp_path / "small.csv"
    write_big_statement(path, ROWS)
    assert path.stat().st_size > 10_000_000
    # Same export, fewer rows: the same layout, without spending test time on a second full pass.
    write_big_statement(small, 1_000)
    with small.open("rb") as handle:
        layout = detect_layout(handle)
    with path.open("rb") as handle:
        tracemalloc.start()
        try:
            count, item = 0, None
            for count, item in enumerate(iter_rows(handle, layout), start=1):
                pass
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert layout.date_format_candidates == ("%d/%m/%Y",)
    assert count == ROWS
    assert isinstance(item, ParsedRow) and item.line == ROWS + 3
    assert peak < PEAK_LIMIT, f"iter_rows peak {peak} bytes"


def test_detect_layout_memory_is_bounded(tmp_path: Path) -> None:
    # Smaller than the iter_rows file because tracing the detection pass is slow; still 10x the sniffed sample.
    path = tmp_path / "big.csv"
    write_big_statement(path, ROWS // 4)
    assert path.stat().st_size > 2_500_000
    with path.open("rb") as handle:
        tracemalloc.start()
        try:
            layout = detect_layout(handle)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert layout.header_line == 3
    assert peak < path.stat().st_size / 2, f"detect_layout peak {peak} bytes"


def test_package_does_not_import_django() -> None:
    code = "import sys, transactions.parsing; print('django' in sys.modules)"
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
