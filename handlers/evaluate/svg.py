"""Inline SVG charts (no scripts, no fonts, no external files): trials, bars, heatmaps, scatter plots."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

WIDTH = 640
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 28, 40
COLORS = {"point": "#4a78b5", "best": "#d9822b", "bar": "#7a9cc6", "highlight": "#2e7d32", "axis": "#555"}
# One colour per series of a line chart (finalists), distinguishable in grey scale too.
SERIES = ("#2e5eaa", "#d9822b", "#2e7d32", "#8e44ad", "#b00020", "#555555")


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

    def __init__(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        height: int,
        x_format: Callable[[float], str] = fmt,
        fixed: tuple[float, float, float, float] | None = None,
    ) -> None:
        # `fixed`: (x0, x1, y0, y1) when the axes' range is known (rates: 0 to 1), not the data's.
        self.x0, self.x1 = _span(xs) if fixed is None else fixed[:2]
        self.y0, self.y1 = _span(ys) if fixed is None else fixed[2:]
        self.left, self.right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, height - MARGIN_BOTTOM
        self.x_format = x_format

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
                f"{escape(self.x_format(value))}</text>"
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
    items: Sequence[tuple[str, float]],
    title: str,
    value_label: str,
    highlight: frozenset[str] = frozenset(),
    *,
    kind: str = "bars",
) -> str:
    """Horizontal bars, one per (label, value), in the order given; `highlight` labels drawn in green."""
    row = 20
    height = MARGIN_TOP + row * max(1, len(items)) + 30
    if not items:
        return _open(kind, title, 60) + '<text x="20" y="44">Nothing to show.</text></svg>'
    low = min(0.0, *(v for _, v in items))
    high = max(0.0, *(v for _, v in items)) or 1.0
    left, right = 220, WIDTH - 70

    def x(value: float) -> float:
        return left + (value - low) / (high - low) * (right - left)

    parts = [_open(kind, title, height)]
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


def _legend(labels: Sequence[str], x: float, y: float) -> str:
    return "".join(
        f'<rect x="{x}" y="{y + i * 16 - 9}" width="12" height="4" fill="{SERIES[i % len(SERIES)]}"/>'
        f'<text x="{x + 18}" y="{y + i * 16 - 4}" class="tick">{escape(label)}</text>'
        for i, label in enumerate(labels)
    )


def curve_chart(
    kind: str,
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    title: str,
    x_label: str,
    y_label: str,
    *,
    diagonal: bool = False,
    legend: str = "bottom-right",
) -> str:
    """Curves on the unit square (rates), one polyline per (label, xs, ys), with a legend.

    `diagonal`: the line of a model that ranks at random (ROC curves). `legend`: the corner the curves
    leave free (bottom-right for ROC, bottom-left for precision-recall).
    """
    height = 300
    drawn = [s for s in series if s[1]]
    if not drawn:
        return _open(kind, title, 60) + '<text x="20" y="44">No curve to draw.</text></svg>'
    axes = _Axes([0.0, 1.0], [0.0, 1.0], height, fixed=(0.0, 1.0, 0.0, 1.0))
    parts = [_open(kind, title, height), axes.frame(x_label, y_label)]
    if diagonal:
        parts.append(
            f'<line class="chance" x1="{axes.x(0):.1f}" y1="{axes.y(0):.1f}" x2="{axes.x(1):.1f}" '
            f'y2="{axes.y(1):.1f}" stroke="#999" stroke-dasharray="4 3"/>'
        )
    for i, (label, xs, ys) in enumerate(series):
        points = " ".join(f"{axes.x(x):.1f},{axes.y(y):.1f}" for x, y in zip(xs, ys, strict=True))
        parts.append(
            f'<polyline class="curve" data-series="{escape(label)}" points="{points}" fill="none" '
            f'stroke="{SERIES[i % len(SERIES)]}" stroke-width="2"><title>{escape(label)}</title></polyline>'
        )
    left = axes.left + 12 if legend == "bottom-left" else axes.right - 200
    parts.append(_legend([label for label, _, _ in series], left, axes.bottom - 14 * len(series)))
    parts.append("</svg>")
    return "".join(parts)


def scatter_chart(
    kind: str,
    xs: Sequence[float],
    ys: Sequence[float],
    title: str,
    x_label: str,
    y_label: str,
    *,
    identity: bool = False,
    log_x: bool = False,
    highlight: int | None = None,
) -> str:
    """Points (x, y); `identity` draws y = x (predicted against actual), `log_x` a logarithmic x axis.

    `highlight`: the index of a point drawn larger in the highlight colour (the best trial).
    """
    height = 260
    pairs = [
        (x, y)
        for x, y in zip(xs, ys, strict=True)
        if math.isfinite(x) and math.isfinite(y) and (x > 0 or not log_x)
    ]
    if not pairs:
        return _open(kind, title, 60) + '<text x="20" y="44">No points to draw.</text></svg>'
    px = [math.log10(x) if log_x else x for x, _ in pairs]
    py = [y for _, y in pairs]
    span = [*px, *py] if identity else None
    axes = _Axes(
        span or px,
        span or py,
        height,
        x_format=(lambda v: fmt(10**v)) if log_x else fmt,
    )
    parts = [_open(kind, title, height), axes.frame(x_label + (" (log scale)" if log_x else ""), y_label)]
    if identity:
        low, high = max(axes.x0, axes.y0), min(axes.x1, axes.y1)
        parts.append(
            f'<line class="identity" x1="{axes.x(low):.1f}" y1="{axes.y(low):.1f}" x2="{axes.x(high):.1f}" '
            f'y2="{axes.y(high):.1f}" stroke="{COLORS["best"]}" stroke-dasharray="4 3"/>'
        )
    for i, ((x, y), lx) in enumerate(zip(pairs, px, strict=True)):
        best = i == highlight
        parts.append(
            f'<circle cx="{axes.x(lx):.1f}" cy="{axes.y(y):.1f}" r="{4.5 if best else 2.8}" '
            f'fill="{COLORS["highlight"] if best else COLORS["point"]}" fill-opacity="{1 if best else 0.6}">'
            f"<title>{escape(fmt(x))}: {escape(fmt(y))}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def category_chart(
    kind: str, values: Sequence[str], ys: Sequence[float], title: str, x_label: str, y_label: str
) -> str:
    """Points per category (a categorical hyperparameter against the objective), categories in order seen."""
    height = 260
    if not values:
        return _open(kind, title, 60) + '<text x="20" y="44">No points to draw.</text></svg>'
    order = list(dict.fromkeys(values))
    axes = _Axes([0.0, float(len(order) - 1)], list(ys), height, x_format=lambda v: "")
    parts = [_open(kind, title, height), axes.frame(x_label, y_label)]
    for i, name in enumerate(order):
        parts.append(
            f'<text x="{axes.x(i):.1f}" y="{axes.bottom + 26}" text-anchor="middle" class="tick">'
            f"{escape(name[:12])}</text>"
        )
    for value, y in zip(values, ys, strict=True):
        parts.append(
            f'<circle cx="{axes.x(order.index(value)):.1f}" cy="{axes.y(y):.1f}" r="3" '
            f'fill="{COLORS["point"]}" fill-opacity="0.6"><title>{escape(value)}: {escape(fmt(y))}</title>'
            "</circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
