"""Small bank files for job tests, written with fixed data."""
from __future__ import annotations

import datetime
import io
from decimal import Decimal

VENDORS = ("STAPLES 00123", "SQ *HAMILTON COFFEE #1123", "COMCAST CABLE", "AMZN MKTP US*2K4LL0", "STRIPE PAYOUT")


def bank_csv(rows: int, *, start: datetime.date = datetime.date(2025, 1, 1), header: bool = True) -> bytes:
    """A plain bank export with `rows` distinct transactions (line i+2 holds row i)."""
    out = io.StringIO()
    if header:
        out.write("Date,Description,Amount\n")
    for i in range(rows):
        day = start + datetime.timedelta(days=i // 50)
        amount = Decimal(-(100 + i % 9000)) / 100 if i % 7 else Decimal(5000 + i % 300)
        out.write(f"{day.isoformat()},{VENDORS[i % len(VENDORS)]} REF{i},{amount}\n")
    return out.getvalue().encode()
