"""The report's charts as PNG files (matplotlib, headless): what report.html draws, from its documents."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: files only, and never a GUI backend in CI

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from handlers.common.leaderboard import hyperparameter_series
from mlstack.leaderboard import (
    TOP,
    autopilot_maximize,
    best_so_far,
    ranked,
    score,
    trial_objectives,
    tuning_maximize,
)

DPI = 80  # small files: the README embeds one, the HTML report has the full-resolution SVGs
BEST = "#2a9d8f"
OTHER = "#9aa5b1"
SERIES = ("#2e5eaa", "#d9822b", "#2e7d32", "#8e44ad", "#b00020")  # one per finalist


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def tuning_chart(board: Mapping[str, Any], path: Path) -> Path:
    """Objective of each trial in launch order, with the best-so-far line."""
    objectives = trial_objectives(board)
    maximize = tuning_maximize(board)
    metric = (board.get("tuning", {}).get("objective") or {}).get("MetricName", "objective")
    figure, axes = plt.subplots(figsize=(6, 3.2))
    xs = [i for i, v in enumerate(objectives, start=1) if v is not None]
    axes.scatter(xs, [v for v in objectives if v is not None], color=OTHER, label="trial", zorder=3)
    running = best_so_far(objectives, maximize)
    steps = [(i, v) for i, v in enumerate(running, start=1) if v is not None]
    if steps:
        axes.step([i for i, _ in steps], [v for _, v in steps], where="post", color=BEST, label="best so far")
    axes.set(title=f"Tuning: {metric} per trial", xlabel="trial (launch order)", ylabel=metric)
    axes.legend(loc="lower right" if maximize else "upper right")
    axes.grid(alpha=0.3)
    return _save(figure, path)


def _bars(
    axes: Any, entries: Sequence[Mapping[str, Any]], best: str | None, title: str, prefix: str = ""
) -> None:
    shown = [e for e in entries if score(e) is not None][:TOP][::-1]
    if not shown:
        axes.text(0.5, 0.5, "no scored entries", ha="center", va="center")
        axes.set_axis_off()
        axes.set_title(title)
        return
    values = [float(e["objective"]) for e in shown]
    colors = [BEST if e.get("name") == best else OTHER for e in shown]
    # Trial names repeat the tuning job's name: the rest is what tells them apart.
    labels = [str(e.get("name")).removeprefix(prefix)[-24:] for e in shown]
    axes.barh(labels, values, color=colors)
    low, high = min(values), max(values)
    margin = (high - low) * 0.5 or abs(high) * 0.05 or 0.1
    axes.set_xlim(low - margin, high + margin * 0.5)  # differences between good models are small
    axes.set_title(title)
    axes.tick_params(axis="y", labelsize=8)


def leaderboard_chart(board: Mapping[str, Any], evaluation: Mapping[str, Any], path: Path) -> Path:
    """Finalists on the test set, then tuning trials and Autopilot candidates on their own objectives."""
    tuning, autopilot = board.get("tuning", {}), board.get("autopilot", {})
    figure, (finals, trials, candidates) = plt.subplots(
        3, 1, figsize=(6, 7), gridspec_kw={"height_ratios": [1, 2, 2]}
    )
    metric = str(evaluation.get("winner_metric") or evaluation.get("primary_metric"))
    finalists = [
        {"name": variant, "objective": (entry.get("metrics") or {}).get(metric)}
        for variant, entry in (evaluation.get("variants") or {}).items()
    ]
    _bars(finals, finalists, evaluation.get("winner"), f"Finalists: test-set {metric} (winner highlighted)")
    trial_metric = (tuning.get("objective") or {}).get("MetricName", "objective")
    _bars(
        trials,
        ranked(tuning.get("trials") or [], tuning_maximize(board)),
        tuning.get("best"),
        f"Tuning trials: {trial_metric}",
        prefix=f"{tuning.get('job')}-",
    )
    candidate_metric = (autopilot.get("objective") or {}).get("MetricName", "objective")
    _bars(
        candidates,
        ranked(autopilot.get("candidates") or [], autopilot_maximize(board)),
        autopilot.get("best"),
        f"Autopilot candidates: {candidate_metric}",
    )
    return _save(figure, path)


def confusion_chart(matrix: Sequence[Sequence[int]], classes: Sequence[str], title: str, path: Path) -> Path:
    """Counts, rows = observed class, columns = predicted class (as evaluation.json stores it)."""
    size = len(matrix)
    labels = list(classes) if len(classes) == size else [str(i) for i in range(size)]
    figure, axes = plt.subplots(figsize=(2.2 + 0.45 * size, 1.8 + 0.45 * size))
    image = axes.imshow(matrix, cmap="Blues")
    peak = max((max(row) for row in matrix), default=0)
    for r, row in enumerate(matrix):
        for c, count in enumerate(row):
            color = "white" if count > peak / 2 else "black"
            axes.text(c, r, str(count), ha="center", va="center", color=color, fontsize=9)
    axes.set_xticks(range(size), labels, rotation=45 if size > 4 else 0)
    axes.set_yticks(range(size), labels)
    axes.set(title=title, xlabel="predicted", ylabel="observed")
    figure.colorbar(image, ax=axes, fraction=0.046)
    return _save(figure, path)


def file_name(text: str) -> str:
    """A variant name as a file name part."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower() or "variant"


