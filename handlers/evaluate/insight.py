"""How each finalist behaves on the test set: curves, per-class scores, predicted vs actual (pure, bounded).

Computed from the predictions Evaluate already has, in plain Python (no numpy in the Lambda), and kept
small: a curve has at most MAX_CURVE_POINTS points, a scatter at most MAX_SAMPLE_POINTS rows, so
evaluation.json stays a document a person can read and report.html stays light whatever the test set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from contracts.reports import (
    BinaryInsight,
    ClassScores,
    Curve,
    Insight,
    MulticlassInsight,
    RegressionInsight,
)
from handlers.evaluate.responses import Predictions

MAX_CURVE_POINTS = 101
MAX_SAMPLE_POINTS = 500
LABELS_ONLY = (
    "its endpoint returns labels without a probability, so every row has the same score: there is no "
    "curve to draw"
)


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def _thin(count: int, limit: int) -> list[int]:
    """At most `limit` indices of 0..count-1, evenly spread, the first and the last always kept."""
    if count <= limit:
        return list(range(count))
    step = (count - 1) / (limit - 1)
    return sorted({round(i * step) for i in range(limit)})


def _operating_points(y_true: Sequence[int], scores: Sequence[float]) -> list[tuple[float, int, int]]:
    """(threshold, true positives, false positives) at each distinct score, highest first.

    A row is predicted positive when its score is at least the threshold, as threshold.metrics_at does.
    """
    pairs = sorted(zip(scores, y_true, strict=True), key=lambda p: p[0], reverse=True)
    points: list[tuple[float, int, int]] = []
    tp = fp = 0
    for i, (score, label) in enumerate(pairs):
        tp, fp = (tp + 1, fp) if label == 1 else (tp, fp + 1)
        if i + 1 == len(pairs) or pairs[i + 1][0] != score:
            points.append((score, tp, fp))
    return points


def roc_curve(y_true: Sequence[int], scores: Sequence[float], limit: int = MAX_CURVE_POINTS) -> Curve:
    """False positive rate (x) against true positive rate (y), (0, 0) to (1, 1), as scikit-learn draws it."""
    positives = sum(1 for y in y_true if y == 1)
    negatives = len(y_true) - positives
    points = [(math.inf, 0, 0), *_operating_points(y_true, scores)]
    kept = [points[i] for i in _thin(len(points), limit)]
    return Curve(
        x=[_round(fp / negatives) if negatives else 0.0 for _, _, fp in kept],
        y=[_round(tp / positives) if positives else 0.0 for _, tp, _ in kept],
        thresholds=[None if math.isinf(t) else _round(t) for t, _, _ in kept],
    )


def pr_curve(y_true: Sequence[int], scores: Sequence[float], limit: int = MAX_CURVE_POINTS) -> Curve:
    """Recall (x) against precision (y), from the highest threshold down; starts at recall 0, precision 1."""
    positives = sum(1 for y in y_true if y == 1)
    points = _operating_points(y_true, scores)
    recall = [tp / positives if positives else 0.0 for _, tp, _ in points]
    precision = [tp / (tp + fp) for _, tp, fp in points]
    x, y = [0.0, *recall], [1.0, *precision]
    thresholds: list[float | None] = [None, *(t for t, _, _ in points)]
    kept = _thin(len(x), limit)
    return Curve(
        x=[_round(x[i]) for i in kept],
        y=[_round(y[i]) for i in kept],
        thresholds=[None if (t := thresholds[i]) is None else _round(t) for i in kept],
    )


def average_precision(y_true: Sequence[int], scores: Sequence[float]) -> float | None:
    """Σ (Rₙ - Rₙ₋₁) Pₙ over every distinct threshold (scikit-learn's average_precision_score)."""
    positives = sum(1 for y in y_true if y == 1)
    if positives == 0:
        return None
    total, previous = 0.0, 0.0
    for _, tp, fp in _operating_points(y_true, scores):
        recall = tp / positives
        total += (recall - previous) * tp / (tp + fp)
        previous = recall
    return total


def binary_insight(y_true: Sequence[int], found: Predictions) -> BinaryInsight:
    """ROC and precision-recall curves of P(positive class); none when the variant gave labels only."""
    if not found.probabilities or found.scores is None:
        return BinaryInsight(kind="binary", roc=None, pr=None, average_precision=None, reason=LABELS_ONLY)
    precision = average_precision(y_true, found.scores)
    return BinaryInsight(
        kind="binary",
        roc=roc_curve(y_true, found.scores),
        pr=pr_curve(y_true, found.scores),
        average_precision=None if precision is None else _round(precision),
        reason=None,
    )


def class_scores(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> list[ClassScores]:
    """Precision, recall, F1 and support of each class, from its confusion matrix (rows observed)."""
    k = len(matrix)
    out: list[ClassScores] = []
    for c in range(k):
        tp = matrix[c][c]
        predicted = sum(matrix[r][c] for r in range(k))
        support = sum(matrix[c])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        name = classes[c] if c < len(classes) else str(c)
        out.append(
            ClassScores(
                name=name,
                precision=_round(precision),
                recall=_round(recall),
                f1=_round(f1),
                support=support,
                predicted=predicted,
            )
        )
    return out


def multiclass_insight(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> MulticlassInsight:
    return MulticlassInsight(kind="multiclass", classes=class_scores(matrix, classes))


def regression_insight(
    actual: Sequence[float], predicted: Sequence[float], limit: int = MAX_SAMPLE_POINTS
) -> RegressionInsight:
    """Predicted against actual for an evenly spread sample of the test rows (in test-set order)."""
    kept = _thin(len(actual), limit)
    residuals = sorted(a - p for a, p in zip(actual, predicted, strict=True))
    n = len(residuals)
    return RegressionInsight(
        kind="regression",
        rows=n,
        actual=[_round(actual[i]) for i in kept],
        predicted=[_round(predicted[i]) for i in kept],
        residual_mean=_round(sum(residuals) / n) if n else None,
        residual_quantiles={
            name: _round(residuals[min(n - 1, int(q * n))]) if n else None
            for name, q in (("p05", 0.05), ("p50", 0.5), ("p95", 0.95))
        },
    )


def insight(
    problem_type: str,
    labels: Sequence[float],
    found: Predictions,
    metrics: dict[str, Any],
    classes: list[str],
) -> Insight:
    """The insight block of one scored variant."""
    if problem_type == "regression":
        return regression_insight(list(labels), found.values or [])
    if problem_type == "binary":
        return binary_insight([int(y) for y in labels], found)
    return multiclass_insight(metrics["confusion_matrix"], classes)
