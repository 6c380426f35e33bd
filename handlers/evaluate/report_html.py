"""report.html: one self-contained page (inline CSS and SVG, no scripts, fonts or external files).

Drawn from the run's documents alone (evaluation.json, leaderboard.json): a recorded run renders the
same page again. Every section is a <section id=...>, every chart an <svg data-chart=...>.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from handlers.common.leaderboard import hyperparameter_series, shown_value
from handlers.evaluate import svg
from handlers.evaluate.threshold import DEFAULT_THRESHOLD

MAX_BARS = 15
MAX_TABLE_ROWS = 25
MAX_SCORE_BARS = 20
METRIC_COLUMNS = {
    "binary": ("auc", "accuracy", "precision", "recall", "f1"),
    "multiclass": ("macro_f1", "accuracy"),
    "regression": ("rmse", "mae", "r2"),
}
METRIC_NAMES = {"auc": "AUC", "r2": "R²"}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:980px;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;font-size:.85rem;text-align:left}th{background:#f3f3f3}
.winner{background:#e8f5e9}.error{color:#b00020}.chart{display:block;margin:.75rem 0;max-width:100%}
.chart-title{font-size:13px;font-weight:600}.tick{font-size:10px}.axis-label{font-size:11px}
.muted{color:#666}
"""
EXTRA_STYLE = """
h3{font-size:1rem;margin:1.25rem 0 .25rem}.charts{display:flex;flex-wrap:wrap;gap:.5rem}
.charts .chart{flex:1 1 460px;min-width:0;height:auto}.candidate{border-top:1px solid #ddd;margin-top:1rem}
.warning b{color:#b00020}.warning{margin:.35rem 0}td.num{text-align:right}
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
        return ", ".join(f"{k}={shown_value(v)}" for k, v in sorted(value.items()))
    return str(value)


def _section(anchor: str, title: str, *parts: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{"".join(parts)}</section>'


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


def _why(evaluation: Mapping[str, Any], metric: str) -> str:
    """The winner's margin over each other finalist, on the metric that chose it."""
    winner = evaluation.get("winner")
    variants = evaluation.get("variants") or {}
    best = ((variants.get(winner) or {}).get("metrics") or {}).get(metric)
    if winner is None or not isinstance(best, int | float):
        return ""
    margins = []
    for variant, entry in variants.items():
        value = (entry.get("metrics") or {}).get(metric)
        if variant != winner and isinstance(value, int | float):
            margins.append(
                f"{variant} {svg.fmt(value)} ({svg.fmt(best - value)} less)"
                if evaluation.get("higher_is_better", True)
                else f"{variant} {svg.fmt(value)} ({svg.fmt(value - best)} more)"
            )
        elif variant != winner:
            margins.append(f"{variant} not scored: {entry.get('error')}")
    return (
        f'<p id="why">{escape(str(winner))} won with {escape(metric)} {escape(svg.fmt(best))}'
        + (f"; {escape('; '.join(margins))}" if margins else "")
        + ". The sections below show how each finalist behaves on the test set, what the data was, "
        "and what each job tried.</p>"
    )


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
    return _section("thresholds", "Decision threshold and class weight", f"<ul>{''.join(items)}</ul>")


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
    return _section(
        "cost",
        "What this run cost",
        f'<p class="muted">{escape(where)}</p>',
        _table(["part", "what", "cost"], rows, len(rows) - 1),
        f"<ul>{items}</ul>" if items else "",
    )


def _sorted_by_objective(entries: Sequence[Mapping[str, Any]], maximize: bool) -> list[Mapping[str, Any]]:
    scored = [e for e in entries if isinstance(e.get("objective"), int | float)]
    return sorted(scored, key=lambda e: float(e["objective"]), reverse=maximize)


# --- how each finalist behaves on the test set -------------------------------------------------------


