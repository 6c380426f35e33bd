"""The inference contract: CSV features in, one prediction line per row out."""

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from training.errors import InferenceError, UnsupportedContentTypeError
from training.hyperparameters import parse_hyperparameters
from training.inference import load_model, predict
from training.train import save_model, train
from training.tuning_ranges import static_hyperparameters


def _fit(dataset_dir, tmp_path, hyperparameters):
    data = pd.read_csv(dataset_dir / "train" / "train.csv", header=None).to_numpy(dtype=np.float32)
    hp = parse_hyperparameters({"num_round": "5", **hyperparameters})
    result = train((data[:, 1:], data[:, 0]), None, hp, emit=lambda _: None)
    save_model(result.booster, tmp_path)
    return load_model(tmp_path), result.booster


def _features(dataset_dir, rows=7):
    lines = (dataset_dir / "test" / "test.csv").read_text().splitlines()[:rows]
    return "".join(line.split(",", 1)[1] + "\n" for line in lines).encode()


def _static(problem_type, **kwargs):
    static = static_hyperparameters(problem_type, **kwargs)
    static.pop("early_stopping_rounds")
    return static


def test_binary_returns_one_positive_class_probability_per_line(tmp_path, bank_dir):
    model, booster = _fit(bank_dir, tmp_path, _static("binary"))
    lines = predict(model, _features(bank_dir)).decode().splitlines()
    assert len(lines) == 7
    values = [float(v) for v in lines]
    assert all(0 <= v <= 1 for v in values)
    matrix = np.loadtxt(_features(bank_dir).decode().splitlines(), delimiter=",", ndmin=2)
    assert values == pytest.approx(booster.predict(xgb.DMatrix(matrix)).tolist(), abs=1e-7)


def test_multiclass_returns_comma_separated_class_probabilities(tmp_path, digits_dir):
    model, _ = _fit(digits_dir, tmp_path, _static("multiclass", num_class=10))
    rows = [
        [float(v) for v in line.split(",")]
        for line in predict(model, _features(digits_dir)).decode().splitlines()
    ]
    assert len(rows) == 7 and all(len(r) == 10 for r in rows)
    assert all(sum(r) == pytest.approx(1, abs=1e-5) for r in rows)


def test_regression_returns_one_value_per_line(tmp_path, diabetes_dir):
    model, _ = _fit(diabetes_dir, tmp_path, _static("regression"))
    values = [float(v) for v in predict(model, _features(diabetes_dir, 3), "text/csv; charset=utf-8").split()]
    assert len(values) == 3 and all(v > 1 for v in values)


def test_empty_fields_are_missing_values(tmp_path, diabetes_dir):
    model, _ = _fit(diabetes_dir, tmp_path, _static("regression"))
    body = ("," * (model.num_features - 1) + "\n").encode()
    assert len(predict(model, body).splitlines()) == 1


def test_a_row_with_the_label_still_in_is_explained(tmp_path, diabetes_dir):
    model, _ = _fit(diabetes_dir, tmp_path, _static("regression"))
    body = (diabetes_dir / "test" / "test.csv").read_bytes()
    with pytest.raises(InferenceError, match="needs 10 features, got 11 - drop the label column"):
        predict(model, body)


def test_other_content_types_are_refused(tmp_path, diabetes_dir):
    model, _ = _fit(diabetes_dir, tmp_path, _static("regression"))
    with pytest.raises(
        UnsupportedContentTypeError, match="'application/json' is not supported; send text/csv"
    ):
        predict(model, b"[]", "application/json")
    with pytest.raises(InferenceError, match="body is empty"):
        predict(model, b"\n")


def test_a_model_dir_without_a_model_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no xgboost-model in"):
        load_model(tmp_path)
