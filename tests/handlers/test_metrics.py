"""Evaluation metrics: hand-computed cases, then agreement with scikit-learn on seeded random data."""

from __future__ import annotations

import math
import random

import pytest
from sklearn import metrics as skm

from handlers.evaluate.metrics import (
    binary_metrics,
    multiclass_metrics,
    pick_winner,
    regression_metrics,
    roc_auc,
)


def test_binary_by_hand():
    # Given 8 rows: 3 TP, 1 FN, 1 FP, 3 TN at threshold 0.5
    y_true = [1, 0, 1, 1, 0, 0, 1, 0]
    scores = [0.9, 0.4, 0.35, 0.8, 0.1, 0.6, 0.7, 0.2]
    y_pred = [int(s >= 0.5) for s in scores]
    # When measured
    m = binary_metrics(y_true, y_pred, scores)
    # Then: 6/8 right; 3/4 precision and recall; 14 of 16 positive-negative pairs ranked right
    assert m["confusion_matrix"] == [[3, 1], [1, 3]]
    assert m["accuracy"] == 0.75
    assert m["precision"] == 0.75 and m["recall"] == 0.75 and m["f1"] == 0.75
    assert m["auc"] == 14 / 16


def test_auc_counts_ties_as_half():
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.8]) == 3.5 / 4


def test_auc_is_undefined_with_one_class():
    assert roc_auc([1, 1, 1], [0.2, 0.5, 0.9]) is None


def test_binary_without_predicted_positives_has_zero_precision():
    m = binary_metrics([1, 0, 0], [0, 0, 0], [0.4, 0.1, 0.2])
    assert (m["precision"], m["recall"], m["f1"]) == (0.0, 0.0, 0.0)
    assert m["confusion_matrix"] == [[2, 0], [1, 0]]


def test_multiclass_by_hand():
    m = multiclass_metrics([0, 1, 2, 2, 1, 0], [0, 2, 2, 2, 1, 1], 3)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 1], [0, 0, 2]]
    assert m["accuracy"] == pytest.approx(4 / 6)
    # F1 per class: 2/3, 1/2, 4/5
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 4 / 5) / 3)


def test_regression_by_hand():
    m = regression_metrics([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    assert m["mae"] == 0.5
    assert m["rmse"] == pytest.approx(math.sqrt(0.375))
    assert m["r2"] == pytest.approx(1 - 1.5 / 29.1875)


def test_regression_of_a_constant_target():
    assert regression_metrics([2, 2], [2, 2])["r2"] == 1.0
    assert regression_metrics([2, 2], [1, 3])["r2"] == 0.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_binary_matches_scikit_learn(seed):
    rng = random.Random(seed)
    y_true = [rng.randint(0, 1) for _ in range(300)]
    # Rounded scores create ties, which the rank-based AUC must average like scikit-learn does
    scores = [round(min(1.0, max(0.0, 0.3 * y + rng.random() * 0.7)), 2) for y in y_true]
    y_pred = [int(s >= 0.5) for s in scores]
    m = binary_metrics(y_true, y_pred, scores)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert m["precision"] == pytest.approx(skm.precision_score(y_true, y_pred))
    assert m["recall"] == pytest.approx(skm.recall_score(y_true, y_pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y_true, y_pred))
    assert m["auc"] == pytest.approx(skm.roc_auc_score(y_true, scores))
    assert m["confusion_matrix"] == skm.confusion_matrix(y_true, y_pred).tolist()


@pytest.mark.parametrize("seed", [4, 5])
def test_multiclass_matches_scikit_learn(seed):
    rng = random.Random(seed)
    y_true = [rng.randint(0, 4) for _ in range(200)]
    # Class 4 is never predicted: macro-F1 still counts it (as scikit-learn does)
    y_pred = [y if rng.random() < 0.6 else rng.randint(0, 3) for y in y_true]
    y_pred = [min(p, 3) for p in y_pred]
    m = multiclass_metrics(y_true, y_pred, 5)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert m["confusion_matrix"] == skm.confusion_matrix(y_true, y_pred, labels=list(range(5))).tolist()


def test_regression_matches_scikit_learn():
    rng = random.Random(6)
    y_true = [rng.gauss(10, 3) for _ in range(250)]
    y_pred = [y + rng.gauss(0, 1) for y in y_true]
    m = regression_metrics(y_true, y_pred)
    assert m["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y_true, y_pred)))
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y_true, y_pred))
    assert m["r2"] == pytest.approx(skm.r2_score(y_true, y_pred))


def test_winner_by_primary_metric():
    assert pick_winner("binary", {"Tuning": {"auc": 0.91}, "Autopilot": {"auc": 0.93}}) == (
        "Autopilot",
        "auc",
    )
    assert pick_winner("regression", {"Tuning": {"rmse": 1.2}, "Autopilot": {"rmse": 1.5}}) == (
        "Tuning",
        "rmse",
    )
    assert pick_winner("multiclass", {"Tuning": {"macro_f1": 0.7}, "Autopilot": {"macro_f1": 0.7}}) == (
        "Tuning",
        "macro_f1",
    )  # a tie goes to the first variant
    # AUC undefined (one class in the test set): accuracy decides
    assert pick_winner(
        "binary", {"Tuning": {"auc": None, "accuracy": 0.8}, "Autopilot": {"auc": None, "accuracy": 0.9}}
    ) == (
        "Autopilot",
        "accuracy",
    )
    assert pick_winner("binary", {}) is None
