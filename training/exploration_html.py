"""exploration.html: the exploration as one self-contained page (inline CSS and SVG, nothing fetched)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from contracts.dataset_layout import Exploration, ExplorationColumn, ExplorationHistogram, ExplorationWarning
from handlers.evaluate import svg
from handlers.evaluate.report_html import STYLE as REPORT_STYLE
from training.exploration import by_single_feature_score, single_feature_score, warnings_by_column

MAX_SCORE_BARS = 20
HISTOGRAM_WIDTH, HISTOGRAM_HEIGHT = 360, 150
STYLE = (
    REPORT_STYLE
    + """
.column{border-top:1px solid #ddd;margin-top:1.5rem}.column h3{font-size:1rem;margin:.75rem 0 .25rem}
.column-body{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
.column-body .chart[data-chart=bars]{flex:1 1 360px;min-width:0;height:auto}
.warning{margin:.35rem 0}.warning b{color:#b00020}td.num{text-align:right}
"""
)
METRIC_NAMES = {"auc": "AUC", "r2": "R²"}


def histogram(hist: ExplorationHistogram, title: str) -> str:
    """A small column chart of a numeric column's bins; hover a bar for its range and rows."""
    edges, counts = hist["edges"], hist["counts"]
    width, height = HISTOGRAM_WIDTH, HISTOGRAM_HEIGHT
    head = (
        f'<svg class="chart" data-chart="histogram" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}"><title>{escape(title)}</title>'
        f'<text x="{width / 2}" y="14" text-anchor="middle" class="chart-title">{escape(title)}</text>'
    )
    if not counts:
        return head + '<text x="20" y="44">No finite values.</text></svg>'
    left, right, top, bottom = 44, width - 10, 24, height - 22
    peak = max(counts) or 1
    low, high = svg.fmt(edges[0]), svg.fmt(edges[-1])
    step = (right - left) / len(counts)
    parts = [
        head,
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{svg.COLORS["axis"]}"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="tick">{peak}</text>',
        f'<text x="{left - 4}" y="{bottom}" text-anchor="end" class="tick">0</text>',
        f'<text x="{left}" y="{bottom + 14}" text-anchor="start" class="tick">{escape(low)}</text>',
        f'<text x="{right}" y="{bottom + 14}" text-anchor="end" class="tick">{escape(high)}</text>',
    ]
    for i, count in enumerate(counts):
        bar = (bottom - top) * count / peak
        parts.append(
            f'<rect class="bar" x="{left + i * step + 0.5:.1f}" y="{bottom - bar:.1f}" '
            f'width="{max(step - 1, 1):.1f}" height="{bar:.1f}" fill="{svg.COLORS["bar"]}">'
            f"<title>{escape(svg.fmt(edges[i]))} to {escape(svg.fmt(edges[i + 1]))}: {count} rows</title>"
            "</rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return svg.fmt(value)
    return "-" if value is None else str(value)


def _percent(share: float) -> str:
    return f"{share:.1%}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{escape(_text(v))}</td>' if isinstance(v, int | float) else f"<td>{v}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _warning_items(warnings: Sequence[ExplorationWarning]) -> str:
    return "".join(
        f'<li class="warning" data-code="{escape(w["code"])}"><b>{escape(w["message"])}</b> '
        f"{escape(w['action'])}</li>"
        for w in warnings
    )


def _warnings_section(exploration: Exploration) -> str:
    warnings = exploration["warnings"]
    if not warnings:
        return '<section id="warnings"><h2>Warnings</h2><p>None: no column needs attention.</p></section>'
    return (
        f'<section id="warnings"><h2>Warnings ({len(warnings)})</h2>'
        f"<ul>{_warning_items(warnings)}</ul></section>"
    )


def _target_section(exploration: Exploration) -> str:
    target = exploration["target"]
    name = escape(target["name"])
    parts = [
        f'<section id="target"><h2>Target: {name}</h2>',
        f"<p>{escape(target['problem_type'])} problem; "
        + (
            f"{target['missing']} rows without a target value (preparation drops them).</p>"
            if target["missing"]
            else "every row has a target value.</p>"
        ),
    ]
    if target["classes"]:
        ratio = target["imbalance_ratio"]
        parts.append(
            _table(
                ["class", "rows", "share"],
                [[escape(c["value"]), c["count"], _percent(c["share"])] for c in target["classes"]],
            )
        )
        if ratio is not None:
            parts.append(f'<p class="muted">Largest class / smallest class: {escape(svg.fmt(ratio))}.</p>')
        parts.append(
            svg.bar_chart(
                [(c["value"], float(c["count"])) for c in target["classes"]], "Class balance", "rows"
            )
        )
    else:
        column = next(c for c in exploration["columns"] if c["role"] == "target")
        if column["numeric"] is not None:
            parts.append(histogram(column["numeric"]["histogram"], f"{target['name']}: distribution"))
    parts.append("</section>")
    return "".join(parts)


def _overview_section(exploration: Exploration, anchors: Mapping[str, str]) -> str:
    grouped = warnings_by_column(exploration)
    check = exploration["leakage_check"]
    metric = METRIC_NAMES.get(check["metric"], check["metric"])
    rows = []
    for column in exploration["columns"]:
        score = single_feature_score(column)
        codes = ", ".join(sorted({w["code"] for w in grouped.get(column["name"], [])}))
        rows.append(
            [
                f'<a href="#{anchors[column["name"]]}">{escape(column["name"])}</a>',
                escape(column["type"] + (" (target)" if column["role"] == "target" else "")),
                column["missing"],
                _percent(column["missing_share"]),
                column["unique"],
                score if score is not None else "",
                escape(codes),
            ]
        )
    ranked = by_single_feature_score(exploration["columns"])
    suspects = frozenset(w["column"] for w in exploration["warnings"] if w["code"] == "suspected_leakage")
    sampled = (
        f"a seeded sample of {check['rows']} of the rows" if check["sampled"] else f"all {check['rows']} rows"
    )
    return "".join(
        [
            f'<section id="overview"><h2>Columns ({len(exploration["columns"])})</h2>',
            _table(
                ["column", "type", "missing", "missing %", "unique", f"alone: {metric}", "warnings"],
                rows,
            ),
            svg.bar_chart(
                ranked[:MAX_SCORE_BARS],
                f"Each feature alone: held-out {metric} (best {min(MAX_SCORE_BARS, len(ranked))})",
                metric,
                frozenset(s for s in suspects if s is not None),
            ),
            f'<p class="muted">"Alone": {escape(check["model"])}, on {escape(sampled)}. '
            f"A feature at {escape(metric)} {escape(svg.fmt(check['threshold']))} or more, or a category "
            f"that names its rows' class (balanced accuracy {escape(svg.fmt(check['purity_threshold']))} "
            "or more), is flagged as suspected leakage.</p></section>",
        ]
    )


def _stats(column: ExplorationColumn) -> list[tuple[str, Any]]:
    stats: list[tuple[str, Any]] = [
        ("type", column["type"]),
        ("dtype", column["dtype"]),
        ("missing", f"{column['missing']} ({_percent(column['missing_share'])})"),
        ("unique", f"{column['unique']} ({_percent(column['unique_share'])} of present)"),
    ]
    numeric = column["numeric"]
    if numeric is not None:
        q = numeric["quantiles"]
        stats += [
            ("min", numeric["min"]),
            ("5%", q["p05"]),
            ("25%", q["p25"]),
            ("median", q["p50"]),
            ("75%", q["p75"]),
            ("95%", q["p95"]),
            ("max", numeric["max"]),
            ("mean", numeric["mean"]),
            ("std", numeric["std"]),
            ("zeros", numeric["zeros"]),
            ("infinite", numeric["infinite"]),
        ]
    categorical = column["categorical"]
    if categorical is not None and categorical["top"]:
        top = categorical["top"][0]
        stats.append(("most frequent", f"{top['value']} ({_percent(top['share'])})"))
        stats.append(("rows in other values", categorical["other_count"]))
    single = column["single_feature"]
    if single is not None and single["score"] is not None:
        stats.append((f"alone: {METRIC_NAMES.get(single['metric'], single['metric'])}", single["score"]))
    if column["target_purity"] is not None:
        stats.append(("target purity (balanced accuracy)", column["target_purity"]))
    return stats


def _chart(column: ExplorationColumn) -> str:
    if column["numeric"] is not None:
        return histogram(column["numeric"]["histogram"], f"{column['name']}: distribution")
    categorical = column["categorical"]
    top = categorical["top"] if categorical is not None else []
    items = [(c["value"], float(c["count"])) for c in top]
    if categorical is not None and categorical["other_count"]:
        items.append((f"(other {column['unique'] - len(top)} values)", float(categorical["other_count"])))
    return svg.bar_chart(items, f"{column['name']}: most frequent values", "rows")


def _column_section(column: ExplorationColumn, anchor: str, warnings: Sequence[ExplorationWarning]) -> str:
    role = " (target)" if column["role"] == "target" else ""
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(_text(value))}</td></tr>" for label, value in _stats(column)
    )
    notes = f'<ul class="column-warnings">{_warning_items(warnings)}</ul>' if warnings else ""
    return (
        f'<section class="column" id="{anchor}" data-column="{escape(column["name"])}">'
        f"<h3>{escape(column['name'])}{role}</h3>{notes}"
        f'<div class="column-body"><table class="stats"><tbody>{rows}</tbody></table>{_chart(column)}</div>'
        "</section>"
    )


def render_exploration(exploration: Exploration) -> str:
    """The whole page."""
    anchors = {c["name"]: f"column-{i}" for i, c in enumerate(exploration["columns"])}
    grouped = warnings_by_column(exploration)
    target = exploration["target"]
    body = [
        f"<h1>Data exploration: {escape(exploration['name'])}</h1>",
        f"<p>{exploration['rows']} rows, {len(exploration['columns'])} columns, from "
        f"{escape(exploration['source'])}. Target <b>{escape(target['name'])}</b> "
        f"({escape(target['problem_type'])}). Computed on the raw data, before any encoding.</p>",
        _warnings_section(exploration),
        _target_section(exploration),
        _overview_section(exploration, anchors),
        '<section id="columns"><h2>Each column</h2>',
        *(_column_section(c, anchors[c["name"]], grouped.get(c["name"], [])) for c in exploration["columns"]),
        "</section>",
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Data exploration: {escape(exploration['name'])}</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    )