def _binary_insight(evaluation: Mapping[str, Any]) -> list[str]:
    roc, pr, notes = [], [], []
    for variant, entry in evaluation["variants"].items():
        block = entry.get("insight") or {}
        auc = (entry.get("metrics") or {}).get("auc")
        if block.get("roc"):
            roc.append((f"{variant} (AUC {svg.fmt(auc)})", block["roc"]["x"], block["roc"]["y"]))
            pr.append(
                (
                    f"{variant} (AP {svg.fmt(block.get('average_precision'))})",
                    block["pr"]["x"],
                    block["pr"]["y"],
                )
            )
        elif block.get("reason"):
            notes.append(f"{variant}: {block['reason']}")
    parts = [
        '<div class="charts">',
        svg.curve_chart(
            "roc",
            roc,
            "ROC curve on the test set",
            "false positive rate",
            "true positive rate",
            diagonal=True,
        ),
        svg.curve_chart(
            "pr", pr, "Precision-recall curve on the test set", "recall", "precision", legend="bottom-left"
        ),
        "</div>",
        '<p class="muted">A curve further up and to the left (ROC) or up and to the right (precision-recall) '
        "ranks the positive class better at every threshold. AP: average precision.</p>",
    ]
    parts += [f'<p class="muted">{escape(n)}</p>' for n in notes]
    return parts


def _multiclass_insight(evaluation: Mapping[str, Any]) -> list[str]:
    parts: list[str] = []
    bars: list[tuple[str, float]] = []
    for variant, entry in evaluation["variants"].items():
        classes = (entry.get("insight") or {}).get("classes") or []
        if not classes:
            continue
        parts.append(f"<h3>{escape(variant)}: each class against the rest</h3>")
        parts.append(
            _table(
                ["class", "precision", "recall", "F1", "test rows", "predicted as it"],
                [
                    [c["name"], c["precision"], c["recall"], c["f1"], c["support"], c["predicted"]]
                    for c in classes
                ],
            )
        )
        bars += [(f"{c['name']} · {variant}", float(c["f1"])) for c in classes]
    if bars:
        bars.sort(key=lambda b: b[0])
        parts.insert(0, svg.bar_chart(bars, "F1 of each class, per finalist", "F1", kind="class-scores"))
    return parts


def _regression_insight(evaluation: Mapping[str, Any]) -> list[str]:
    parts = ['<div class="charts">']
    for variant, entry in evaluation["variants"].items():
        block = entry.get("insight") or {}
        actual, predicted = block.get("actual") or [], block.get("predicted") or []
        if not actual:
            continue
        shown = f"{len(actual)} of {block.get('rows')} test rows"
        parts.append(
            svg.scatter_chart(
                "predicted-actual",
                actual,
                predicted,
                f"{variant}: predicted against actual ({shown})",
                "actual",
                "predicted",
                identity=True,
            )
        )
        parts.append(
            svg.residual_chart(
                predicted,
                [a - p for a, p in zip(actual, predicted, strict=True)],
                f"{variant}: residuals ({shown})",
            )
        )
    parts.append("</div>")
    return parts


def _confusion_matrices(evaluation: Mapping[str, Any]) -> list[str]:
    classes = list(evaluation.get("classes") or [])
    charts = []
    for variant, entry in evaluation["variants"].items():
        metrics = entry.get("metrics") or {}
        if not metrics.get("confusion_matrix"):
            continue
        charts.append(
            svg.heatmap(
                metrics["confusion_matrix"], classes, f"{variant}: confusion matrix at {DEFAULT_THRESHOLD}"
            )
            if evaluation["problem_type"] == "binary"
            else svg.heatmap(metrics["confusion_matrix"], classes, f"{variant}: confusion matrix")
        )
        at = metrics.get("at_threshold") or {}
        if at.get("threshold") is not None:
            label = (
                f"{variant}: confusion matrix at {svg.fmt(at['threshold'])} (chosen on the validation set)"
            )
            charts.append(svg.heatmap(at["confusion_matrix"], classes, label))
    return charts


def _insight_section(evaluation: Mapping[str, Any]) -> str:
    problem_type = str(evaluation["problem_type"])
    body = {
        "binary": _binary_insight,
        "multiclass": _multiclass_insight,
        "regression": _regression_insight,
    }[problem_type](evaluation)
    matrices = ['<div class="charts">', *_confusion_matrices(evaluation), "</div>"]
    return _section("insight", "How each finalist behaves on the test set", *body, *matrices)


