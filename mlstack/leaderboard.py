"""What `mlstack report` shows of leaderboard.json and evaluation.json: ranked rows, chart series (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlstack.tables import Rows, metrics_table, number

TOP = 10


def score(entry: Mapping[str, Any]) -> float | None:
    """The entry's objective as a number, None when it has none (booleans are not scores)."""
    value = entry.get("objective")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def ranked(entries: Sequence[Mapping[str, Any]], maximize: bool) -> list[Mapping[str, Any]]:
    """Best first; entries without an objective last, in their original order."""
    scored = [e for e in entries if score(e) is not None]
    unscored = [e for e in entries if score(e) is None]
    return sorted(scored, key=lambda e: score(e) or 0.0, reverse=maximize) + unscored


def tuning_maximize(board: Mapping[str, Any]) -> bool:
    return (board.get("tuning", {}).get("objective") or {}).get("Type") != "Minimize"


def autopilot_maximize(board: Mapping[str, Any]) -> bool:
    candidates = board.get("autopilot", {}).get("candidates") or []
    return not candidates or candidates[0].get("type") != "Minimize"


def best_so_far(objectives: Sequence[float | None], maximize: bool) -> list[float | None]:
    """The running best objective after each trial (None until one has a value)."""
    out: list[float | None] = []
    best: float | None = None
    for value in objectives:
        if value is not None and (best is None or (value > best if maximize else value < best)):
            best = value
        out.append(best)
    return out


def trial_objectives(board: Mapping[str, Any]) -> list[float | None]:
    """Objectives of the tuning trials in launch order (leaderboard.json keeps that order)."""
    return [score(t) for t in board.get("tuning", {}).get("trials") or []]


def leaderboard_table(board: Mapping[str, Any], top: int = TOP) -> Rows:
    """Tuning trials and Autopilot candidates, each ranked by its own objective (they differ)."""
    tuning, autopilot = board.get("tuning", {}), board.get("autopilot", {})
    rows: list[tuple[str, ...]] = []
    highlight: set[int] = set()
    sections = (
        ("tuning", tuning.get("trials") or [], tuning_maximize(board), tuning.get("best")),
        ("autopilot", autopilot.get("candidates") or [], autopilot_maximize(board), autopilot.get("best")),
    )
    for source, entries, maximize, best in sections:
        for rank, entry in enumerate(ranked(entries, maximize)[:top], start=1):
            if entry.get("name") == best:
                highlight.add(len(rows))
            rows.append(
                (
                    source,
                    str(rank),
                    str(entry.get("name")),
                    str(entry.get("status")),
                    str(entry.get("metric") or "-"),
                    number(entry.get("objective")),
                )
            )
    title = f"leaderboard (top {top} of each job; * = the job's best)"
    return Rows(title, ("job", "rank", "name", "status", "metric", "objective"), rows, frozenset(highlight))


def finalists_table(evaluation: Mapping[str, Any]) -> Rows:
    """Each finalist's metrics on the held-out test set; the winner highlighted."""
    by_variant: dict[str, Mapping[str, Any]] = {}
    for variant, entry in (evaluation.get("variants") or {}).items():
        by_variant[variant] = entry.get("metrics") or {"error": entry.get("error") or "not evaluated"}
    title = (
        f"test set ({evaluation.get('test_rows')} rows): winner {evaluation.get('winner')} "
        f"by {evaluation.get('winner_metric') or evaluation.get('primary_metric')}"
    )
    return metrics_table(by_variant, evaluation.get("winner"), title)


def confusion_matrices(evaluation: Mapping[str, Any]) -> dict[str, list[list[int]]]:
    """variant -> confusion matrix, for the variants that have one (classification only)."""
    out: dict[str, list[list[int]]] = {}
    for variant, entry in (evaluation.get("variants") or {}).items():
        matrix = (entry.get("metrics") or {}).get("confusion_matrix")
        if matrix:
            out[variant] = matrix
    return out
