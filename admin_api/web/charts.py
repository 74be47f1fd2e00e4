"""Chart geometry for server-rendered SVG: numbers in, rectangles and ticks out; the templates draw them.

No JavaScript, so the charts render under a strict CSP, print, and are read by screen readers via their titles
and the data tables beside them.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from admin_api import labels, severity
from admin_api.models import ACTIONS

ACTION_COLOURS = {"block": "#b3261e", "redact": "#b86e00", "allow": "#2e7d4f"}
LABEL_CHAR_WIDTH = 7  # px per character of a row label at the charts' 12 px font (generous for capitals)
PALETTE = ["#1f5fa8", "#6a4c93", "#00897b", "#c2185b", "#5d6d7e", "#8d6e00", "#2e7d4f", "#b3261e"]


def nice_max(value: float, ticks: int = 4) -> tuple[float, float]:
    """A round axis maximum >= value and its tick step (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0, 1.0 / ticks if ticks else 1.0
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if step < 1:
        step = 1.0  # counts are whole numbers
    return step * math.ceil(value / step), step


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    colour: str
    title: str


@dataclass
class Tick:
    pos: float
    label: str


@dataclass
class Chart:
    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    labels: list[Tick] = field(default_factory=list)  # row labels (horizontal bars)
    values: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, text
    plot: tuple[float, float, float, float] = (0, 0, 0, 0)  # left, top, right, bottom
    empty: bool = False


def series_colours(series: Sequence[str]) -> dict[str, str]:
    """Each series its own colour from the palette, in order (repeating past eight)."""
    return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(series)}


def stacked_columns(
    buckets: Sequence[tuple[str, dict[str, int]]],
    series: Sequence[str],
    colours: dict[str, str] | None = None,
    *,
    width: int = 1100,
    height: int = 260,
    max_x_labels: int = 12,
) -> Chart:
    """One column per time bucket, stacked by series (e.g. block / redact / allow per day)."""
    colours = colours or series_colours(series)
    left, top, right, bottom = 48.0, 10.0, width - 8.0, height - 26.0
    chart = Chart(width, height, plot=(left, top, right, bottom))
    chart.legend = [(labels.action(s), colours[s]) for s in series]
    totals = [sum(counts.get(s, 0) for s in series) for _, counts in buckets]
    if not buckets or not any(totals):
        chart.empty = True
    top_value, step = nice_max(max(totals, default=0))
    scale = (bottom - top) / top_value
    n = max(len(buckets), 1)
    slot = (right - left) / n
    bar_w = max(slot * 0.72, 1.0)
    for i, (label, counts) in enumerate(buckets):
        x = left + i * slot + (slot - bar_w) / 2
        y = bottom
        for s in series:
            value = counts.get(s, 0)
            if value <= 0:
                continue
            h = value * scale
            y -= h
            chart.rects.append(Rect(round(x, 1), round(y, 1), round(bar_w, 1), round(h, 1), colours[s],
                                    f"{label}: {value:,} {s}"))
    every = max(1, math.ceil(len(buckets) / max_x_labels))
    chart.x_ticks = [Tick(round(left + i * slot + slot / 2, 1), label)
                     for i, (label, _) in enumerate(buckets) if i % every == 0]
    chart.y_ticks = _y_ticks(top_value, step, bottom, scale)
    return chart


def stacked_rows(
    items: Sequence[tuple[str, dict[str, int]]],
    series: Sequence[str],
    colours: dict[str, str] | None = None,
    *,
    bars: int = 370,
    row: int = 26,
) -> Chart:
    """One horizontal bar per category, stacked by series (e.g. events per tool split by action). The label column
    is as wide as the longest label needs, so no label is ever cut short."""
    colours = colours or series_colours(series)
    label_width = max(150, LABEL_CHAR_WIDTH * max((len(label) for label, _ in items), default=0) + 16)
    width = label_width + bars
    height = max(len(items), 1) * row + 8
    left, right = float(label_width), width - 60.0
    chart = Chart(width, height, plot=(left, 4, right, height - 4))
    chart.legend = [(labels.action(s), colours[s]) for s in series] if len(series) > 1 else []
    totals = [sum(counts.get(s, 0) for s in series) for _, counts in items]
    top_value = max(totals, default=0)
    chart.empty = top_value <= 0
    scale = (right - left) / (top_value or 1)
    for i, ((label, counts), total) in enumerate(zip(items, totals, strict=True)):
        y = 4 + i * row
        x = left
        for s in series:
            value = counts.get(s, 0)
            if value <= 0:
                continue
            w = max(value * scale, 1.0)
            chart.rects.append(Rect(round(x, 1), y + 4, round(w, 1), row - 9, colours[s],
                                    f"{label}: {value:,} {s}" if len(series) > 1 else f"{label}: {value:,}"))
            x += w
        chart.labels.append(Tick(y + row / 2 + 4, label))
        chart.values.append((round(x + 6, 1), y + row / 2 + 4, f"{total:,}"))
    return chart


def _y_ticks(top_value: float, step: float, bottom: float, scale: float) -> list[Tick]:
    ticks, value = [], 0.0
    while value <= top_value + 1e-9:
        ticks.append(Tick(round(bottom - value * scale, 1), f"{value:,.0f}"))
        value += step
    return ticks


def group_rows(groups: Sequence[Any], top: int, label: Any = str, unknown: str = "(unknown)"
               ) -> list[tuple[str, dict[str, int]]]:
    """GroupCounts as chart rows: the `top` largest, then the rest summed into one "and N more" row, so no count
    is hidden (the table beside each chart lists every group)."""
    rows = [(label(g.key) if g.key else unknown, {a: getattr(g, a) for a in ACTIONS}) for g in groups[:top]]
    rest = groups[top:]
    if rest:
        rows.append((f"and {len(rest)} more", {a: sum(getattr(g, a) for g in rest) for a in ACTIONS}))
    return rows


def severity_rows(stats: Any) -> list[tuple[str, dict[str, int]]]:
    """Every severity level, most serious first (zeros included: an empty category is news too)."""
    return [(labels.level(severity.BY_NAME[g.key or "none"]), {a: getattr(g, a) for a in ACTIONS})
            for g in stats.by_severity]


def day_buckets(timeline: Sequence[Any], first: date, days: int, step: int | None = None
                ) -> list[tuple[str, dict[str, int]]]:
    """Per-day counts (TimelinePoint: day, allow, redact, block) with the empty days filled in, in buckets of
    `step` days (default: weekly for ranges over 90 days, so bars stay readable)."""
    by_day = {p.day: {a: getattr(p, a) for a in ACTIONS} for p in timeline}
    step = step or (7 if days > 90 else 1)
    buckets = []
    for offset in range(0, days, step):
        start = first + timedelta(days=offset)
        counts = {a: 0 for a in ACTIONS}
        for d in range(min(step, days - offset)):
            for a, n in by_day.get((start + timedelta(days=d)).isoformat(), {}).items():
                counts[a] += n
        label = start.strftime("%d %b").lstrip("0")
        buckets.append((f"w/c {label}" if step == 7 else label, counts))
    return buckets
