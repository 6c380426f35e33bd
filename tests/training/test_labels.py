"""Problem type inference, label encoding and the target-related rejections."""

import numpy as np
import pandas as pd
import pytest

from training.errors import DatasetError
from training.labels import encode_labels


def test_yes_no_is_binary_with_yes_positive():
    labels = encode_labels(pd.Series(["no", "yes", "no"] * 3, name="y"))
    assert labels.problem_type == "binary"
    assert labels.classes == ("no", "yes")
    assert labels.values.tolist() == [0, 1, 0] * 3


def test_numeric_classes_sort_by_value():
    labels = encode_labels(pd.Series([10, 2, 2, 10, 3, 3, 3, 2, 10], name="k"))
    assert labels.problem_type == "multiclass"
    assert labels.classes == ("2", "3", "10")
    assert labels.values.tolist() == [2, 0, 0, 2, 1, 1, 1, 0, 2]


def test_float_target_with_many_values_is_regression():
    labels = encode_labels(pd.Series(np.linspace(0, 1, 50), name="v"))
    assert labels.problem_type == "regression"
    assert labels.classes == ()
    assert labels.values.dtype == np.float64


def test_a_given_problem_type_wins_over_inference():
    labels = encode_labels(pd.Series([1, 2, 3, 4, 5, 6] * 2, name="n"), "regression")
    assert labels.problem_type == "regression"


def test_single_class_is_rejected_with_the_value():
    with pytest.raises(DatasetError, match=r"target 'y' has a single class \('no'\)"):
        encode_labels(pd.Series(["no"] * 20, name="y"))


def test_regression_on_text_is_rejected_with_a_fix():
    with pytest.raises(DatasetError, match="regression needs a numeric target - use --problem-type binary"):
        encode_labels(pd.Series(["no", "yes"] * 10, name="y"), "regression")


def test_binary_with_three_classes_points_to_multiclass():
    with pytest.raises(DatasetError, match=r"binary needs exactly 2 classes.*use --problem-type multiclass"):
        encode_labels(pd.Series(["a", "b", "c"] * 5, name="y"), "binary")


def test_multiclass_with_two_classes_points_to_binary():
    with pytest.raises(DatasetError, match="use --problem-type binary"):
        encode_labels(pd.Series(["a", "b"] * 5, name="y"), "multiclass")


def test_a_class_too_rare_to_split_is_named():
    with pytest.raises(DatasetError, match=r"too few rows for 'c' \(2\)"):
        encode_labels(pd.Series(["a"] * 10 + ["b"] * 10 + ["c"] * 2, name="y"))


def test_an_unknown_problem_type_lists_the_choices():
    with pytest.raises(DatasetError, match="use one of binary, multiclass, regression"):
        encode_labels(pd.Series([0, 1] * 5, name="y"), "classification")