def curves_chart(evaluation: Mapping[str, Any], path: Path) -> Path | None:
    """Binary: every finalist's ROC and precision-recall curves on the test set, side by side."""
    drawn = {v: e.get("insight") or {} for v, e in (evaluation.get("variants") or {}).items()}
    drawn = {v: block for v, block in drawn.items() if block.get("roc")}
    if not drawn:
        return None
    figure, (roc, pr) = plt.subplots(1, 2, figsize=(9, 4))
    for i, (variant, block) in enumerate(drawn.items()):
        auc = ((evaluation["variants"][variant].get("metrics") or {}).get("auc")) or 0.0
        color = SERIES[i % len(SERIES)]
        roc.plot(block["roc"]["x"], block["roc"]["y"], color=color, label=f"{variant} (AUC {auc:.3f})")
        precision = block.get("average_precision") or 0.0
        pr.plot(block["pr"]["x"], block["pr"]["y"], color=color, label=f"{variant} (AP {precision:.3f})")
    roc.plot([0, 1], [0, 1], color=OTHER, linestyle="--", linewidth=1)
    roc.set(title="ROC curve (test set)", xlabel="false positive rate", ylabel="true positive rate")
    pr.set(title="Precision-recall curve (test set)", xlabel="recall", ylabel="precision")
    for axes in (roc, pr):
        axes.set(xlim=(0, 1), ylim=(0, 1.02))
        axes.legend(loc="lower right" if axes is roc else "lower left", fontsize=8)
        axes.grid(alpha=0.3)
    return _save(figure, path)


def class_scores_chart(evaluation: Mapping[str, Any], path: Path) -> Path | None:
    """Multiclass: precision, recall and F1 of each class, a panel per finalist."""
    drawn: dict[str, list[Mapping[str, Any]]] = {
        v: list((e.get("insight") or {}).get("classes") or [])
        for v, e in (evaluation.get("variants") or {}).items()
        if (e.get("insight") or {}).get("classes")
    }
    if not drawn:
        return None
    figure, panels = plt.subplots(len(drawn), 1, figsize=(7, 2.6 * len(drawn)), squeeze=False)
    for axes, (variant, classes) in zip(panels[:, 0], drawn.items(), strict=True):
        names = [str(c["name"]) for c in classes]
        xs = range(len(names))
        for offset, (metric, color) in enumerate((("precision", OTHER), ("recall", SERIES[1]), ("f1", BEST))):
            axes.bar(
                [x + (offset - 1) * 0.27 for x in xs],
                [c[metric] for c in classes],
                0.27,
                label=metric,
                color=color,
            )
        axes.set_xticks(list(xs), names, rotation=45 if len(names) > 6 else 0, fontsize=8)
        axes.set(title=f"{variant}: each class against the rest (test set)", ylim=(0, 1.05))
        axes.legend(fontsize=7, ncols=3, loc="lower right")
    return _save(figure, path)


