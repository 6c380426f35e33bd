"""A binary finalist's decision threshold: where its F1 on the validation set is highest (pure).

At 0.5 a model trained on a rare positive class may predict no positive at all, though it ranks the rows
well (high AUC). The threshold is chosen on the validation rows, never on the test rows it is judged on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handlers.evaluate.metrics import binary_metrics

DEFAULT_THRESHOLD = 0.5
RULE = (
    "chosen per finalist on the validation set: the threshold on P(positive class) with the highest F1 "
    "of the positive class (ties: the higher threshold); a row is predicted positive when its "
    "probability is at least the threshold"
)


class NoThresholdError(ValueError):
    """No threshold can be chosen; the message says why."""


@dataclass(frozen=True)
class Threshold:
    """The chosen threshold and what it scored on the validation rows."""

    value: float
    f1: float
    rows: int
    positives: int


def choose_threshold(y_true: Sequence[int], scores: Sequence[float]) -> Threshold:
    """The threshold with the highest F1 of class 1 on these rows (labels 0/1, scores P(class 1))."""
    if len(y_true) != len(scores):
        raise NoThresholdError(f"{len(y_true)} labels but {len(scores)} scores")
    positives = sum(1 for y in y_true if y == 1)
    if positives == 0:
        raise NoThresholdError("the validation set has no positive row: F1 is 0 at any threshold")
    # Lower the threshold one distinct score at a time: every row at or above it is predicted positive.
    pairs = sorted(zip(scores, y_true, strict=True), key=lambda p: p[0], reverse=True)
    distinct = sorted({s for s, _ in pairs}, reverse=True)
    tp = fp = 0
    index = 0
    best: tuple[int, int, int] | None = None  # (position in distinct, F1 numerator, F1 denominator)
    for position, value in enumerate(distinct):
        while index < len(pairs) and pairs[index][0] >= value:
            tp, fp = (tp + 1, fp) if pairs[index][1] == 1 else (tp, fp + 1)
            index += 1
        numerator, denominator = 2 * tp, tp + fp + positives  # F1 = 2TP / (2TP + FP + FN), exactly
        # Strictly better only (compared as fractions): a tie keeps the higher threshold found first.
        if best is None or numerator * best[2] > best[1] * denominator:
            best = (position, numerator, denominator)
    assert best is not None  # at least one row, so at least one distinct score
    position, numerator, denominator = best
    return Threshold(
        _between(distinct, position), numerator / denominator, rows=len(y_true), positives=positives
    )


def _between(distinct: Sequence[float], position: int) -> float:
    """Halfway down to the next lower score: the same rows pass, with room for unseen scores."""
    value = distinct[position]
    if position + 1 == len(distinct):
        return value
    middle = (value + distinct[position + 1]) / 2
    return middle if distinct[position + 1] < middle <= value else value


def metrics_at(y_true: Sequence[int], scores: Sequence[float], threshold: float) -> dict[str, Any]:
    """Accuracy, precision, recall, F1 and the confusion matrix when P(class 1) >= threshold predicts 1."""
    predicted = [int(s >= threshold) for s in scores]
    found = binary_metrics(y_true, predicted, scores)
    del found["auc"]  # threshold-free: the same as at 0.5
    return {"threshold": threshold, **found}
