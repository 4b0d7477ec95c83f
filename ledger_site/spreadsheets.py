"""What goes into a CSV someone will open in a spreadsheet."""

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """Neutralize spreadsheet formula injection in a TEXT cell: prefix a quote. Amounts are written as numbers
    and never pass through here (a negative amount must stay a number)."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
