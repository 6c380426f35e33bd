"""Inline SVG charts (no scripts, no fonts, no external files): trials, bars, heatmaps, scatter plots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH = 640
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 28, 40
COLORS = {"point": "#4a78b5", "best": "#d9822b", "bar": "#7a9cc6", "highlight": "#2e7d32", "axis": "#555"}


def fmt(value: float | None) -> str:
    """A number short enough for a label."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.4g}"


def _open(kind: str, title: str, height: int) -> str:
    return (
        f'<svg class="chart" data-chart="{escape(kind)}" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">'
        f"<title>{escape(title)}</title>"
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" class="chart-title">{escape(title)}</text>'
    )


def _span(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if low == high:
        pad = abs(low) * 0.05 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return low - pad, high + pad


class _Axes:
    """Maps data to pixels inside the plot area and draws the frame with min/max ticks."""

    def __init__(self, xs: Sequence[float], ys: Sequence[float], height: int) -> None:
        self.x0, self.x1 = _span(xs)
        self.y0, self.y1 = _span(ys)
        self.left, self.right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, height - MARGIN_BOTTOM

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / (self.x1 - self.x0) * (self.right - self.left)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)

    def frame(self, x_label: str, y_label: str) -> str:
        parts = [
            f'<line x1="{self.left}" y1="{self.bottom}" x2="{self.right}" y2="{self.bottom}" '
            f'stroke="{COLORS["axis"]}"/>',
            f'<line x1="{self.left}" y1="{self.top}" x2="{self.left}" y2="{self.bottom}" '
            f'stroke="{COLORS["axis"]}"/>',
        ]
        for value in (self.y0, (self.y0 + self.y1) / 2, self.y1):
            parts.append(
                f'<text x="{self.left - 4}" y="{self.y(value) + 4:.1f}" text-anchor="end" class="tick">'
                f"{escape(fmt(value))}</text>"
            )
        for value in (self.x0, self.x1):
            parts.append(
                f'<text x="{self.x(value):.1f}" y="{self.bottom + 14}" text-anchor="middle" class="tick">'
                f"{escape(fmt(value))}</text>"
            )
        parts.append(
            f'<text x="{(self.left + self.right) / 2}" y="{self.bottom + 32}" text-anchor="middle" '
            f'class="axis-label">{escape(x_label)}</text>'
        )
        parts.append(
            f'<text x="14" y="{(self.top + self.bottom) / 2}" text-anchor="middle" class="axis-label" '
            f'transform="rotate(-90 14 {(self.top + self.bottom) / 2})">{escape(y_label)}</text>'
        )
        return "".join(parts)


def trials_chart(objectives: Sequence[float | None], maximize: bool, title: str, metric: str) -> str:
    """Objective per trial (points) and the best so far (a step line); trials without a value skipped."""
    points = [(i + 1, v) for i, v in enumerate(objectives) if v is not None]
    height = 260
    if not points:
        return _open("trials", title, 60) + '<text x="20" y="44">No trial reported an objective.</text></svg>'
    axes = _Axes([p[0] for p in points], [p[1] for p in points], height)
    best: list[tuple[float, float]] = []
    current: float | None = None
    for x, y in points:
        current = y if current is None or (y > current if maximize else y < current) else current
        best.append((x, current))
    path = " ".join(f"{axes.x(x):.1f},{axes.y(y):.1f}" for x, y in best)
    dots = "".join(
        f'<circle cx="{axes.x(x):.1f}" cy="{axes.y(y):.1f}" r="3.5" fill="{COLORS["point"]}">'
        f"<title>trial {x}: {escape(fmt(y))}</title></circle>"
        for x, y in points
    )
    line = (
        f'<polyline class="best-so-far" points="{path}" fill="none" '
        f'stroke="{COLORS["best"]}" stroke-width="2"/>'
    )
    return _open("trials", title, height) + axes.frame("trial", metric) + line + dots + "</svg>"


