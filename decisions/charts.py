"""Inline SVG charts of the automation dashboard: share by method (a stacked bar), automation rate over time (a
line over daily volume), backlog by age (bars), reviewer throughput (bars per day) and reviewer agreement with the
model (a split bar).

Pure functions, no Django: a block of `decisions.stats.automation_stats` goes in, SVG markup comes out. Every piece
of text goes through `_text`, which escapes it (quotes too), so the caller may mark the result safe. Presentation
attributes and classes only: the site's CSP forbids `style` attributes. `ident` makes the ids inside one SVG
(its accessible title and description) unique on a page that shows the same chart for several companies.
Empty data never divides by zero: it is drawn as a short "nothing to show" message.
"""
from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ledger_site.svg import percent_text as _percent
from ledger_site.svg import svg_number as _number
from ledger_site.svg import svg_text as _text

__all__ = [
    "METHOD_STYLE",
    "agreement_chart",
    "automation_rate_chart",
    "backlog_age_chart",
    "format_age",
    "method_share_chart",
    "count_axis",
    "nice_ceiling",
    "throughput_chart",
]

WIDTH = 480
INK = "#1d2330"
MUTED = "#5b6475"
GRID = "#e4e7ec"
AXIS = "#98a2b3"
EMPTY = "#f9fafb"
BLUE = "#1f5fbf"
GREEN = "#067647"
RED = "#b42318"
VOLUME = "#d0d5dd"
MAX_BAR = 24.0  # a day's bar is never wider than this, so a week does not look like a histogram of blocks
FONT = "system-ui, -apple-system, Segoe UI, sans-serif"

# method -> (label, fill, text colour on the fill). Machines that approve alone in strong colours, suggestions
# and people in lighter or neutral ones; the review placeholders in amber (they are the backlog).
METHOD_STYLE: dict[str, tuple[str, str, str]] = {
    "rule": ("Rule", "#1f5fbf", "#ffffff"),
    "ml": ("ML auto", "#067647", "#ffffff"),
    "ml_suggestion": ("ML suggestion", "#a6e3c0", INK),
    "llm": ("LLM", "#6941c6", "#ffffff"),
    "transfer": ("Transfer", "#0e7090", "#ffffff"),
    "review": ("Awaiting review", "#fdb022", INK),
    "human": ("By a person", "#475467", "#ffffff"),
}
AGE_FILLS = ("#75e0a7", "#fec84b", "#f79009", "#d92d20")  # fresh -> old: green, yellow, orange, red


# --------------------------------------------------------------------------------------------- helpers


def _svg(*, ident: str, css: str, height: float, title: str, description: str, body: Iterable[str]) -> str:
    ident = _text(ident)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" role="img" width="{WIDTH}" '
        f'height="{_number(height)}" viewBox="0 0 {WIDTH} {_number(height)}" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="{FONT}">'
        f'<title id="{ident}-title">{_text(title)}</title><desc id="{ident}-desc">{_text(description)}</desc>'
        + "".join(body) + "</svg>"
    )


