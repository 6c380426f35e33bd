"""Reading endpoint responses: XGBoost scores and Autopilot labels in the shapes containers emit."""

from __future__ import annotations

import json

import pytest

from handlers.evaluate.batching import batches
from handlers.evaluate.responses import ResponseError, class_index, from_labels, from_scores, split_rows


def test_xgboost_binary_one_probability_per_line():
    rows = split_rows("0.9\n0.2\n0.5\n", 3)
    p = from_scores(rows, "binary", 2)
    assert p.scores == [0.9, 0.2, 0.5]
    assert p.labels == [1, 0, 1]


def test_xgboost_binary_old_single_line_format():
    p = from_scores(split_rows("0.9,0.2,0.4", 3), "binary", 2)
    assert p.labels == [1, 0, 0]


def test_xgboost_multiclass_json_lists_per_line():
    body = "[0.1, 0.7, 0.2]\n[0.6, 0.3, 0.1]\n"
    assert from_scores(split_rows(body, 2), "multiclass", 3).labels == [1, 0]


def test_xgboost_multiclass_csv_probabilities_and_whole_batch_json():
    assert from_scores(split_rows("0.1,0.2,0.7\n0.5,0.4,0.1", 2), "multiclass", 3).labels == [2, 0]
    assert from_scores(split_rows("[[0.1,0.2,0.7],[0.5,0.4,0.1]]", 2), "multiclass", 3).labels == [2, 0]


def test_xgboost_regression_values():
    assert from_scores(split_rows("1.5\n-2\n", 2), "regression", 0).values == [1.5, -2.0]


def test_autopilot_binary_label_and_probability():
    rows = split_rows("yes,0.8\nno,0.9\nyes,0.55\n", 3)
    p = from_labels(rows, "binary", ["no", "yes"])
    assert p.labels == [1, 0, 1]
    # The probability is that of the predicted label: P(yes) = 1 - P(no)
    assert p.scores == pytest.approx([0.8, 0.1, 0.55])


def test_autopilot_multiclass_label_and_quoted_probabilities():
    body = 'b,"[0.1, 0.8, 0.1]"\nc,"[0.2, 0.2, 0.6]"\n'
    assert from_labels(split_rows(body, 2), "multiclass", ["a", "b", "c"]).labels == [1, 2]


def test_autopilot_numeric_labels_map_to_classes():
    assert class_index("1.0", ["0", "1"]) == 1
    assert class_index(" True", ["False", "True"]) == 1
    with pytest.raises(ResponseError, match="not one of the classes"):
        class_index("maybe", ["no", "yes"])


def test_json_predictions_document():
    body = json.dumps(
        {
            "predictions": [
                {"predicted_label": "yes", "probability": 0.7},
                {"predicted_label": "no", "probability": 0.6},
            ]
        }
    )
    p = from_labels(split_rows(body, 2), "binary", ["no", "yes"])
    assert p.labels == [1, 0] and p.scores == pytest.approx([0.7, 0.4])


def test_a_short_response_is_an_error():
    with pytest.raises(ResponseError, match="expected 3 predictions, got 2"):
        split_rows("0.1\n0.2\n", 3)


def test_batches_respect_rows_and_bytes():
    rows = [f"{i},{'x' * 10}" for i in range(25)]
    by_rows = list(batches(rows, max_bytes=10_000, max_rows=10))
    assert [n for n, _ in by_rows] == [10, 10, 5]
    assert b"".join(p for _, p in by_rows).decode().splitlines() == rows
    by_bytes = list(batches(rows, max_bytes=50, max_rows=1000))
    assert all(len(p) <= 50 for _, p in by_bytes)
    assert sum(n for n, _ in by_bytes) == 25
    with pytest.raises(ValueError, match="more than a request may carry"):
        list(batches(["x" * 100], max_bytes=50))
