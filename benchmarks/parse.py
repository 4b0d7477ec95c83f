"""Timing script (not a test): rows/s of detect_layout and iter_rows on a plain comma CSV with ISO dates.

Run from the repository root:  .venv/bin/python -m benchmarks.parse [rows]
"""

from __future__ import annotations

import datetime
import io
import random
import sys
import time
from decimal import Decimal

from transactions.parsing import ParsedRow, detect_layout, iter_rows


def make_csv(rows: int) -> bytes:
    """A Date,Description,Amount,Balance file with a few hundred rows a day."""
    rng = random.Random(1)
    start = datetime.date(2020, 1, 1)
    lines = ["Date,Description,Amount,Balance"]
    for number in range(rows):
        day = start + datetime.timedelta(days=number // 300)
        amount = Decimal(rng.randint(-99_999, 99_999)).scaleb(-2)
        balance = Decimal(rng.randint(0, 9_999_999)).scaleb(-2)
        lines.append(f"{day.isoformat()},Payment to shop {number % 977},{amount},{balance}")
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    """Print wall-clock and CPU rows/s (CPU time is the fairer number on a shared machine)."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    stream = io.BytesIO(make_csv(rows))
    wall, cpu = time.perf_counter(), time.process_time()
    layout = detect_layout(stream)
    detect_wall, detect_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    parsed = sum(1 for item in iter_rows(stream, layout) if type(item) is ParsedRow)
    rows_wall, rows_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{len(stream.getvalue()) / 1e6:.1f} MB, {parsed:,} rows")
    print(f"detect_layout: {rows / detect_wall:,.0f} rows/s wall, {rows / detect_cpu:,.0f} rows/s CPU")
    print(f"iter_rows:     {parsed / rows_wall:,.0f} rows/s wall, {parsed / rows_cpu:,.0f} rows/s CPU")


if __name__ == "__main__":
    main()
