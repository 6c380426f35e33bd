"""A finalist's insight on the test set: curves, per-class scores, samples, as scikit-learn has them."""

from __future__ import annotations

import random

import pytest
from sklearn import metrics as skm

from handlers.evaluate.insight import (
    LABELS_ONLY,
    MAX_CURVE_POINTS,
    average_precision,
    binary_insight,
    class_scores,
    pr_curve,
    regression_insight,
    roc_curve,
)
from handlers.evaluate.responses import Predictions


def scored_rows(n: int, seed: int, distinct: int = 1000) -> tuple[list[int], list[float]]:
    """Labels and scores that rank positives higher, with ties when `distinct` is small."""
    rng = random.Random(seed)
    labels = [int(rng.random() < 0.3) for _ in range(n)]
    scores = [round(min(1.0, max(0.0, rng.gauss(0.35 + 0.3 * y, 0.2))) * distinct) / distinct for y in labels]
    return labels, scores


@pytest.mark.parametrize(("n", "distinct"), [(60, 1000), (80, 7)])
def test_a_small_roc_curve_is_scikit_learns_with_every_threshold(n, distinct):
    labels, scores = scored_rows(n, seed=3, distinct=distinct)
    curve = roc_curve(labels, scores)
    fpr, tpr, thresholds = skm.roc_curve(labels, scores, drop_intermediate=False)
    # Six significant digits: what evaluation.json keeps
    assert curve["x"] == pytest.approx(list(fpr), abs=1e-5)
    assert curve["y"] == pytest.approx(list(tpr), abs=1e-5)
    assert curve["thresholds"][0] is None
    assert curve["thresholds"][1:] == pytest.approx(list(thresholds[1:]), abs=1e-5)
    # The area under the drawn points is the AUC
    assert skm.auc(curve["x"], curve["y"]) == pytest.approx(skm.roc_auc_score(labels, scores), abs=1e-5)


def test_a_small_precision_recall_curve_is_scikit_learns_from_the_highest_threshold():
    labels, scores = scored_rows(70, seed=5)
    curve = pr_curve(labels, scores)
    precision, recall, thresholds = skm.precision_recall_curve(labels, scores)
    # scikit-learn lists them from the lowest threshold up, ending at (recall 0, precision 1)
    assert curve["x"] == pytest.approx(list(recall[::-1]), abs=1e-5)
    assert curve["y"] == pytest.approx(list(precision[::-1]), abs=1e-5)
    assert curve["thresholds"][1:] == pytest.approx(list(thresholds[::-1]), abs=1e-5)
    assert average_precision(labels, scores) == pytest.approx(skm.average_precision_score(labels, scores))


def test_curves_of_a_large_test_set_are_bounded_and_keep_both_ends():
    labels, scores = scored_rows(20_000, seed=7, distinct=100_000)
    roc, pr = roc_curve(labels, scores), pr_curve(labels, scores)
    for curve in (roc, pr):
        assert len(curve["x"]) == len(curve["y"]) == len(curve["thresholds"]) <= MAX_CURVE_POINTS
    assert (roc["x"][0], roc["y"][0], roc["x"][-1], roc["y"][-1]) == (0.0, 0.0, 1.0, 1.0)
    assert (pr["x"][0], pr["y"][0], pr["x"][-1]) == (0.0, 1.0, 1.0)
    assert roc["x"] == sorted(roc["x"]) and pr["x"] == sorted(pr["x"])
    # Thinned, the area stays close to the exact AUC
    assert skm.auc(roc["x"], roc["y"]) == pytest.approx(skm.roc_auc_score(labels, scores), abs=0.005)


def test_a_variant_answering_labels_only_gets_no_curve_and_says_why():
    found = Predictions(labels=[0, 1, 1], scores=[0.0, 1.0, 1.0], probabilities=False)
    block = binary_insight([0, 1, 0], found)
    assert (block["roc"], block["pr"], block["reason"]) == (None, None, LABELS_ONLY)


def test_per_class_scores_are_scikit_learns():
    rng = random.Random(9)
    truth = [rng.randrange(4) for _ in range(300)]
    predicted = [y if rng.random() < 0.6 else rng.randrange(4) for y in truth]
    matrix = skm.confusion_matrix(truth, predicted, labels=range(4)).tolist()
    scores = class_scores(matrix, ["a", "b", "c", "d"])
    precision, recall, f1, support = skm.precision_recall_fscore_support(truth, predicted, labels=range(4))
    assert [s["name"] for s in scores] == ["a", "b", "c", "d"]
    assert [s["precision"] for s in scores] == pytest.approx(list(precision), abs=1e-6)
    assert [s["recall"] for s in scores] == pytest.approx(list(recall), abs=1e-6)
    assert [s["f1"] for s in scores] == pytest.approx(list(f1), abs=1e-6)
    assert [s["support"] for s in scores] == list(support)
    assert [s["predicted"] for s in scores] == [predicted.count(c) for c in range(4)]


def test_a_class_never_predicted_scores_zero_not_an_error():
    scores = class_scores([[5, 0], [3, 0]], ["x", "y"])
    assert (scores[1]["precision"], scores[1]["recall"], scores[1]["f1"]) == (0.0, 0.0, 0.0)


def test_regression_keeps_a_bounded_sample_of_predicted_against_actual_in_test_order():
    rng = random.Random(2)
    actual = [i + 0.25 for i in range(2003)]  # a row's value names it (and six digits keep it exact)
    predicted = [a + rng.gauss(1.0, 5) for a in actual]
    block = regression_insight(actual, predicted, limit=500)
    assert block["rows"] == 2003 and len(block["actual"]) == len(block["predicted"]) == 500
    # Each kept row is a test row, pairs kept together, in test-set order, the first and last included
    rows = [int(a) for a in block["actual"]]
    assert rows == sorted(rows) and (rows[0], rows[-1]) == (0, 2002)
    assert block["predicted"] == pytest.approx([predicted[i] for i in rows], rel=1e-5)
    # The residuals' mean and quantiles are over every row, not the sample
    residuals = sorted(a - p for a, p in zip(actual, predicted, strict=True))
    assert block["residual_mean"] == pytest.approx(sum(residuals) / len(residuals), rel=1e-4)
    assert block["residual_quantiles"] == pytest.approx(
        {"p05": residuals[100], "p50": residuals[1001], "p95": residuals[1902]}, rel=1e-5
    )
