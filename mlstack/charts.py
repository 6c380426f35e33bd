"""The report's charts as PNG files (matplotlib, headless): tuning trials, leaderboard, confusion matrices."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: files only, and never a GUI backend in CI

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

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