# --- the data ------------------------------------------------------------------------------------------


def _data_section(evaluation: Mapping[str, Any]) -> str:
    data = evaluation.get("data")
    if not isinstance(data, Mapping):
        return _section(
            "data", "The data", '<p class="muted">This run\'s evaluation predates data summaries.</p>'
        )
    if data.get("status") != "read":
        return _section("data", "The data", f'<p class="muted">{escape(str(data.get("reason")))}</p>')
    metric = METRIC_NAMES.get(str(data.get("single_feature_metric")), str(data.get("single_feature_metric")))
    warnings = data.get("warnings") or []
    items = "".join(
        f'<li class="warning" data-code="{escape(str(w["code"]))}"><b>{escape(str(w["message"]))}</b> '
        f"{escape(str(w['action']))}</li>"
        for w in warnings
    )
    columns = data.get("columns") or []
    ranked = sorted(
        (
            (str(c["name"]), float(c["single_feature"]))
            for c in columns
            if c.get("single_feature") is not None
        ),
        key=lambda item: -item[1],
    )
    suspects = frozenset(str(w.get("column")) for w in warnings if w.get("code") == "suspected_leakage")
    parts = [
        f"<p>{data.get('rows')} rows and {data.get('column_count')} columns of "
        f"{escape(str(data.get('name')))} before encoding, target <b>{escape(str(data.get('target')))}</b>, "
        "as <code>mlstack data prepare</code> explored them "
        f'(<span class="muted">{escape(str(data.get("source")))}</span>).</p>',
        f"<h3>Warnings ({len(warnings)})</h3>",
        f"<ul>{items}</ul>" if items else "<p>None: no column needs attention.</p>",
    ]
    classes = data.get("classes") or []
    if classes:
        parts.append(
            svg.bar_chart(
                [(str(c["value"]), float(c["count"])) for c in classes],
                "Class balance",
                "rows",
                kind="class-balance",
            )
        )
    if ranked:
        parts.append(
            svg.bar_chart(
                ranked[:MAX_SCORE_BARS],
                f"Each feature alone: held-out {metric} (best {min(MAX_SCORE_BARS, len(ranked))})",
                metric,
                suspects,
                kind="single-feature",
            )
        )
    parts.append(
        _table(
            [
                "column",
                "type",
                "missing",
                "unique",
                "min / median / max or most frequent",
                f"alone: {metric}",
                "warnings",
            ],
            [
                [
                    c["name"] + (" (target)" if c.get("role") == "target" else ""),
                    c.get("type"),
                    f"{c.get('missing')} ({float(c.get('missing_share') or 0):.1%})",
                    c.get("unique"),
                    c.get("summary"),
                    c.get("single_feature"),
                    ", ".join(c.get("warnings") or []),
                ]
                for c in columns
            ],
        )
    )
    if int(data.get("column_count") or 0) > len(columns):
        parts.append(f'<p class="muted">The first {len(columns)} of {data.get("column_count")} columns.</p>')
    return _section("data", "The data", *parts)


# --- the tuning job --------------------------------------------------------------------------------------


def hyperparameter_charts(tuning: Mapping[str, Any]) -> list[str]:
    """Each tuned hyperparameter against the objective, one point per trial, the best trial highlighted."""
    metric = str((tuning.get("objective") or {}).get("MetricName", "objective"))
    charts = []
    for series in hyperparameter_series(tuning):
        title = f"{series.name} against {metric}"
        if series.categorical:
            charts.append(
                svg.category_chart(
                    "hyperparameter", series.values, series.objectives, title, series.name, metric
                )
            )
        else:
            charts.append(
                svg.scatter_chart(
                    "hyperparameter",
                    series.numbers,
                    series.objectives,
                    title,
                    series.name,
                    metric,
                    log_x=series.logarithmic,
                    highlight=series.best,
                )
            )
    return charts