def prediction_chart(variant: str, insight: Mapping[str, Any], path: Path) -> Path | None:
    """Regression: predicted against actual (with the line of a perfect model) and the residuals."""
    actual, predicted = insight.get("actual") or [], insight.get("predicted") or []
    if not actual:
        return None
    figure, (scatter, residuals) = plt.subplots(1, 2, figsize=(9, 4))
    scatter.scatter(actual, predicted, s=8, alpha=0.5, color=SERIES[0])
    low, high = min(*actual, *predicted), max(*actual, *predicted)
    scatter.plot([low, high], [low, high], color=BEST, linestyle="--", linewidth=1)
    shown = f"{len(actual)} of {insight.get('rows')} test rows"
    scatter.set(title=f"{variant}: predicted against actual", xlabel=f"actual ({shown})", ylabel="predicted")
    residuals.scatter(predicted, [a - p for a, p in zip(actual, predicted, strict=True)], s=8, alpha=0.5)
    residuals.axhline(0, color=BEST, linestyle="--", linewidth=1)
    residuals.set(title=f"{variant}: residuals", xlabel="predicted", ylabel="actual - predicted")
    for axes in (scatter, residuals):
        axes.grid(alpha=0.3)
    return _save(figure, path)


def hyperparameters_chart(board: Mapping[str, Any], path: Path) -> Path | None:
    """Tuning: each hyperparameter against the objective, a point per trial, the best trial highlighted."""
    tuning = board.get("tuning") or {}
    series = hyperparameter_series(tuning)
    if not series:
        return None
    metric = (tuning.get("objective") or {}).get("MetricName", "objective")
    columns = min(3, len(series))
    rows = -(-len(series) // columns)
    figure, panels = plt.subplots(rows, columns, figsize=(3.3 * columns, 2.6 * rows), squeeze=False)
    for axes, one in zip(panels.flat, series, strict=False):
        xs: list[Any] = one.values if one.categorical else one.numbers
        axes.scatter(xs, one.objectives, s=14, color=OTHER, zorder=3)
        if one.best is not None:
            axes.scatter([xs[one.best]], [one.objectives[one.best]], s=40, color=BEST, zorder=4, label="best")
        if one.logarithmic:
            axes.set_xscale("log")
            axes.xaxis.set_minor_formatter(
                NullFormatter()
            )  # a narrow range labels its minor ticks over each other
        axes.set(title=one.name, ylabel=metric)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
    for axes in list(panels.flat)[len(series) :]:
        axes.set_axis_off()
    figure.suptitle(f"Tuning: each hyperparameter against {metric}", fontsize=10)
    return _save(figure, path)


def importance_chart(candidate: Mapping[str, Any], path: Path) -> Path | None:
    """An Autopilot candidate's feature importance (how much its objective drops without each feature)."""
    features = ((candidate.get("importance") or {}).get("features") or [])[::-1]
    if not features:
        return None
    figure, axes = plt.subplots(figsize=(6, 0.9 + 0.28 * len(features)))
    values = [float(f["importance"]) for f in features]
    axes.barh([str(f["feature"]) for f in features], values, color=[BEST if v > 0 else OTHER for v in values])
    axes.set(title=f"Autopilot {candidate.get('name')}: what it relies on", xlabel="importance")
    axes.tick_params(axis="y", labelsize=8)
    return _save(figure, path)


def data_chart(data: Mapping[str, Any], path: Path) -> Path | None:
    """The data as explored: each feature's score alone (suspected leakage highlighted)."""
    scored = sorted(
        (c for c in data.get("columns") or [] if c.get("single_feature") is not None),
        key=lambda c: float(c["single_feature"]),
    )[-TOP * 2 :]
    if data.get("status") != "read" or not scored:
        return None
    metric = {"auc": "AUC", "r2": "R²"}.get(str(data.get("single_feature_metric")), "score")
    figure, axes = plt.subplots(figsize=(6, 0.9 + 0.28 * len(scored)))
    colors = [BEST if "suspected_leakage" in (c.get("warnings") or []) else OTHER for c in scored]
    axes.barh([str(c["name"]) for c in scored], [float(c["single_feature"]) for c in scored], color=colors)
    axes.set(title=f"{data.get('name')}: each feature alone, held-out {metric}", xlabel=metric)
    axes.tick_params(axis="y", labelsize=8)
    return _save(figure, path)
