"""Inline SVG charts of a model version's held-out metrics: a confusion-matrix heatmap, a reliability curve and a
precision/coverage-by-threshold curve.

Pure functions, no Django: a metrics fragment (see `mlmodels.metrics.classification_metrics`) goes in, SVG markup
comes out. Every piece of text that comes from data (account codes and names) goes through `_text`, which
escapes it, so the caller may mark the result safe. The markup uses presentation attributes (`fill`, `x`...) and
classes only: the site's CSP forbids `style` attributes. Each SVG is drawn at its natural size (1 unit = 1 CSS
pixel) and scales down with `max-width: 100%` on narrow screens.

Missing or empty metrics (no held-out rows, empty calibration bins, undefined precision) never divide by zero:
they are drawn as gaps or as a short "nothing to show" message.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger_site.svg import percent_text as _percent
from ledger_site.svg import svg_number as _number
from ledger_site.svg import svg_text as _text

__all__ = [
    "PRECISION_TARGET",
    "Frame",
    "confusion_heatmap",
    "coverage_chart",
    "coverage_frames",
    "heatmap_layout",
    "reliability_chart",
    "reliability_frame",
    "shade",
]

PRECISION_TARGET = 0.99  # the precision auto-approval aims at: drawn as a line on the coverage chart

# Colours: the app's ink and muted greys; blue for right answers, red for mistakes (both pass contrast checks
# with the text colour chosen for them in `_cell_text_colour`).
INK = "#1d2330"
MUTED = "#5b6475"
GRID = "#e4e7ec"
AXIS = "#98a2b3"
EMPTY_CELL = "#f9fafb"
BLUE = "#1f5fbf"
GREEN = "#067647"
RED = "#b42318"
_RAMPS = {
    "right": ((0xEE, 0xF4, 0xFF), (0x0E, 0x2F, 0x78)),  # pale blue -> navy
    "wrong": ((0xFF, 0xF1, 0xEE), (0x8A, 0x16, 0x0C)),  # pale red -> dark red
}


# --------------------------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Frame:
    """A plot area in SVG units and the data ranges it shows; `x()`/`y()` map data values to coordinates."""

    left: float
    top: float
    width: float
    height: float
    x_min: float = 0.0
    x_max: float = 1.0
    y_min: float = 0.0
    y_max: float = 1.0

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def x(self, value: float) -> float:
        span = self.x_max - self.x_min or 1.0
        return round(self.left + (value - self.x_min) / span * self.width, 2)

    def y(self, value: float) -> float:
        span = self.y_max - self.y_min or 1.0
        return round(self.top + (self.y_max - value) / span * self.height, 2)


def _float(value: Any) -> float | None:
    """A number from JSON, or None (missing, null, not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def _svg(*, width: float, height: float, title: str, description: str, body: Iterable[str], css: str) -> str:
    """The <svg> element: accessible name and description, natural size, the chart's class."""
    ident = css.replace(" ", "-")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" role="img" '
        f'width="{_number(width)}" height="{_number(height)}" viewBox="0 0 {_number(width)} {_number(height)}" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="system-ui, -apple-system, Segoe UI, sans-serif">'
        f'<title id="{ident}-title">{_text(title)}</title><desc id="{ident}-desc">{_text(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _label(x: float, y: float, text: str, *, size: float = 12, anchor: str = "start", colour: str = INK,
           weight: str = "normal", css: str = "", extra: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    bold = f' font-weight="{weight}"' if weight != "normal" else ""
    return (f'<text x="{_number(x)}" y="{_number(y)}" font-size="{_number(size)}" text-anchor="{anchor}" '
            f'fill="{colour}"{bold}{klass}{extra}>{_text(text)}</text>')


def _line(x1: float, y1: float, x2: float, y2: float, *, colour: str = AXIS, width: float = 1,
          dash: str = "", css: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    klass = f' class="{css}"' if css else ""
    return (f'<line x1="{_number(x1)}" y1="{_number(y1)}" x2="{_number(x2)}" y2="{_number(y2)}" '
            f'stroke="{colour}" stroke-width="{_number(width)}"{dashed}{klass}/>')


def _heading(title: str, subtitle: str) -> list[str]:
    return [_label(0, 16, title, size=15, weight="600", css="chart-heading"),
            _label(0, 34, subtitle, size=12, colour=MUTED, css="chart-subtitle")]


def _empty(*, width: float, height: float, title: str, message: str, css: str) -> str:
    body = _heading(title, "") + [
        f'<rect x="0.5" y="44.5" width="{_number(width - 1)}" height="{_number(height - 45)}" fill="{EMPTY_CELL}" '
        f'stroke="{GRID}"/>',
        _label(width / 2, 44 + (height - 44) / 2, message, size=13, anchor="middle", colour=MUTED, css="chart-empty"),
    ]
    return _svg(width=width, height=height, title=title, description=message, body=body, css=css)


def _ticks(low: float, high: float, step: float) -> list[float]:
    count = int(round((high - low) / step))
    return [round(low + i * step, 4) for i in range(count + 1)]


# ------------------------------------------------------------------------------------- confusion matrix


def shade(share: float, *, correct: bool) -> str:
    """The fill of a heatmap cell: `share` (0..1) of the true account's rows, blue on the diagonal, red off it."""
    if share <= 0:
        return EMPTY_CELL
    start, end = _RAMPS["right" if correct else "wrong"]
    # Even a small share must be visible against an empty cell: the ramp starts at 12 %.
    t = 0.12 + 0.88 * min(share, 1.0)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(start, end))


def _cell_text_colour(share: float) -> str:
    return "#ffffff" if share >= 0.55 else INK


@dataclass(frozen=True)
class HeatmapLayout:
    cell: float  # side of one cell
    left: float  # grid's left edge (row labels to its left)
    top: float  # grid's top edge
    show_counts: bool


def heatmap_layout(count: int) -> HeatmapLayout:
    """Cells as large as fit a ~620-unit grid (12 to 40 units); counts printed when a cell can hold them."""
    cell = float(max(12, min(40, 620 // max(count, 1))))
    return HeatmapLayout(cell=cell, left=84, top=56, show_counts=cell >= 18)


def confusion_heatmap(confusion: Mapping[str, Any] | None, *, names: Mapping[str, str] | None = None) -> str:
    """The confusion matrix as a heatmap: rows are true accounts, columns predicted ones, each cell shaded by its
    share of the row (the true account's held-out rows); counts printed in the cells when there is room."""
    title = "Confusion matrix"
    labels = [str(label) for label in (confusion or {}).get("labels") or []]
    matrix = (confusion or {}).get("matrix") or []
    if not labels:
        return _empty(width=640, height=160, title=title, message="No held-out rows: nothing to show.",
                      css="confusion-chart")
    names = names or {}
    n = len(labels)
    rows = [[int(value or 0) for value in (list(matrix[i]) if i < len(matrix) else [])[:n]] for i in range(n)]
    rows = [row + [0] * (n - len(row)) for row in rows]
    totals = [sum(row) for row in rows]
    layout = heatmap_layout(n)
    cell, left, top = layout.cell, layout.left, layout.top
    grid = cell * n
    font = 10 if cell < 26 else 11
    label_font = 11 if cell >= 14 else 9

    body = _heading(title, "Rows: true account · columns: predicted account · shade: share of the row")
    body.append('<g class="cells">')
    for i, (row, total) in enumerate(zip(rows, totals)):
        for j, count in enumerate(row):
            share = count / total if total else 0.0
            x, y = left + j * cell, top + i * cell
            tooltip = (f"True {_named(labels[i], names)} → predicted {_named(labels[j], names)}: "
                       f"{count} of {total} rows ({_percent(share if total else None)})")
            body.append(
                f'<rect class="cell{" diagonal" if i == j else ""}" x="{_number(x)}" y="{_number(y)}" '
                f'width="{_number(cell)}" height="{_number(cell)}" fill="{shade(share, correct=i == j)}" '
                f'stroke="#ffffff" stroke-width="1" data-count="{count}"><title>{_text(tooltip)}</title></rect>'
            )
            if layout.show_counts and count and len(str(count)) * font * 0.62 <= cell - 3:
                body.append(_label(x + cell / 2, y + cell / 2 + font * 0.36, str(count), size=font, anchor="middle",
                                   colour=_cell_text_colour(share), css="cell-count"))
    body.append("</g>")
    body.append(f'<rect x="{_number(left)}" y="{_number(top)}" width="{_number(grid)}" height="{_number(grid)}" '
                 f'fill="none" stroke="{AXIS}"/>')

    # Axis labels: codes left of the rows and under the columns (vertical), then the axis titles.
    longest = max(len(label) for label in labels)
    for index, label in enumerate(labels):
        middle = index * cell + cell / 2
        body.append(_label(left - 6, top + middle + label_font * 0.36, label, size=label_font, anchor="end",
                           css="axis-label row-label"))
        x, y = left + middle + label_font * 0.36, top + grid + 6
        body.append(_label(x, y, label, size=label_font, anchor="end", css="axis-label column-label",
                           extra=f' transform="rotate(-90 {_number(x)} {_number(y)})"'))
    label_depth = longest * label_font * 0.62 + 10
    body.append(_label(left + grid / 2, top + grid + label_depth + 16, "Predicted account", size=12,
                       anchor="middle", weight="600", css="axis-title"))
    row_title_x, row_title_y = 14, top + grid / 2
    body.append(_label(row_title_x, row_title_y, "True account", size=12, anchor="middle", weight="600",
                       css="axis-title",
                       extra=f' transform="rotate(-90 {_number(row_title_x)} {_number(row_title_y)})"'))

    # Row totals to the right of the grid, then the legend.
    totals_x = left + grid + 8
    body.append(_label(totals_x, top - 6, "rows", size=10, colour=MUTED))
    for i, total in enumerate(totals):
        body.append(_label(totals_x, top + i * cell + cell / 2 + label_font * 0.36, str(total),
                           size=label_font, colour=MUTED, css="row-total"))
    legend_x = totals_x + 44
    legend, legend_bottom = _heatmap_legend(legend_x, top)
    body.extend(legend)

    width = legend_x + 240
    height = max(top + grid + label_depth + 26, legend_bottom + 8)
    description = (f"Confusion matrix of {n} accounts on {sum(totals)} held-out rows; rows are true accounts, "
                   f"columns predicted accounts.")
    return _svg(width=width, height=height, title=title, description=description, body=body,
                css="confusion-chart")


def _named(code: str, names: Mapping[str, str]) -> str:
    name = names.get(code)
    return f"{code} {name}" if name else code


def _heatmap_legend(x: float, y: float) -> tuple[list[str], float]:
    """Swatches of both ramps at 0-100 % and the reading instructions; returns (markup, bottom edge)."""
    body = ['<g class="legend">', _label(x, y + 10, "Share of the true account's rows", size=11, weight="600")]
    swatch, steps = 22, (0.1, 0.25, 0.5, 0.75, 1.0)
    for row, (correct, caption) in enumerate(((True, "Correct (diagonal)"), (False, "Mistakes"))):
        top = y + 22 + row * 50
        body.append(_label(x, top + 10, caption, size=11, colour=INK))
        for k, share in enumerate(steps):
            body.append(f'<rect x="{_number(x + k * (swatch + 4))}" y="{_number(top + 16)}" width="{swatch}" '
                        f'height="{swatch - 8}" fill="{shade(share, correct=correct)}" stroke="{GRID}"/>')
        for k, share in ((0, steps[0]), (len(steps) - 1, steps[-1])):
            body.append(_label(x + k * (swatch + 4) + swatch / 2, top + 43, _percent(share), size=10,
                               anchor="middle", colour=MUTED))
    notes = ("Rows: true (confirmed) account.", "Columns: the model's top-1 account.",
             "A dark diagonal is good; red cells", "show which accounts get confused.",
             "Hover a cell for its numbers.")
    for k, note in enumerate(notes):
        body.append(_label(x, y + 138 + k * 15, note, size=10.5, colour=MUTED))
    body.append("</g>")
    return body, y + 138 + len(notes) * 15


# -------------------------------------------------------------------------------------------- reliability

_RELIABILITY_WIDTH, _RELIABILITY_HEIGHT = 470, 530


def reliability_frame() -> Frame:
    """Where the reliability plot sits: mean confidence (x) and accuracy (y), both 0..1."""
    return Frame(left=64, top=56, width=300, height=300)


def _point_radius(count: int, largest: int) -> float:
    return round(3 + 7 * math.sqrt(count / largest), 2) if largest else 3.0


def reliability_chart(reliability: Sequence[Mapping[str, Any]] | None, *, calibration_error: float | None) -> str:
    """Mean confidence vs accuracy per confidence bin, with the diagonal of perfect calibration; point size and
    the bar row underneath show how many held-out rows fall into each bin."""
    title = "Reliability (calibration)"
    bins = list(reliability or [])
    counts = [int(entry.get("count") or 0) for entry in bins]
    error = _float(calibration_error)
    subtitle = ("Calibration error (ECE): " + (f"{error:.3f}" if error is not None else "—")
                + (f" — confidence is off by {error * 100:.1f} points on average" if error is not None else ""))
    if not bins or not sum(counts):
        return _empty(width=_RELIABILITY_WIDTH, height=200, title=title,
                      message="No held-out rows: calibration cannot be measured.", css="reliability-chart")
    frame = reliability_frame()
    body = _heading(title, subtitle)
    body += _axes(frame, x_ticks=_ticks(0, 1, 0.2), y_ticks=_ticks(0, 1, 0.2), x_format="{:.1f}", y_format="{:.0%}")
    body.append(_line(frame.x(0), frame.y(0), frame.x(1), frame.y(1), colour=MUTED, dash="5 4", css="diagonal"))

    largest = max(counts)
    points = []
    for entry, count in zip(bins, counts):
        confidence, accuracy = _float(entry.get("mean_confidence")), _float(entry.get("accuracy"))
        if count and confidence is not None and accuracy is not None:
            points.append((entry, count, confidence, accuracy))
    if len(points) > 1:
        path = " ".join(f"{_number(frame.x(c))},{_number(frame.y(a))}" for _, _, c, a in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{BLUE}" stroke-width="1.5" class="curve"/>')
    for entry, count, confidence, accuracy in points:
        tooltip = (f"Bin {entry.get('bin', '')}: {count} rows, mean confidence {confidence:.2f}, "
                   f"accuracy {accuracy:.2f}")
        body.append(
            f'<circle class="bin-point" cx="{_number(frame.x(confidence))}" cy="{_number(frame.y(accuracy))}" '
            f'r="{_number(_point_radius(count, largest))}" fill="{BLUE}" fill-opacity="0.8" stroke="#ffffff" '
            f'stroke-width="1" data-count="{count}"><title>{_text(tooltip)}</title></circle>'
        )
    body.append(_label(frame.x(0.5), frame.bottom + 38, "Mean predicted confidence (top-1 probability)",
                       size=12, anchor="middle", weight="600", css="axis-title"))
    body.append(_axis_title_left(frame, "Observed accuracy"))
    body += _bin_bars(frame, bins, counts, top=frame.bottom + 62)
    body += _reliability_legend(frame.left, _RELIABILITY_HEIGHT - 12)
    description = ("Each point is a confidence bin: its mean confidence against the share of its rows the model got "
                   f"right; points on the diagonal are perfectly calibrated. {subtitle}.")
    return _svg(width=_RELIABILITY_WIDTH, height=_RELIABILITY_HEIGHT, title=title, description=description,
                body=body, css="reliability-chart")


def _bin_bars(frame: Frame, bins: Sequence[Mapping[str, Any]], counts: list[int], *, top: float) -> list[str]:
    """A small bar per bin under the plot (same x axis): how many held-out rows had that confidence."""
    height, largest, width = 44.0, max(counts) or 1, 1 / len(bins)
    body = ['<g class="bin-bars">', _label(frame.left, top + 2, "Held-out rows per confidence bin", size=11,
                                           colour=MUTED)]
    base = top + 14 + height
    for index, (entry, count) in enumerate(zip(bins, counts)):
        x0, x1 = frame.x(index * width) + 2, frame.x((index + 1) * width) - 2
        bar = height * count / largest
        tooltip = f"Bin {entry.get('bin', '')}: {count} rows"
        if count:
            body.append(f'<rect class="bin-bar" x="{_number(x0)}" y="{_number(base - bar)}" '
                        f'width="{_number(x1 - x0)}" height="{_number(bar)}" fill="#b2ccff">'
                        f'<title>{_text(tooltip)}</title></rect>')
        body.append(_label((x0 + x1) / 2, base + 12, str(count), size=10, anchor="middle",
                           colour=INK if count else MUTED, css="bin-count"))
    body.append(_line(frame.left, base, frame.right, base, colour=AXIS))
    body.append("</g>")
    return body


def _reliability_legend(x: float, y: float) -> list[str]:
    return ['<g class="legend">',
            _line(x, y - 4, x + 22, y - 4, colour=MUTED, width=1.5, dash="5 4"),
            _label(x + 28, y, "perfect calibration", size=10.5),
            f'<circle cx="{_number(x + 160)}" cy="{_number(y - 4)}" r="4" fill="{BLUE}" fill-opacity="0.8"/>',
            f'<circle cx="{_number(x + 174)}" cy="{_number(y - 4)}" r="7" fill="{BLUE}" fill-opacity="0.8"/>',
            _label(x + 186, y, "a confidence bin (size: rows)", size=10.5),
            "</g>"]


def _axes(frame: Frame, *, x_ticks: Sequence[float], y_ticks: Sequence[float], x_format: str, y_format: str,
          x_labels: bool = True) -> list[str]:
    """Grid lines, tick labels and the frame of a plot."""
    body = ['<g class="axes">']
    for value in y_ticks:
        y = frame.y(value)
        body.append(_line(frame.left, y, frame.right, y, colour=GRID))
        body.append(_label(frame.left - 6, y + 4, y_format.format(value), size=11, anchor="end", colour=MUTED,
                           css="tick"))
    for value in x_ticks:
        x = frame.x(value)
        body.append(_line(x, frame.top, x, frame.bottom, colour=GRID))
        if x_labels:
            body.append(_label(x, frame.bottom + 16, x_format.format(value), size=11, anchor="middle",
                               colour=MUTED, css="tick"))
    body.append(f'<rect x="{_number(frame.left)}" y="{_number(frame.top)}" width="{_number(frame.width)}" '
                f'height="{_number(frame.height)}" fill="none" stroke="{AXIS}"/>')
    body.append("</g>")
    return body


def _axis_title_left(frame: Frame, text: str) -> str:
    x, y = 14, frame.top + frame.height / 2
    return _label(x, y, text, size=12, anchor="middle", weight="600", css="axis-title",
                  extra=f' transform="rotate(-90 {_number(x)} {_number(y)})"')


# --------------------------------------------------------------------------------- coverage vs precision

_COVERAGE_WIDTH, _COVERAGE_HEIGHT = 470, 470
# A white outline keeps a label legible where it crosses a line or a point.
_HALO = ' stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'


def coverage_frames(curve: Sequence[Mapping[str, Any]], *, threshold: float | None) -> tuple[Frame, Frame]:
    """(precision panel, coverage panel): same x (threshold) range; precision zoomed to where its values are."""
    thresholds = [value for value in (_float(point.get("threshold")) for point in curve) if value is not None]
    if threshold is not None:
        thresholds.append(threshold)
    x_min = min([0.5, *thresholds])
    x_min = math.floor(x_min * 10) / 10
    precisions = [value for value in (_float(point.get("precision")) for point in curve) if value is not None]
    lowest = min([PRECISION_TARGET, *precisions])
    # Zoom so that 95 % and 99 % are far apart, but never hide a point: floor to the 5 % below the lowest.
    y_min = max(0.0, math.floor((lowest - 0.01) * 20) / 20)
    precision = Frame(left=64, top=62, width=380, height=190, x_min=x_min, x_max=1.0, y_min=y_min, y_max=1.0)
    coverage = Frame(left=64, top=282, width=380, height=110, x_min=x_min, x_max=1.0)
    return precision, coverage


def coverage_chart(curve: Sequence[Mapping[str, Any]] | None, *, threshold: float | None) -> str:
    """Precision (top panel) and coverage (bottom panel) of auto-approval by confidence threshold, with the
    company's current threshold and the 99 % precision target marked."""
    title = "Precision and coverage by threshold"
    points = [point for point in (curve or []) if _float(point.get("threshold")) is not None]
    threshold = _float(threshold)
    if not points:
        return _empty(width=_COVERAGE_WIDTH, height=200, title=title, message="No coverage curve was recorded.",
                      css="coverage-chart")
    top, bottom = coverage_frames(points, threshold=threshold)
    current = _point_at(points, threshold)
    if current is not None:
        subtitle = (f"At the current threshold {threshold:.2f}: {_percent(_float(current.get('coverage')))} "
                    f"auto-approved, {_percent(_float(current.get('precision')), 1)} of them right")
    elif threshold is not None:
        subtitle = f"Current threshold {threshold:.2f} (not one of the measured thresholds)"
    else:
        subtitle = "Auto-approval at each confidence threshold"
    body = _heading(title, subtitle)
    step = 0.05 if top.y_max - top.y_min <= 0.3 else 0.1 if top.y_max - top.y_min <= 0.6 else 0.2
    x_ticks = _ticks(top.x_min, 1.0, 0.1)
    body += _axes(top, x_ticks=x_ticks, y_ticks=_ticks(top.y_min, 1.0, step), x_format="{:.1f}",
                  y_format="{:.0%}", x_labels=False)
    body += _axes(bottom, x_ticks=x_ticks, y_ticks=_ticks(0, 1, 0.5), x_format="{:.1f}", y_format="{:.0%}")

    # The 99 % target, then the two series (gaps where precision is undefined: nothing was covered).
    target_y = top.y(PRECISION_TARGET)
    body.append(_line(top.left, target_y, top.right, target_y, colour=RED, width=1.5, dash="6 4",
                      css="target-line"))
    body.append(_label(top.left + 6, target_y + 13, f"{PRECISION_TARGET:.0%} precision target", size=10.5,
                       colour=RED, css="target-label", extra=_HALO))
    body += _series(top, points, "precision", colour=BLUE, css="precision")
    body += _series(bottom, points, "coverage", colour=GREEN, css="coverage")

    if threshold is not None and top.x_min <= threshold <= 1.0:
        x = top.x(threshold)
        body.append(_line(x, top.top - 4, x, bottom.bottom, colour=INK, width=1.5, dash="2 3", css="threshold-line"))
        anchor = "end" if x > top.left + top.width * 0.6 else "start"
        body.append(_label(x + (-4 if anchor == "end" else 4), top.top - 8, f"current threshold {threshold:.2f}",
                           size=10.5, anchor=anchor, weight="600", css="threshold-label", extra=_HALO))
    body.append(_axis_title_left(top, "Precision"))
    body.append(_axis_title_left(bottom, "Coverage"))
    body.append(_label(bottom.left + bottom.width / 2, bottom.bottom + 38,
                       "Confidence threshold (auto-approve at or above)", size=12, anchor="middle", weight="600",
                       css="axis-title"))
    body += _coverage_legend(top.left, bottom.bottom + 58)
    description = ("Precision of the transactions the model would auto-approve, and their share of all held-out "
                   f"rows, at each confidence threshold. {subtitle}.")
    return _svg(width=_COVERAGE_WIDTH, height=_COVERAGE_HEIGHT, title=title, description=description, body=body,
                css="coverage-chart")


def _point_at(points: Sequence[Mapping[str, Any]], threshold: float | None) -> Mapping[str, Any] | None:
    if threshold is None:
        return None
    return next((point for point in points if abs((_float(point.get("threshold")) or -1) - threshold) < 1e-9), None)


def _series(frame: Frame, points: Sequence[Mapping[str, Any]], key: str, *, colour: str, css: str) -> list[str]:
    """A line through the defined values (broken where a value is missing) and a dot per value."""
    segments: list[list[tuple[float, float]]] = [[]]
    body = []
    for point in points:
        x, value = _float(point.get("threshold")), _float(point.get(key))
        if x is None or value is None:
            segments.append([])
            continue
        segments[-1].append((frame.x(x), frame.y(value)))
        tooltip = f"Threshold {x:.2f}: {key} {_percent(value, 1)}"
        body.append(f'<circle class="{css}-point" cx="{_number(frame.x(x))}" cy="{_number(frame.y(value))}" r="3.5" '
                    f'fill="{colour}" stroke="#ffffff" stroke-width="1"><title>{_text(tooltip)}</title></circle>')
    lines = [
        f'<polyline class="{css}-line" points="{" ".join(f"{_number(x)},{_number(y)}" for x, y in segment)}" '
        f'fill="none" stroke="{colour}" stroke-width="2"/>'
        for segment in segments if len(segment) > 1
    ]
    return lines + body


def _coverage_legend(x: float, y: float) -> list[str]:
    items = ((BLUE, "", "Precision"), (GREEN, "", "Coverage"),
             (RED, "6 4", f"{PRECISION_TARGET:.0%} precision target"))
    body, offset = ['<g class="legend">'], 0.0
    for colour, dash, caption in items:
        body.append(_line(x + offset, y - 4, x + offset + 20, y - 4, colour=colour, width=2, dash=dash))
        body.append(_label(x + offset + 25, y, caption, size=10.5, colour=INK))
        offset += 25 + len(caption) * 6.2 + 18
    body.append("</g>")
    return body