def _tuned(tuning: Mapping[str, Any]) -> str:
    """What the tuning job trained: the run's own script in its framework's container, or built-in XGBoost."""
    script = tuning.get("script")
    if not script:
        return "Built-in XGBoost"
    container = f"{script.get('framework')} {script.get('framework_version')}"
    return f"Your script {script.get('entry_point')} ({container})"


def _tuning_section(board: Mapping[str, Any]) -> str:
    tuning = board["tuning"]
    metric = str(tuning["objective"].get("MetricName", "objective"))
    maximize = tuning["objective"].get("Type") == "Maximize"
    trials = tuning["trials"]
    ranked = _sorted_by_objective(trials, maximize)
    ended = f" Ended: {tuning['ended']}." if tuning.get("ended") else ""
    warm = tuning.get("warm_start") or {}
    parents = [
        p.get("HyperParameterTuningJobName", "?") for p in warm.get("ParentHyperParameterTuningJobs", [])
    ]
    if parents:
        ended += f" Warm-started ({warm.get('WarmStartType')}) from {', '.join(parents)}."
    return _section(
        "tuning",
        f"Tuning job {tuning['job']}",
        f'<p class="muted">{escape(_tuned(tuning))}: {len(trials)} trials '
        f"({escape(str(tuning.get('strategy') or '-'))} search); "
        f"objective {escape(metric)} ({'higher' if maximize else 'lower'} is better); best: "
        f"{escape(_text(tuning.get('best')))}.{escape(ended)}</p>",
        *(f'<p class="muted">{escape(str(note))}</p>' for note in tuning.get("notes") or []),
        svg.trials_chart([t.get("objective") for t in trials], maximize, "Objective per trial", metric),
        "<h3>What each hyperparameter did</h3>",
        '<div class="charts">',
        *hyperparameter_charts(tuning),
        "</div>",
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
    )


# --- the Autopilot job ------------------------------------------------------------------------------------


def _candidate(candidate: Mapping[str, Any], metric: str) -> str:
    """One candidate: its steps, its definition (preprocessing, algorithm, hyperparameters), its reliance."""
    name = str(candidate["name"])
    parts = [
        f'<section class="candidate" data-candidate="{escape(name)}">',
        f"<h3>{escape(name)}: {escape(metric)} {escape(_text(candidate.get('objective')))}</h3>",
    ]
    steps = candidate.get("steps") or []
    parts.append(
        _table(
            ["step", "type", "name"],
            [[i, s.get("type"), s.get("name")] for i, s in enumerate(steps, start=1)],
        )
        if steps
        else '<p class="muted">SageMaker lists no steps for it.</p>'
    )
    definition = candidate.get("definition")
    if isinstance(definition, Mapping):
        parts.append(
            f'<p class="algorithm"><b>Algorithm:</b> {escape(str(definition.get("algorithm")))} '
            f'<span class="muted">({escape(str(definition.get("model_type")))}, '
            f"{escape(str(definition.get('library')))}; {definition.get('features')} inputs)</span></p>"
        )
        ensemble = definition.get("ensemble")
        if isinstance(ensemble, Mapping):
            parts.append(
                "<p><b>Ensemble:</b> "
                + escape(", ".join(f"{k} weight {svg.fmt(float(v))}" for k, v in ensemble.items()))
                + "</p>"
            )
        steps_done = definition.get("preprocessing") or []
        if steps_done:
            items = "".join(
                f"<li><b>{escape(str(p.get('step')))}</b>: {escape(str(p.get('does')))} "
                f'<span class="muted">({escape(", ".join(p.get("columns") or []))})</span></li>'
                for p in steps_done
            )
            parts.append(f'<p><b>Preprocessing</b>, in order:</p><ol class="preprocessing">{items}</ol>')
        hyperparameters = definition.get("hyperparameters") or {}
        if hyperparameters:
            parts.append(_table(["hyperparameter", "value"], [[k, v] for k, v in hyperparameters.items()]))
    validation = candidate.get("validation")
    if isinstance(validation, Mapping) and validation.get("metrics"):
        rows = validation.get("rows")
        parts.append(f"<p><b>On the {rows} validation rows:</b></p>")
        parts.append(_table(list(validation["metrics"]), [list(validation["metrics"].values())]))
    importance = candidate.get("importance")
    if isinstance(importance, Mapping) and importance.get("features"):
        parts.append(
            svg.bar_chart(
                [(str(f["feature"]), float(f["importance"])) for f in importance["features"]],
                f"{name}: what it relies on",
                "importance",
                kind="importance",
            )
        )
        parts.append(f'<p class="muted">{escape(str(importance.get("method")))}</p>')
    parts += [f'<p class="muted">{escape(str(n))}</p>' for n in candidate.get("notes") or []]
    parts.append("</section>")
    return "".join(parts)