def _label(x: float, y: float, text: str, *, size: float = 12, anchor: str = "start", colour: str = INK,
           weight: str = "normal", css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    bold = f' font-weight="{weight}"' if weight != "normal" else ""
    return (f'<text x="{_number(x)}" y="{_number(y)}" font-size="{_number(size)}" text-anchor="{anchor}" '
            f'fill="{colour}"{bold}{klass}>{_text(text)}</text>')


def _line(x1: float, y1: float, x2: float, y2: float, *, colour: str = AXIS, width: float = 1, dash: str = "",
          css: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    klass = f' class="{css}"' if css else ""
    return (f'<line x1="{_number(x1)}" y1="{_number(y1)}" x2="{_number(x2)}" y2="{_number(y2)}" '
            f'stroke="{colour}" stroke-width="{_number(width)}"{dashed}{klass}/>')


def _rect(x: float, y: float, width: float, height: float, *, fill: str, css: str = "", tooltip: str = "",
          extra: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    inner = f"<title>{_text(tooltip)}</title>" if tooltip else ""
    return (f'<rect x="{_number(x)}" y="{_number(y)}" width="{_number(max(width, 0))}" '
            f'height="{_number(max(height, 0))}" fill="{fill}"{klass}{extra}>{inner}</rect>')


def _heading(title: str, subtitle: str) -> list[str]:
    return [_label(0, 16, title, size=15, weight="600", css="chart-heading"),
            _label(0, 34, subtitle, size=12, colour=MUTED, css="chart-subtitle")]


def _empty(*, ident: str, css: str, title: str, subtitle: str, message: str, height: float = 120) -> str:
    body = _heading(title, subtitle) + [
        f'<rect x="0.5" y="46.5" width="{WIDTH - 1}" height="{_number(height - 47)}" fill="{EMPTY}" stroke="{GRID}"/>',
        _label(WIDTH / 2, 46 + (height - 46) / 2 + 4, message, size=13, anchor="middle", colour=MUTED,
               css="chart-empty"),
    ]
    return _svg(ident=ident, css=css, height=height, title=title, description=message, body=body)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at or above `value` (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def count_axis(largest: int) -> tuple[int, int]:
    """(top, step) of a count axis: whole-number ticks about a fifth of the largest value apart, and a free
    step above the largest bar so that it never touches the frame."""
    step = max(1, int(nice_ceiling(largest / 5)))
    top = step * (largest // step + 1)
    return top, step


def format_age(hours: float | None) -> str:
    """An age for people: "—", "< 1 h", "5 h", "3 d 4 h"."""
    if hours is None:
        return "—"
    if hours < 1:
        return "< 1 h"
    if hours < 48:
        return f"{int(hours)} h"
    days, rest = divmod(int(hours), 24)
    return f"{days} d {rest} h" if rest else f"{days} d"


def _day_label(iso: str) -> str:
    day = datetime.date.fromisoformat(iso)
    return f"{day:%b} {day.day}"


def _day_ticks(count: int) -> list[int]:
    """Indexes of the days that get a date label: about five, always the last (today)."""
    if count <= 1:
        return [0] if count else []
    step = max(1, math.ceil((count - 1) / 5))
    ticks = list(range(count - 1, -1, -step))
    return sorted(ticks)


# ---------------------------------------------------------------------------------------- share by method


def method_share_chart(by_method: Mapping[str, int], *, automation_rate: float | None, ident: str) -> str:
    """Current decisions by method as one stacked bar (share of the decided transactions), with a legend of
    counts and shares."""
    title = "Who decided"
    counts = {method: int(by_method.get(method) or 0) for method in METHOD_STYLE}
    total = sum(counts.values())
    css = "method-chart"
    if not total:
        return _empty(ident=ident, css=css, title=title, subtitle="Share of decided transactions by method",
                      message="No decided transactions yet.")
    subtitle = f"{total} transactions decided · {_percent(automation_rate)} automated (no person needed)"
    body = _heading(title, subtitle)
    top, height, x = 48.0, 30.0, 0.0
    body.append('<g class="segments">')
    for method, count in counts.items():
        if not count:
            continue
        label, fill, text_colour = METHOD_STYLE[method]
        width = WIDTH * count / total
        share = count / total
        body.append(_rect(x, top, width, height, fill=fill, css=f"segment segment-{method}",
                          tooltip=f"{label}: {count} of {total} ({_percent(share, 1)})",
                          extra=f' data-method="{method}" data-count="{count}"'))
        caption = _percent(share)
        if width >= len(caption) * 7.5 + 6:
            body.append(_label(x + width / 2, top + height / 2 + 4.5, caption, size=12, anchor="middle",
                               colour=text_colour, weight="600", css="segment-label"))
        x += width
    body.append("</g>")
    body.append(f'<rect x="0.5" y="{_number(top + 0.5)}" width="{WIDTH - 1}" height="{_number(height - 1)}" '
                f'fill="none" stroke="{AXIS}"/>')
    # Legend: three columns, every method (zero counts greyed) so that charts of companies compare line by line.
    body.append('<g class="legend">')
    column_width = WIDTH / 3
    for index, (method, count) in enumerate(counts.items()):
        label, fill, _ = METHOD_STYLE[method]
        lx, ly = (index % 3) * column_width, top + height + 22 + (index // 3) * 20
        body.append(_rect(lx, ly - 10, 12, 12, fill=fill if count else EMPTY,
                          extra=f' stroke="{fill if count else AXIS}"'))
        body.append(_label(lx + 17, ly, f"{label} {count}", size=12, colour=INK if count else MUTED,
                           css="legend-label"))
    body.append("</g>")
    description = "Decided transactions by method: " + ", ".join(
        f"{METHOD_STYLE[method][0]} {count} ({_percent(count / total)})" for method, count in counts.items() if count)
    return _svg(ident=ident, css=css, height=top + height + 22 + 20 + 12, title=title, description=description,
                body=body)


# ----------------------------------------------------------------------------------- automation over time


def automation_rate_chart(daily: Sequence[Mapping[str, Any]], *, ident: str) -> str:
    """The automation rate per day (a line through the days that decided something) above the number of
    transactions decided per day (grey bars), on the same date axis."""
    title = "Automation rate over time"
    css = "rate-chart"
    days = list(daily)
    decided = sum(int(day.get("decided") or 0) for day in days)
    if not decided:
        return _empty(ident=ident, css=css, title=title, subtitle=f"Last {len(days)} days",
                      message="Nothing was decided in this period.")
    automated = sum(int(day.get("automated") or 0) for day in days)
    subtitle = f"Last {len(days)} days: {_percent(automated / decided)} of {decided} decided transactions automated"
    left, top, plot_width, plot_height = 44.0, 52.0, WIDTH - 56.0, 130.0
    volume_top, volume_height = top + plot_height + 14, 44.0
    slot = plot_width / len(days)

    def x_of(index: int) -> float:
        return left + slot * (index + 0.5)

    def y_of(rate: float) -> float:
        return top + plot_height * (1 - rate)

    body = _heading(title, subtitle)
    body.append('<g class="axes">')
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        body.append(_line(left, y_of(tick), left + plot_width, y_of(tick), colour=GRID))
        body.append(_label(left - 6, y_of(tick) + 4, _percent(tick), size=11, anchor="end", colour=MUTED,
                           css="tick"))
    body.append(f'<rect x="{_number(left)}" y="{_number(top)}" width="{_number(plot_width)}" '
                f'height="{_number(plot_height)}" fill="none" stroke="{AXIS}"/>')
    body.append("</g>")

    points = []
    for index, day in enumerate(days):
        rate = day.get("automation_rate")
        if rate is not None and int(day.get("decided") or 0):
            points.append((index, float(rate), day))
    if len(points) > 1:
        path = " ".join(f"{_number(x_of(i))},{_number(y_of(rate))}" for i, rate, _ in points)
        body.append(f'<polyline class="rate-line" points="{path}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    for index, rate, day in points:
        tooltip = (f"{day['date']}: {_percent(rate, 1)} automated "
                   f"({day.get('automated', 0)} of {day.get('decided', 0)})")
        body.append(f'<circle class="rate-point" cx="{_number(x_of(index))}" cy="{_number(y_of(rate))}" r="3.5" '
                    f'fill="{BLUE}" stroke="#ffffff" stroke-width="1"><title>{_text(tooltip)}</title></circle>')

    # Daily volume underneath: how much each point weighs.
    largest = max(int(day.get("decided") or 0) for day in days)
    body.append('<g class="volume">')
    body.append(_label(left, volume_top - 3, f"Decided per day (max {largest})", size=10.5, colour=MUTED))
    base = volume_top + volume_height
    bar_width = min(max(slot - 2, 1.0), MAX_BAR)
    for index, day in enumerate(days):
        count = int(day.get("decided") or 0)
        if count:
            height = max(volume_height * count / largest, 1.5)
            body.append(_rect(x_of(index) - bar_width / 2, base - height, bar_width, height, fill=VOLUME,
                              css="volume-bar", tooltip=f"{day['date']}: {count} decided"))
    body.append(_line(left, base, left + plot_width, base, colour=AXIS))
    body.append("</g>")
    for index in _day_ticks(len(days)):
        body.append(_label(x_of(index), base + 15, _day_label(days[index]["date"]), size=11, anchor="middle",
                           colour=MUTED, css="tick day-tick"))
    description = (f"Daily automation rate over the last {len(days)} days; {subtitle}. Days without decisions "
                   "have no point.")
    return _svg(ident=ident, css=css, height=base + 24, title=title, description=description, body=body)


# --------------------------------------------------------------------------------------------- backlog


def backlog_age_chart(backlog: Mapping[str, Any], *, ident: str) -> str:
    """The open review backlog by age (bars from fresh to old), with the oldest and the median age."""
    title = "Review backlog by age"
    css = "backlog-chart"
    buckets = list(backlog.get("age_buckets") or [])
    total = int(backlog.get("open") or 0)
    if not total:
        return _empty(ident=ident, css=css, title=title, subtitle="Open items waiting for a reviewer",
                      message="Nothing is waiting for review.")
    subtitle = (f"{total} open · oldest {format_age(backlog.get('oldest_age_hours'))} · "
                f"median {format_age(backlog.get('median_age_hours'))}")
    body = _heading(title, subtitle)
    left, top, row_height, bar_height = 72.0, 50.0, 26.0, 18.0
    bar_space = WIDTH - left - 56
    largest = max(int(bucket.get("count") or 0) for bucket in buckets) or 1
    body.append('<g class="age-bars">')
    for index, bucket in enumerate(buckets):
        count = int(bucket.get("count") or 0)
        y = top + index * row_height
        body.append(_label(left - 8, y + bar_height / 2 + 4, bucket.get("label", ""), size=12, anchor="end",
                           css="age-label"))
        body.append(_rect(left, y, bar_space, bar_height, fill=EMPTY))
        if count:
            body.append(_rect(left, y, max(bar_space * count / largest, 2), bar_height,
                              fill=AGE_FILLS[min(index, len(AGE_FILLS) - 1)], css="age-bar",
                              tooltip=f"{bucket.get('label', '')}: {count} open",
                              extra=f' data-count="{count}"'))
        body.append(_label(left + bar_space * count / largest + 6, y + bar_height / 2 + 4, str(count), size=12,
                           weight="600", css="age-count"))
    body.append("</g>")
    height = top + len(buckets) * row_height + 4
    description = f"Open review items by age: {subtitle}; " + ", ".join(
        f"{bucket.get('label', '')}: {bucket.get('count', 0)}" for bucket in buckets)
    return _svg(ident=ident, css=css, height=height, title=title, description=description, body=body)


# ----------------------------------------------------------------------------------- reviewer throughput


def throughput_chart(daily: Sequence[Mapping[str, Any]], *, ident: str) -> str:
    """Reviews done per day (bars) with the window's average (a dashed line)."""
    title = "Reviewer throughput"
    css = "throughput-chart"
    days = list(daily)
    reviews = [int(day.get("reviews") or 0) for day in days]
    total = sum(reviews)
    if not total:
        return _empty(ident=ident, css=css, title=title, subtitle=f"Reviews per day, last {len(days)} days",
                      message="No reviews in this period.")
    average = total / len(days)
    subtitle = f"{total} reviews in {len(days)} days · {average:.1f} per day on average"
    left, top, plot_width, plot_height = 44.0, 62.0, WIDTH - 56.0, 150.0
    ceiling, step = count_axis(max(reviews))
    slot = plot_width / len(days)

    def y_of(value: float) -> float:
        return top + plot_height * (1 - value / ceiling)

    body = _heading(title, subtitle)
    body.append('<g class="axes">')
    for tick in range(0, ceiling + 1, step):
        body.append(_line(left, y_of(tick), left + plot_width, y_of(tick), colour=GRID))
        body.append(_label(left - 6, y_of(tick) + 4, str(tick), size=11, anchor="end", colour=MUTED, css="tick"))
    body.append("</g>")
    bar_width = min(max(slot - 2, 1.0), MAX_BAR)
    body.append('<g class="review-bars">')
    for index, (day, count) in enumerate(zip(days, reviews)):
        if count:
            x = left + slot * index + (slot - bar_width) / 2
            body.append(_rect(x, y_of(count), bar_width, plot_height * count / ceiling, fill=BLUE,
                              css="review-bar", tooltip=f"{day['date']}: {count} reviews",
                              extra=f' data-count="{count}"'))
    body.append("</g>")
    base = top + plot_height
    body.append(_line(left, base, left + plot_width, base, colour=AXIS))
    body.append(_line(left, y_of(average), left + plot_width, y_of(average), colour=RED, width=1.5, dash="6 4",
                      css="average-line"))
    # The average's key sits above the plot, clear of the bars.
    key_x, key = left + plot_width, f"average {average:.1f}/day"
    body.append(_label(key_x, top - 8, key, size=11, anchor="end", colour=RED, weight="600", css="average-label"))
    key_left = key_x - len(key) * 6.6 - 8
    body.append(_line(key_left - 20, top - 12, key_left, top - 12, colour=RED, width=1.5, dash="6 4"))
    for index in _day_ticks(len(days)):
        body.append(_label(left + slot * (index + 0.5), base + 15, _day_label(days[index]["date"]), size=11,
                           anchor="middle", colour=MUTED, css="tick day-tick"))
    description = f"Reviews per day over the last {len(days)} days: {subtitle}."
    return _svg(ident=ident, css=css, height=base + 24, title=title, description=description, body=body)


# -------------------------------------------------------------------------------------------- agreement


def agreement_chart(agreement: Mapping[str, Any], *, ident: str) -> str:
    """Of the classifier's answers a reviewer acted on: approved as they were (green) or corrected (red)."""
    title = "Reviewers agree with the model"
    css = "agreement-chart"
    agreed, corrected = int(agreement.get("agreed") or 0), int(agreement.get("corrected") or 0)
    reviewed = agreed + corrected
    if not reviewed:
        return _empty(ident=ident, css=css, title=title, subtitle="Classifier answers a reviewer acted on",
                      message="No classifier answer has been reviewed yet.", height=110)
    subtitle = f"{_percent(agreed / reviewed)} approved as suggested · {reviewed} answers reviewed"
    body = _heading(title, subtitle)
    top, height = 48.0, 26.0
    agreed_width = WIDTH * agreed / reviewed
    body.append(_rect(0, top, agreed_width, height, fill=GREEN, css="agreed-bar",
                      tooltip=f"Approved as suggested: {agreed} of {reviewed}", extra=f' data-count="{agreed}"'))
    body.append(_rect(agreed_width, top, WIDTH - agreed_width, height, fill=RED, css="corrected-bar",
                      tooltip=f"Corrected: {corrected} of {reviewed}", extra=f' data-count="{corrected}"'))
    for x, width, count, caption in ((0, agreed_width, agreed, "agreed"),
                                     (agreed_width, WIDTH - agreed_width, corrected, "corrected")):
        text = f"{count} {caption}"
        if count and width >= len(text) * 7 + 10:
            body.append(_label(x + width / 2, top + height / 2 + 4.5, text, size=12, anchor="middle",
                               colour="#ffffff", weight="600", css="agreement-label"))
    body.append(_label(0, top + height + 18, f"Agreed {agreed}", size=12, colour=GREEN, weight="600"))
    body.append(_label(WIDTH, top + height + 18, f"Corrected {corrected}", size=12, anchor="end", colour=RED,
                       weight="600"))
    description = f"Classifier answers reviewed: {agreed} approved as suggested, {corrected} corrected."
    return _svg(ident=ident, css=css, height=top + height + 26, title=title, description=description, body=body)
