"""Inline SVG charts for the HTML report: plain strings, no JavaScript and no network needed to draw them.

Every chart is an ``<svg>`` with a ``viewBox`` (so it scales with the page), axes with a few round ticks,
and one ``<path>`` per series. Long series are thinned to the minimum and maximum of each pixel column, so
an 8,000-bar equity curve keeps its peaks and troughs at a fraction of the size. A chart with nothing to draw
(no date, no series, no finite value) is an empty frame, marked ``data-empty="1"``, with a sentence saying why
(the caller's ``empty``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np

__all__ = ["PALETTE", "bar_chart", "line_chart", "stacked_area", "thin"]

PALETTE = ["#1f6feb", "#d9480f", "#2b8a3e", "#9c36b5", "#e8590c", "#0b7285", "#c2255c", "#5c940d", "#364fc7",
           "#a61e4d", "#087f5b", "#862e9c", "#e67700", "#1864ab", "#66a80f", "#d6336c", "#495057", "#0ca678",
           "#f08c00", "#7048e8"]

WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 12, 26
NOTHING_TO_DRAW = "Nothing to draw."


def thin(x: np.ndarray, y: np.ndarray, columns: int = 1200) -> tuple[np.ndarray, np.ndarray]:
    """Keep, for each of ``columns`` equal slices of the series, its first, minimum and maximum points (the first
    of equal ones), and the last point. ``y`` is finite (the charts pass their finite points); every slice is
    worked at once."""
    n = len(x)
    if n <= 2 * columns:
        return x, y
    assert np.isfinite(y).all(), "thin takes finite points (line_chart drops the others)"
    starts = np.linspace(0, n, columns + 1).astype(int)[:-1]  # increasing: each slice holds two points or more
    slice_of = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))
    every = np.arange(len(starts))
    kept = [starts, np.array([n - 1])]
    for extreme in (np.minimum.reduceat(y, starts), np.maximum.reduceat(y, starts)):
        hits = np.flatnonzero(y == extreme[slice_of])  # each slice has one at least: its extreme
        kept.append(hits[np.searchsorted(slice_of[hits], every)])
    index = np.unique(np.concatenate(kept))
    return x[index], y[index]


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not math.isfinite(low) or not math.isfinite(high):
        return []
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _log_ticks(low: float, high: float) -> list[float]:
    ticks = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            value = mantissa * 10.0**exponent
            if low <= value <= high:
                ticks.append(value)
    if len(ticks) > 10:
        ticks = [t for t in ticks if math.isclose(math.log10(t) % 1, 0, abs_tol=1e-9)]
    return ticks


def _label(value: float, style: str) -> str:
    if style == "pct":
        return f"{value * 100:.0f}%" if abs(value) >= 0.1 or value == 0 else f"{value * 100:.1f}%"
    if style == "bps":
        return f"{value:.0f}"
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


class _Frame:
    """Maps dates (as float days) and values to pixel coordinates, and draws the axes. ``x`` holds one date
    at least: a chart without one is drawn by :func:`_empty_chart` instead."""

    def __init__(self, x: np.ndarray, low: float, high: float, *, log: bool = False, height: int = HEIGHT) -> None:
        self.x0, self.x1 = float(x.min()), float(x.max())
        if self.x1 <= self.x0:
            self.x1 = self.x0 + 1.0
        self.log, self.height = log, height
        if log:
            low, high = math.log10(low), math.log10(high)
        # A flat series (high == low) is padded by 4% of its level, so a constant 1,000,000 is drawn between
        # 960k and 1.04M with round ticks, not between 999,999 and 1,000,001; a flat zero by 1.
        pad = (high - low) * 0.04 or abs(high) * 0.04 or 1.0
        self.low, self.high = low - pad, high + pad

    def px(self, x: np.ndarray) -> np.ndarray:
        return LEFT + (x - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)

    def py(self, y: np.ndarray) -> np.ndarray:
        value = np.log10(y) if self.log else y
        return TOP + (self.high - value) / (self.high - self.low) * (self.height - TOP - BOTTOM)

    def axes(self, style: str) -> str:
        parts = []
        low, high = (10**self.low, 10**self.high) if self.log else (self.low, self.high)
        ticks = _log_ticks(low, high) if self.log else _nice_ticks(low, high)
        for tick in ticks:
            y = float(self.py(np.array([tick]))[0])
            parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                         f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                         f"{_label(tick, style)}</text>")
        first, last = np.datetime64(int(self.x0), "D"), np.datetime64(int(self.x1), "D")
        years = list(range(int(str(first)[:4]) + 1, int(str(last)[:4]) + 1))
        step = max(1, math.ceil(len(years) / 12))
        for year in years[::step]:
            day = float(np.datetime64(f"{year}-01-01", "D").astype(int))
            x = float(self.px(np.array([day]))[0])
            parts.append(f'<line class="xgrid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{self.height - BOTTOM}"/>'
                         f'<text class="tick" x="{x:.1f}" y="{self.height - 8}" text-anchor="middle">{year}</text>')
        return "".join(parts)


def _days(dates: np.ndarray) -> np.ndarray:
    return np.asarray(dates, dtype="datetime64[D]").astype(np.int64).astype(float)


def _polyline(xs: np.ndarray, ys: np.ndarray) -> str:
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def _svg(body: str, title: str, kind: str, height: int = HEIGHT, *, empty: bool = False) -> str:
    marker = ' data-empty="1"' if empty else ""
    return (f'<svg class="chart" data-chart="{kind}"{marker} viewBox="0 0 {WIDTH} {height}" role="img" '
            f'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
            f"{body}</svg>")


def _empty_chart(title: str, kind: str, note: str, height: int = HEIGHT) -> str:
    """A chart with nothing to draw: its frame and ``note`` (why it is empty) in the middle, no axes."""
    body = (f'<rect class="empty-frame" x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
            f'height="{height - TOP - BOTTOM}" fill="none"/><text class="empty-note" x="{WIDTH / 2:.0f}" '
            f'y="{height / 2:.0f}" text-anchor="middle">{escape(note)}</text>')
    return _svg(body, title, kind, height, empty=True)


def line_chart(dates: np.ndarray, series: Sequence[tuple[str, np.ndarray]], *, title: str, kind: str,
               log: bool = False, style: str = "money", fill_to_zero: bool = False,
               empty: str = NOTHING_TO_DRAW) -> str:
    """One line per ``(name, values)`` over ``dates``; ``log`` puts the y axis on a log scale. Without a point
    to draw (no series, no dates, or no finite value, positive on a log scale) the chart says ``empty``."""
    x = _days(dates)
    finite = [v[np.isfinite(v) & ((v > 0) if log else True)] for _, v in series]
    if not any(len(v) for v in finite):
        return _empty_chart(title, kind, empty)
    low = min(float(v.min()) for v in finite if len(v))
    high = max(float(v.max()) for v in finite if len(v))
    if fill_to_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    frame = _Frame(x, low, high, log=log)
    paths = []
    for i, (name, values) in enumerate(series):
        ok = np.isfinite(values) & ((values > 0) if log else True)
        xs, ys = thin(x[ok], values[ok])
        px, py = frame.px(xs), frame.py(ys)
        colour = PALETTE[i % len(PALETTE)] if not fill_to_zero else "#c92a2a"
        if fill_to_zero:
            zero = float(frame.py(np.array([0.0]))[0])
            area = _polyline(px, py) + f"L{px[-1]:.1f},{zero:.1f}L{px[0]:.1f},{zero:.1f}Z"
            paths.append(f'<path class="area" d="{area}" fill="{colour}" fill-opacity="0.25" stroke="none"/>')
        paths.append(f'<path class="series" data-series="{escape(name)}" d="{_polyline(px, py)}" fill="none" '
                     f'stroke="{colour}" stroke-width="1.4"><title>{escape(name)}</title></path>')
    return _svg(frame.axes(style) + "".join(paths), title, kind)


def stacked_area(dates: np.ndarray, names: Sequence[str], weights: np.ndarray, *, title: str, kind: str,
                 empty: str = NOTHING_TO_DRAW) -> str:
    """Weights (dates x names) stacked from 0 upwards, each held flat until the next date (a step area).
    Without a date (a run that never rebalanced) or a weight above zero (a run that only held cash) the chart
    says ``empty``."""
    x = _days(dates)
    if not len(x) or not np.any(np.nan_to_num(weights) > 0):
        return _empty_chart(title, kind, empty)
    end = x[-1] + max(1.0, float(np.median(np.diff(x))) if len(x) > 1 else 1.0)
    steps_x = np.repeat(np.append(x, end), 2)[1:-1]
    frame = _Frame(np.append(x, end), 0.0, max(1.0, float(np.nansum(weights, axis=1).max())))
    bottom = np.zeros(len(x))
    paths = []
    for i, name in enumerate(names):
        top = bottom + np.nan_to_num(weights[:, i])
        if not np.any(weights[:, i] > 0):
            bottom = top
            continue
        upper = np.repeat(top, 2)
        lower = np.repeat(bottom, 2)
        px = frame.px(steps_x)
        d = _polyline(px, frame.py(upper)) + "L" + "L".join(
            f"{a:.1f},{b:.1f}" for a, b in zip(px[::-1], frame.py(lower)[::-1], strict=True)) + "Z"
        paths.append(f'<path class="band" data-series="{escape(name)}" d="{d}" fill="{PALETTE[i % len(PALETTE)]}" '
                     f'fill-opacity="0.85" stroke="none"><title>{escape(name)}</title></path>')
        bottom = top
    return _svg(frame.axes("pct") + "".join(paths), title, kind)


def bar_chart(dates: np.ndarray, stacks: Sequence[tuple[str, np.ndarray]], *, title: str, kind: str,
              style: str = "pct", height: int = 220, empty: str = NOTHING_TO_DRAW) -> str:
    """Bars at each date, the ``stacks`` piled on each other (each a ``(name, values)`` pair, values >= 0).
    Without a date or a stack the chart says ``empty``."""
    x = _days(dates)
    if not len(x) or not stacks:
        return _empty_chart(title, kind, empty, height)
    total = np.sum([np.nan_to_num(v) for _, v in stacks], axis=0)
    frame = _Frame(x, 0.0, max(float(total.max()), 1e-12), height=height)
    span = (WIDTH - LEFT - RIGHT) / max(len(x), 1)
    width = max(0.8, span * 0.7)
    bottom = np.zeros(len(x))
    parts = []
    zero = frame.py(np.zeros(1))[0]
    for i, (name, values) in enumerate(stacks):
        top = bottom + np.nan_to_num(values)
        y_top, y_bottom = frame.py(top), frame.py(bottom) if i else np.full(len(x), zero)
        d = "".join(f"M{px - width / 2:.1f},{yb:.1f}V{yt:.1f}h{width:.1f}V{yb:.1f}Z"
                    for px, yt, yb in zip(frame.px(x), y_top, y_bottom, strict=True))
        parts.append(f'<path class="bars" data-series="{escape(name)}" d="{d}" fill="{PALETTE[i % len(PALETTE)]}">'
                     f"<title>{escape(name)}</title></path>")
        bottom = top
    return _svg(frame.axes(style) + "".join(parts), title, kind, height)