def _autopilot_section(board: Mapping[str, Any]) -> str:
    autopilot = board["autopilot"]
    candidates = autopilot["candidates"]
    maximize = not candidates or candidates[0].get("type") == "Maximize"
    metric = str(autopilot["objective"].get("MetricName", "objective"))
    ranked = _sorted_by_objective(candidates, maximize)
    described = [c for c in ranked if any(k in c for k in ("definition", "importance", "notes"))]
    return _section(
        "autopilot",
        f"Autopilot job {autopilot['job']}",
        f'<p class="muted">{len(candidates)} candidates; objective {escape(metric)}; '
        f"best: {escape(_text(autopilot.get('best')))}</p>",
        svg.bar_chart(
            [(str(c["name"]), float(c["objective"])) for c in ranked[:MAX_BARS]],
            f"Leaderboard: best {min(MAX_BARS, len(ranked))} candidates",
            metric,
            frozenset({str(autopilot.get("best"))}),
        ),
        _table(
            ["candidate", "status", metric, "algorithm", "steps", "seconds"],
            [
                [
                    c["name"],
                    c.get("status"),
                    c.get("objective"),
                    (c.get("definition") or {}).get("algorithm"),
                    len(c.get("steps") or []),
                    c.get("seconds"),
                ]
                for c in ranked[:MAX_TABLE_ROWS]
            ],
        ),
        f"<h3>The best {len(described)} candidates, step by step</h3>" if described else "",
        *(_candidate(c, metric) for c in described),
    )


def render_report(evaluation: Mapping[str, Any], board: Mapping[str, Any]) -> str:
    """The whole page, from evaluation.json and leaderboard.json."""
    problem_type = str(evaluation["problem_type"])
    primary = str(evaluation.get("winner_metric") or evaluation["primary_metric"])
    bars = [
        (variant, float(entry["metrics"][primary]))
        for variant, entry in evaluation["variants"].items()
        if isinstance((entry.get("metrics") or {}).get(primary), int | float)
    ]
    winner = evaluation.get("winner")
    warnings = "".join(f'<li class="error">{escape(w)}</li>' for w in board.get("warnings", []))
    body = [
        f"<h1>ML Stack run {escape(str(evaluation['run_id']))}</h1>",
        f"<p>{escape(problem_type)} problem, target <b>{escape(str(evaluation['target']))}</b>, "
        f"{evaluation['test_rows']} test rows. Winner on the test set by {escape(primary)}: "
        f"<b>{escape(_text(winner))}</b>"
        + (f" ({escape(str(evaluation['winner_rule']))})" if evaluation.get("winner_rule") else "")
        + ".</p>",
        _why(evaluation, primary),
        _section(
            "finalists",
            "Finalists on the same test set",
            _finalists(evaluation),
            svg.bar_chart(bars, f"Test set {primary} per variant", primary, frozenset({str(winner)})),
        ),
        _threshold_section(evaluation),
        _insight_section(evaluation),
        _data_section(evaluation),
        _tuning_section(board),
        _autopilot_section(board),
        _cost_section(evaluation),
        _section("warnings", "Warnings", f"<ul>{warnings}</ul>") if warnings else "",
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>ML Stack report {escape(str(evaluation['run_id']))}</title>"
        f"<style>{STYLE}{EXTRA_STYLE}</style></head><body>{''.join(body)}</body></html>"
    )
