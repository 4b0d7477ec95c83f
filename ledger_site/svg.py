"""Small pieces every inline-SVG chart needs (mlmodels.charts, decisions.charts): escaping and number text."""
from __future__ import annotations

from html import escape
from typing import Any


def svg_text(value: Any) -> str:
    """Data as SVG text or attribute content: always escaped (quotes too)."""
    return escape(str(value), quote=True)


def svg_number(value: float) -> str:
    """Coordinates without float noise: 12.0 -> "12", 12.345 -> "12.35"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def percent_text(share: float | None, digits: int = 0) -> str:
    return "—" if share is None else f"{share * 100:.{digits}f}%"
