"""report.html: one self-contained page (inline CSS and SVG, no scripts, fonts or external files)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from handlers.evaluate import svg
from handlers.evaluate.scoring import VariantResult
from handlers.evaluate.threshold import DEFAULT_THRESHOLD

MAX_BARS = 15
MAX_TABLE_ROWS = 25
MAX_RESIDUAL_POINTS = 2000
METRIC_COLUMNS = {
    "binary": ("auc", "accuracy", "precision", "recall", "f1"),
    "multiclass": ("macro_f1", "accuracy"),
    "regression": ("rmse", "mae", "r2"),
}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:980px;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;font-size:.85rem;text-align:left}th{background:#f3f3f3}
.winner{background:#e8f5e9}.error{color:#b00020}.chart{display:block;margin:.75rem 0;max-width:100%}
.chart-title{font-size:13px;font-weight:600}.tick{font-size:10px}.axis-label{font-size:11px}
.muted{color:#666}
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], highlight: int | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="winner"' if i == highlight else ""
        cells = "".join(f"<td>{escape(_text(v))}</td>" for v in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _text(value: Any) -> str:
    if isinstance(value, float):
        return svg.fmt(value)
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def _finalists(evaluation: Mapping[str, Any]) -> str:
    """One row per variant; binary ones get a second row at the threshold chosen on the validation set."""
    problem_type = str(evaluation["problem_type"])
    columns = METRIC_COLUMNS[problem_type]
    binary = problem_type == "binary"
    rows: list[list[Any]] = []
    winner_row: int | None = None
    for variant, entry in evaluation["variants"].items():
        values = entry.get("metrics") or {}
        if variant == evaluation.get("winner"):
            winner_row = len(rows)
        threshold = [DEFAULT_THRESHOLD] if binary else []
        rows.append(
            [variant, entry["kind"], *threshold, *(values.get(c) for c in columns), entry.get("error") or ""]
        )
        at = values.get("at_threshold")
        if binary and isinstance(at, Mapping):
            chosen = at.get("threshold")
            label = f"{svg.fmt(chosen)} (validation)" if chosen is not None else "-"
            cells = [at.get(c) if chosen is not None and c != "auc" else "" for c in columns]
            note = "" if chosen is not None else f"no threshold: {at.get('reason')}"
            rows.append([variant, entry["kind"], label, *cells, note])
    headers = ["variant", "kind", *(["threshold"] if binary else []), *columns, "error / note"]
    return _table(headers, rows, winner_row)


def _threshold_section(evaluation: Mapping[str, Any]) -> str:
    """How the thresholds and the class weight were set (binary runs)."""
    block = evaluation.get("decision_threshold")
    if not isinstance(block, Mapping):
        return ""
    default, rule = svg.fmt(block.get("default")), escape(str(block["rule"]))
    items = [f"<li>First row of each finalist: threshold {default}. Second row: {rule}.</li>"]
    if block.get("error"):
        items.append(f'<li class="error">No thresholds chosen: {escape(str(block["error"]))}</li>')
    else:
        items.append(f"<li>Validation set: {block.get('validation_rows')} rows.</li>")
    for variant, entry in evaluation["variants"].items():
        choice = entry.get("threshold_choice")
        if isinstance(choice, Mapping):
            caveat = ""
            if entry["kind"] == "autopilot":
                # Its training data (the autopilot channel) is train + validation: the rows it is tuned on.
                caveat = (
                    " Autopilot trained on these rows too, so its threshold is chosen on rows it has seen."
                )
            items.append(
                f"<li>{escape(variant)}: F1 {svg.fmt(choice.get('f1'))} on the validation set "
                f"({choice.get('positives')} positive of {choice.get('rows')} rows).{escape(caveat)}</li>"
            )
    weight = evaluation.get("scale_pos_weight")
    if isinstance(weight, Mapping):
        value = weight.get("value")
        shown = f"scale_pos_weight = {value}" if value is not None else "scale_pos_weight"
        items.append(f"<li>Tuning: {escape(shown)}, {escape(str(weight.get('how')))}.</li>")
    return f"<h2>Decision threshold and class weight</h2><ul>{''.join(items)}</ul>"


def _cost_section(evaluation: Mapping[str, Any]) -> str:
    """What the run cost (billable training time, endpoint time) beside its bound, and per finalist."""
    from contracts.costs import money  # the contract's own formatting, as the CLI prints it

    cost = evaluation.get("cost")
    if not isinstance(cost, Mapping):
        return ""
    actual, bound = cost.get("actual") or {}, cost.get("estimate") or {}
    endpoint = actual.get("endpoint") or {}
    rows = [
        [
            "tuning",
            f"{(actual.get('tuning') or {}).get('jobs', 0)} training job(s)",
            money((actual.get("tuning") or {}).get("usd")),
        ],
        [
            "autopilot",
            f"{(actual.get('autopilot') or {}).get('jobs', 0)} job(s)",
            money((actual.get("autopilot") or {}).get("usd")),
        ],
        [
            "endpoint",
            f"{endpoint.get('instance_type', '-')}, {_text(endpoint.get('seconds'))} s InService",
            money(endpoint.get("usd")),
        ],
        *(
            [f"finalist {variant}", f"{entry.get('kind')} jobs + its variant", money(entry.get("usd"))]
            for variant, entry in (actual.get("per_finalist") or {}).items()
        ),
        ["total", f"bound {money(bound.get('total_usd'))}", money(actual.get("total_usd"))],
    ]
    notes = [str(cost.get("endpoint_span") or ""), *(str(u) for u in actual.get("unknown") or [])]
    notes += [str(n) for n in actual.get("notes") or []]
    if cost.get("offline_note"):
        notes.append(str(cost["offline_note"]))
    items = "".join(f"<li>{escape(n)}</li>" for n in notes if n)
    where = f"on-demand prices in {actual.get('region')} as of {actual.get('prices_as_of')}"
    return (
        f'<h2>What this run cost</h2><p class="muted">{escape(where)}</p>'
        + _table(["part", "what", "cost"], rows, len(rows) - 1)
        + (f"<ul>{items}</ul>" if items else "")
    )


def _sorted_by_objective(entries: Sequence[Mapping[str, Any]], maximize: bool) -> list[Mapping[str, Any]]:
    scored = [e for e in entries if isinstance(e.get("objective"), int | float)]
    return sorted(scored, key=lambda e: float(e["objective"]), reverse=maximize)


def _tuning_section(board: Mapping[str, Any]) -> str:
    tuning = board["tuning"]
    metric = str(tuning["objective"].get("MetricName", "objective"))
    maximize = tuning["objective"].get("Type") == "Maximize"
    trials = tuning["trials"]
    ranked = _sorted_by_objective(trials, maximize)
    parts = [
        f"<h2>Tuning job {escape(tuning['job'])}</h2>",
        f'<p class="muted">{len(trials)} trials; objective {escape(metric)} '
        f"({'higher' if maximize else 'lower'} is better); best: {escape(_text(tuning.get('best')))}</p>",
        svg.trials_chart([t.get("objective") for t in trials], maximize, "Objective per trial", metric),
        svg.bar_chart(
            [(str(t["name"]), float(t["objective"])) for t in ranked[:MAX_BARS]],
            f"Leaderboard: best {min(MAX_BARS, len(ranked))} trials",
            metric,
            frozenset({str(tuning.get("best"))}),
        ),
        _table(
            ["trial", "status", metric, "seconds", "hyperparameters"],
            [
                [t["name"], t.get("status"), t.get("objective"), t.get("seconds"), t.get("hyperparameters")]
                for t in (ranked + [t for t in trials if t not in ranked])[:MAX_TABLE_ROWS]
            ],
        ),
    ]
    return "".join(parts)


def _autopilot_section(board: Mapping[str, Any]) -> str:
    autopilot = board["autopilot"]
    candidates = autopilot["candidates"]
    maximize = not candidates or candidates[0].get("type") == "Maximize"
    metric = str(autopilot["objective"].get("MetricName", "objective"))
    ranked = _sorted_by_objective(candidates, maximize)
    return "".join(
        [
            f"<h2>Autopilot job {escape(autopilot['job'])}</h2>",
            f'<p class="muted">{len(candidates)} candidates; objective {escape(metric)}; '
            f"best: {escape(_text(autopilot.get('best')))}</p>",
            svg.bar_chart(
                [(str(c["name"]), float(c["objective"])) for c in ranked[:MAX_BARS]],
                f"Leaderboard: best {min(MAX_BARS, len(ranked))} candidates",
                metric,
                frozenset({str(autopilot.get("best"))}),
            ),
            _table(
                ["candidate", "status", metric],
                [[c["name"], c.get("status"), c.get("objective")] for c in ranked[:MAX_TABLE_ROWS]],
            ),
        ]
    )


def _variant_charts(
    problem_type: str, classes: Sequence[str], labels: Sequence[float], result: VariantResult
) -> str:
    title = f"{result.variant}"
    if result.metrics is None or result.predictions is None:
        return ""
    if problem_type == "regression":
        predicted = result.predictions.values or []
        step = max(1, len(predicted) // MAX_RESIDUAL_POINTS)
        pairs = list(zip(predicted, labels, strict=True))[::step]
        return svg.residual_chart(
            [p for p, _ in pairs], [y - p for p, y in pairs], f"{title}: residuals on the test set"
        )
    charts = [
        svg.heatmap(
            result.metrics["confusion_matrix"],
            list(classes),
            f"{title}: confusion matrix at {DEFAULT_THRESHOLD}",
        )
    ]
    at = result.metrics.get("at_threshold") or {}
    if at.get("threshold") is not None:
        label = f"{title}: confusion matrix at {svg.fmt(at['threshold'])} (chosen on the validation set)"
        charts.append(svg.heatmap(at["confusion_matrix"], list(classes), label))
    return "".join(charts)


def render_report(
    evaluation: Mapping[str, Any],
    board: Mapping[str, Any],
    results: Sequence[VariantResult],
    labels: Sequence[float],
) -> str:
    """The whole page."""
    problem_type = str(evaluation["problem_type"])
    classes = list(evaluation.get("classes") or [])
    primary = evaluation.get("winner_metric") or evaluation["primary_metric"]
    bars = [
        (r.variant, float(r.metrics[primary]))
        for r in results
        if r.metrics is not None and r.metrics.get(primary) is not None
    ]
    winner = evaluation.get("winner")
    warnings = "".join(f'<li class="error">{escape(w)}</li>' for w in board.get("warnings", []))
    body = [
        f"<h1>ML Stack run {escape(str(evaluation['run_id']))}</h1>",
        f"<p>{escape(problem_type)} problem, target <b>{escape(str(evaluation['target']))}</b>, "
        f"{evaluation['test_rows']} test rows. Winner on the test set by {escape(str(primary))}: "
        f"<b>{escape(_text(winner))}</b>"
        + (f" ({escape(str(evaluation['winner_rule']))})" if evaluation.get("winner_rule") else "")
        + ".</p>",
        "<h2>Finalists on the same test set</h2>",
        _finalists(evaluation),
        _threshold_section(evaluation),
        svg.bar_chart(bars, f"Test set {primary} per variant", str(primary), frozenset({str(winner)})),
        *(_variant_charts(problem_type, classes, labels, r) for r in results),
        _tuning_section(board),
        _autopilot_section(board),
        _cost_section(evaluation),
        f"<h2>Warnings</h2><ul>{warnings}</ul>" if warnings else "",
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>ML Stack report {escape(str(evaluation['run_id']))}</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    )
