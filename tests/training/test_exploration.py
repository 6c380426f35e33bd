"""The exploration of the raw data: statistics, the warnings and their thresholds, the JSON contract."""

from __future__ import annotations

import json
import types
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

import numpy as np
import pandas as pd
import pytest

from contracts.dataset_layout import EXPLORATION, EXPLORATION_HTML, EXPLORATION_WARNINGS, Exploration
from training import exploration as exploration_module
from training.datasets import Dataset, load_dataset
from training.exploration import explore
from training.labels import encode_labels
from training.prepare_data import prepare_dataset, read_exploration


def _explore(frame: pd.DataFrame, target: str, problem_type: str | None = None, seed: int = 0) -> Exploration:
    labels = encode_labels(frame[target].dropna(), problem_type)
    return explore(frame, target, labels, name="t", source="test", seed=seed)


def _column(exploration: Exploration, name: str) -> dict[str, Any]:
    return next(dict(c) for c in exploration["columns"] if c["name"] == name)


def _codes(exploration: Exploration) -> set[tuple[str, str | None]]:
    return {(w["code"], w["column"]) for w in exploration["warnings"]}


def _shape_errors(value: Any, shape: Any, where: str = "") -> list[str]:
    """Where a JSON value departs from a contract type (TypedDicts, lists, dicts, optionals, leaves)."""
    if is_typeddict(shape):
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        hints = get_type_hints(shape)
        errors = [f"{where}.{k}: missing" for k in sorted(shape.__required_keys__ - set(value))]
        errors += [f"{where}.{k}: unexpected" for k in sorted(set(value) - set(hints))]
        return errors + [
            e for k in set(value) & set(hints) for e in _shape_errors(value[k], hints[k], f"{where}.{k}")
        ]
    origin, args = get_origin(shape), get_args(shape)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return []
        return _shape_errors(value, next(a for a in args if a is not type(None)), where)
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [e for i, item in enumerate(value) for e in _shape_errors(item, args[0], f"{where}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        return [e for k, item in value.items() for e in _shape_errors(item, args[1], f"{where}.{k}")]
    # JSON true/false are not numbers, though Python's bool is an int.
    fits = (
        isinstance(value, bool) if shape is bool else isinstance(value, shape) and not isinstance(value, bool)
    )
    return [] if fits else [f"{where}: expected {shape.__name__}, got {value!r}"]


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    """Every kind of column, with values whose statistics are known."""
    rng = np.random.default_rng(5)
    rows = 400
    frame = pd.DataFrame(
        {
            "amount": np.arange(rows, dtype=float) / 4,  # 0 .. 99.75
            "colour": np.array(["red", "blue", "green", "blue"] * (rows // 4), dtype=object),
            "flag": np.arange(rows) % 3 == 0,
            "sparse": np.where(np.arange(rows) % 5 == 0, 1.5, np.nan),  # 80% missing
            "same": ["x"] * rows,
            "order_id": np.arange(rows) + 10_000,
            "code": [f"c{i:04d}" for i in rng.permutation(rows)],
            "noise": rng.normal(size=rows),
            "label": rng.choice(["no", "yes"], size=rows, p=[0.7, 0.3]),
        }
    )
    frame.loc[[3, 7], "amount"] = np.nan
    frame.loc[1, "label"] = None
    return frame


def test_types_missing_and_unique_counts_per_raw_column(mixed):
    result = _explore(mixed, "label")
    summary = {c["name"]: (c["type"], c["role"], c["missing"], c["unique"]) for c in result["columns"]}
    assert summary == {
        "amount": ("numeric", "feature", 2, 398),
        "colour": ("categorical", "feature", 0, 3),
        "flag": ("boolean", "feature", 0, 2),
        "sparse": ("numeric", "feature", 320, 1),
        "same": ("categorical", "feature", 0, 1),
        "order_id": ("numeric", "feature", 0, 400),
        "code": ("categorical", "feature", 0, 400),
        "noise": ("numeric", "feature", 0, 400),
        "label": ("categorical", "target", 1, 2),
    }
    assert _column(result, "sparse")["missing_share"] == 0.8
    assert result["rows"] == 400  # the row without a target is explored too


def test_numeric_statistics_match_pandas(mixed):
    # to six significant digits, as the JSON holds them
    amount = _column(_explore(mixed, "label"), "amount")["numeric"]
    values = mixed["amount"].dropna()
    assert (amount["min"], amount["max"]) == (0.0, 99.75)
    assert amount["mean"] == pytest.approx(values.mean(), rel=1e-5)
    assert amount["std"] == pytest.approx(values.std(), rel=1e-5)
    assert amount["quantiles"] == pytest.approx(
        {f"p{round(q * 100):02d}": values.quantile(q) for q in (0.05, 0.25, 0.5, 0.75, 0.95)}, rel=1e-5
    )
    assert amount["zeros"] == 1 and amount["infinite"] == 0
    histogram = amount["histogram"]
    assert len(histogram["edges"]) == len(histogram["counts"]) + 1 == 21
    assert sum(histogram["counts"]) == len(values)


def test_a_small_integer_range_gets_one_bar_per_value():
    frame = pd.DataFrame({"stars": [1, 2, 2, 3, 3, 3, 5] * 10, "y": [0, 1] * 35})
    histogram = _column(_explore(frame, "y"), "stars")["numeric"]["histogram"]
    assert histogram == {"edges": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5], "counts": [10, 20, 30, 0, 10]}


def test_infinite_values_are_counted_apart_from_the_statistics():
    frame = pd.DataFrame({"ratio": [1.0, 2.0, np.inf, -np.inf, np.nan] * 10, "y": [0, 1] * 25})
    ratio = _column(_explore(frame, "y"), "ratio")
    assert (ratio["missing"], ratio["numeric"]["infinite"], ratio["numeric"]["max"]) == (10, 20, 2.0)


def test_top_values_most_frequent_first_ties_by_value(mixed):
    colour = _column(_explore(mixed, "label"), "colour")["categorical"]
    assert colour["top"] == [
        {"value": "blue", "count": 200, "share": 0.5},
        {"value": "green", "count": 100, "share": 0.25},
        {"value": "red", "count": 100, "share": 0.25},
    ]
    assert colour["other_count"] == 0
    code = _column(_explore(mixed, "label"), "code")["categorical"]
    assert len(code["top"]) == exploration_module.TOP_VALUES and code["other_count"] == 390


def test_target_balance_counts_the_rows_with_a_target(mixed):
    target = _explore(mixed, "label")["target"]
    counts = mixed["label"].value_counts()
    assert target["missing"] == 1 and target["problem_type"] == "binary"
    assert [(c["value"], c["count"]) for c in target["classes"]] == [
        ("no", counts["no"]),
        ("yes", counts["yes"]),
    ]
    assert target["imbalance_ratio"] == pytest.approx(counts["no"] / counts["yes"], rel=1e-5)


def test_each_problem_gets_its_warning_and_an_action(mixed):
    result = _explore(mixed, "label")
    assert _codes(result) == {
        ("target_missing", "label"),
        ("mostly_missing", "sparse"),
        ("constant", "sparse"),
        ("constant", "same"),
        ("id_like", "order_id"),
        ("id_like", "code"),
    }
    for warning in result["warnings"]:
        assert warning["code"] in EXPLORATION_WARNINGS
        assert warning["column"] in warning["message"]
        assert warning["action"].endswith(".") and len(warning["action"]) > 20


def test_continuous_measurements_are_not_identifiers(mixed):
    # noise is distinct in every row, as any float measurement is
    assert ("id_like", "noise") not in _codes(_explore(mixed, "label"))


def _labelled(rows: int, seed: int, positive_rate: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"x": rng.normal(size=rows), "y": np.where(rng.random(rows) < positive_rate, "yes", "no")}
    )


def test_strong_class_imbalance_is_flagged_and_a_mild_one_is_not():
    rare = _explore(_labelled(2000, 1, 0.05), "y")
    assert ("class_imbalance", "y") in _codes(rare)
    assert "'yes' has" in next(w["message"] for w in rare["warnings"] if w["code"] == "class_imbalance")
    # 11% positives, like the bank set: 8 to 1, under the threshold
    assert ("class_imbalance", "y") not in _codes(_explore(_labelled(2000, 1, 0.11), "y"))


def test_a_feature_that_predicts_a_binary_target_almost_perfectly_is_suspected_leakage():
    frame = _labelled(3000, 2, 0.3)
    rng = np.random.default_rng(2)
    frame["refund_amount"] = (frame["y"] == "yes") * 50.0 + rng.normal(0, 5, len(frame))
    result = _explore(frame, "y")
    leak = _column(result, "refund_amount")
    assert leak["single_feature"]["metric"] == "auc" and leak["single_feature"]["score"] > 0.99
    assert _codes(result) == {("suspected_leakage", "refund_amount")}
    assert _column(result, "x")["single_feature"]["score"] < 0.6


def test_a_category_that_maps_to_the_class_one_to_one_is_suspected_leakage():
    digits = load_dataset("digits", rows=600, seed=1).frame
    digits["label_name"] = digits["digit"].map(lambda d: f"digit {d}")
    result = _explore(digits, "digit")
    assert _column(result, "label_name")["target_purity"] == 1.0
    warning = next(w for w in result["warnings"] if w["code"] == "suspected_leakage")
    assert warning["column"] == "label_name" and "single class" in warning["message"]


def test_a_rescaled_regression_target_is_suspected_leakage():
    frame = load_dataset("friedman", rows=1500, seed=3).frame
    frame["response_cents"] = frame["response"] * 100 + np.random.default_rng(3).normal(0, 10, len(frame))
    result = _explore(frame, "response")
    score = _column(result, "response_cents")["single_feature"]
    assert score["metric"] == "r2" and score["score"] > 0.95
    assert [w["column"] for w in result["warnings"] if w["code"] == "suspected_leakage"] == ["response_cents"]


@pytest.mark.parametrize("name", ["bank", "breast_cancer", "digits", "diabetes", "friedman", "imbalanced"])
def test_no_built_in_dataset_is_suspected_of_leakage(name):
    # The thresholds sit above what honest features reach (breast_cancer's best single AUC is about 0.97)
    dataset = load_dataset(name, rows=5000, seed=42)
    result = _explore(dataset.frame, str(dataset.target), dataset.problem_type)
    assert not [
        w for w in result["warnings"] if w["code"] in ("suspected_leakage", "id_like", "mostly_missing")
    ]


def test_the_leakage_check_samples_large_tables_and_says_so(monkeypatch):
    monkeypatch.setattr(exploration_module, "LEAKAGE_MAX_ROWS", 500)
    check = _explore(_labelled(2000, 4, 0.3), "y")["leakage_check"]
    assert (check["rows"], check["max_rows"], check["sampled"]) == (500, 500, True)
    assert not _explore(_labelled(400, 4, 0.3), "y")["leakage_check"]["sampled"]


def test_the_same_table_and_seed_give_the_same_json(mixed):
    first, second = _explore(mixed, "label", seed=9), _explore(mixed.copy(), "label", seed=9)
    assert json.dumps(first) == json.dumps(second)


def test_the_json_follows_the_contract(mixed):
    result = json.loads(json.dumps(_explore(mixed, "label")))
    assert _shape_errors(result, Exploration) == []
    assert _shape_errors({**result, "rows": "400"}, Exploration) == [".rows: expected int, got '400'"]


def test_prepare_writes_the_exploration_of_the_raw_rows_beside_the_manifest(tmp_path, mixed):
    # Given a table with a missing target and a text column (one-hot encoded in the channels)
    frame = mixed.drop(columns=["same", "code", "sparse"])
    dataset = Dataset("mixed", "test", frame, "label")
    # When it is prepared
    manifest = prepare_dataset(dataset, tmp_path / "out", seed=3)
    # Then the exploration describes the raw rows, before the drop and the encoding
    written = read_exploration(tmp_path / "out")
    assert written["rows"] == 400 and manifest["dropped_rows"]["missing_target"] == 1
    assert [c["name"] for c in written["columns"]] == list(frame.columns)
    assert [t["value"] for t in _column(written, "colour")["categorical"]["top"]] == ["blue", "green", "red"]
    labels = encode_labels(frame["label"].dropna())
    again = explore(frame, "label", labels, name="mixed", source="test", seed=3)
    assert written == json.loads(json.dumps(again))
    page = (tmp_path / "out" / EXPLORATION_HTML).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "order_id" in page
    assert (tmp_path / "out" / EXPLORATION).stat().st_size > 0