def bar_chart(
    items: Sequence[tuple[str, float]], title: str, value_label: str, highlight: frozenset[str] = frozenset()
) -> str:
    """Horizontal bars, one per (label, value), in the order given; `highlight` labels drawn in green."""
    row = 20
    height = MARGIN_TOP + row * max(1, len(items)) + 30
    if not items:
        return _open("bars", title, 60) + '<text x="20" y="44">Nothing to show.</text></svg>'
    low = min(0.0, *(v for _, v in items))
    high = max(0.0, *(v for _, v in items)) or 1.0
    left, right = 220, WIDTH - 70

    def x(value: float) -> float:
        return left + (value - low) / (high - low) * (right - left)

    parts = [_open("bars", title, height)]
    for i, (label, value) in enumerate(items):
        y = MARGIN_TOP + i * row
        start, end = sorted((x(0.0), x(value)))
        color = COLORS["highlight"] if label in highlight else COLORS["bar"]
        short = label if len(label) <= 34 else label[:15] + "…" + label[-15:]
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" class="tick">{escape(short)}</text>'
            f'<rect class="bar" x="{start:.1f}" y="{y + 3}" '
            f'width="{max(end - start, 1):.1f}" height="{row - 6}" '
            f'fill="{color}"><title>{escape(label)}: {escape(fmt(value))}</title></rect>'
            f'<text x="{end + 4:.1f}" y="{y + 14}" class="tick">{escape(fmt(value))}</text>'
        )
    parts.append(
        f'<text x="{(left + right) / 2}" y="{height - 8}" text-anchor="middle" class="axis-label">'
        f"{escape(value_label)}</text></svg>"
    )
    return "".join(parts)


def heatmap(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str) -> str:
    """A confusion matrix: rows observed, columns predicted, darker = more rows, counts written in."""
    k = len(matrix)
    cell = max(14, min(48, 420 // max(k, 1)))
    left, top = 150, MARGIN_TOP + 34
    height = top + cell * k + 20
    peak = max((v for r in matrix for v in r), default=0) or 1
    parts = [
        _open("confusion", title, height),
        f'<text x="{left + cell * k / 2}" y="{top - 20}" text-anchor="middle" '
        'class="axis-label">predicted</text>',
        f'<text x="12" y="{top + cell * k / 2}" class="axis-label">observed</text>',
    ]
    for j, label in enumerate(labels):
        parts.append(
            f'<text x="{left + j * cell + cell / 2}" y="{top - 6}" text-anchor="middle" class="tick">'
            f"{escape(label[:8])}</text>"
        )
    for i, row in enumerate(matrix):
        parts.append(
            f'<text x="{left - 6}" y="{top + i * cell + cell / 2 + 4}" text-anchor="end" class="tick">'
            f"{escape(labels[i][:16])}</text>"
        )
        for j, value in enumerate(row):
            shade = 0.08 + 0.85 * value / peak
            text_color = "#fff" if shade > 0.5 else "#222"
            parts.append(
                f'<rect class="cell" x="{left + j * cell}" y="{top + i * cell}" '
                f'width="{cell}" height="{cell}" '
                f'fill="rgb(46,94,170)" fill-opacity="{shade:.2f}" stroke="#fff"/>'
            )
            if cell >= 20:
                parts.append(
                    f'<text x="{left + j * cell + cell / 2}" y="{top + i * cell + cell / 2 + 4}" '
                    f'text-anchor="middle" class="tick" fill="{text_color}">{value}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def residual_chart(predicted: Sequence[float], residuals: Sequence[float], title: str) -> str:
    """Residual (observed - predicted) against the prediction, with the zero line."""
    height = 260
    if not predicted:
        return _open("residuals", title, 60) + '<text x="20" y="44">No predictions.</text></svg>'
    axes = _Axes(predicted, [*residuals, 0.0], height)
    zero = axes.y(0.0)
    parts = [
        _open("residuals", title, height),
        axes.frame("predicted", "observed - predicted"),
        f'<line class="zero" x1="{axes.left}" y1="{zero:.1f}" x2="{axes.right}" y2="{zero:.1f}" '
        f'stroke="{COLORS["best"]}" stroke-dasharray="4 3"/>',
    ]
    parts.extend(
        f'<circle cx="{axes.x(p):.1f}" cy="{axes.y(r):.1f}" r="2.5" '
        f'fill="{COLORS["point"]}" fill-opacity="0.6"/>'
        for p, r in zip(predicted, residuals, strict=True)
    )
    parts.append("</svg>")
    return "".join(parts)
