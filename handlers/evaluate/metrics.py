"""Metrics by problem type, in plain Python (no numpy in the Lambda); matches scikit-learn's definitions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# The metric that picks the winner, and whether higher is better.
PRIMARY: dict[str, tuple[str, bool]] = {
    "binary": ("auc", True),
    "multiclass": ("macro_f1", True),
    "regression": ("rmse", False),
}
# Used when the primary metric is undefined (AUC on a test set with a single class).
FALLBACK: dict[str, tuple[str, bool]] = {"binary": ("accuracy", True)}


def _ratio(numerator: float, denominator: float) -> float:
    # scikit-learn's zero_division default: an undefined ratio counts as 0.
    return numerator / denominator if denominator else 0.0


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], k: int) -> list[list[int]]:
    """K x K counts: row = observed class, column = predicted class (as pandas.crosstab lays it out)."""
    matrix = [[0] * k for _ in range(k)]
    for actual, predicted in zip(y_true, y_pred, strict=True):
        matrix[actual][predicted] += 1
    return matrix


def _average_ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1  # ties share their average rank
        start = end + 1
    return ranks


def roc_auc(y_true: Sequence[int], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve from ranks (Mann-Whitney U); None when only one class is present."""
    positives = sum(1 for y in y_true if y == 1)
    negatives = len(y_true) - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = _average_ranks(scores)
    rank_sum = sum(r for r, y in zip(ranks, y_true, strict=True) if y == 1)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def binary_metrics(y_true: Sequence[int], y_pred: Sequence[int], scores: Sequence[float]) -> dict[str, Any]:
    """Accuracy, precision, recall, F1 (positive class 1), ROC AUC and the 2 x 2 confusion matrix."""
    matrix = confusion_matrix(y_true, y_pred, 2)
    (tn, fp), (fn, tp) = matrix
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return {
        "accuracy": _ratio(tp + tn, len(y_true)),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "auc": roc_auc(y_true, scores),
        "confusion_matrix": matrix,
    }


def multiclass_metrics(y_true: Sequence[int], y_pred: Sequence[int], k: int) -> dict[str, Any]:
    """Accuracy, macro-F1 (over the classes seen in truth or predictions) and the K x K confusion matrix."""
    matrix = confusion_matrix(y_true, y_pred, k)
    seen = sorted(set(y_true) | set(y_pred))
    f1s = []
    for c in seen:
        tp = matrix[c][c]
        predicted = sum(matrix[r][c] for r in range(k))
        actual = sum(matrix[c])
        precision, recall = _ratio(tp, predicted), _ratio(tp, actual)
        f1s.append(_ratio(2 * precision * recall, precision + recall))
    return {
        "accuracy": _ratio(sum(matrix[c][c] for c in range(k)), len(y_true)),
        "macro_f1": _ratio(sum(f1s), len(f1s)),
        "confusion_matrix": matrix,
    }


def regression_metrics(y_true: Sequence[float], y_pred: Sequence[float]) -> dict[str, Any]:
    """RMSE, MAE and R² (1 for a perfect fit of a constant target, else 0 there, as scikit-learn)."""
    n = len(y_true)
    errors = [p - t for t, p in zip(y_true, y_pred, strict=True)]
    ss_res = sum(e * e for e in errors)
    mean = sum(y_true) / n
    ss_tot = sum((t - mean) ** 2 for t in y_true)
    r2 = (1.0 if ss_res == 0 else 0.0) if ss_tot == 0 else 1 - ss_res / ss_tot
    return {"rmse": math.sqrt(ss_res / n), "mae": sum(abs(e) for e in errors) / n, "r2": r2}


def primary_metric(problem_type: str, metrics: Sequence[dict[str, Any]]) -> tuple[str, bool]:
    """The metric that ranks these variants: the primary one unless some variant lacks it."""
    name, higher = PRIMARY[problem_type]
    if all(m.get(name) is not None for m in metrics):
        return name, higher
    return FALLBACK.get(problem_type, (name, higher))


def pick_winner(problem_type: str, by_variant: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
    """(winning variant, metric used); ties go to the variant listed first. None when nothing was scored."""
    if not by_variant:
        return None
    metric, higher = primary_metric(problem_type, list(by_variant.values()))
    scored = [(v, m[metric]) for v, m in by_variant.items() if m.get(metric) is not None]
    if not scored:
        return None
    best = scored[0]
    for candidate in scored[1:]:
        if (candidate[1] > best[1]) if higher else (candidate[1] < best[1]):
            best = candidate
    return best[0], metric
