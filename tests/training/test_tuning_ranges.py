"""Tuning ranges as data: validation against XGBoost's limits, the API rendering, objectives per problem."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from training.tuning_ranges import (
    DEFAULT_RANGES,
    WIDE_RANGES,
    XGBOOST_LIMITS,
    ParameterRange,
    RangeError,
    autopilot_objective,
    autopilot_problem_type,
    parameter_ranges,
    parse_parameter_ranges,
    scale_pos_weight,
    static_hyperparameters,
    tuning_objective,
)

REPO = Path(__file__).resolve().parents[2]
TUNED_NAMES = {
    "alpha",
    "eta",
    "min_child_weight",
    "colsample_bytree",
    "subsample",
    "max_depth",
    "num_round",
}


def test_default_and_wide_ranges_cover_the_same_hyperparameters():
    assert {r.name for r in DEFAULT_RANGES} == TUNED_NAMES
    assert {r.name for r in WIDE_RANGES} == TUNED_NAMES


def test_eta_and_alpha_are_searched_on_a_log_scale():
    for ranges in (DEFAULT_RANGES, WIDE_RANGES):
        scaling = {r.name: r.scaling for r in ranges}
        assert scaling["eta"] == scaling["alpha"] == "Logarithmic"


def test_rendering_gives_the_api_shape_with_string_values():
    rendered = parameter_ranges(DEFAULT_RANGES)
    assert set(rendered) == {
        "IntegerParameterRanges",
        "ContinuousParameterRanges",
        "CategoricalParameterRanges",
    }
    assert {r["Name"] for r in rendered["IntegerParameterRanges"]} == {"max_depth", "num_round"}
    eta = next(r for r in rendered["ContinuousParameterRanges"] if r["Name"] == "eta")
    assert eta == {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"}
    values = [v for group in rendered.values() for r in group for v in r.values()]
    assert all(isinstance(v, str) for v in values)


def test_wide_ranges_render_their_bounds():
    rendered = parameter_ranges(WIDE_RANGES)
    num_round = next(r for r in rendered["IntegerParameterRanges"] if r["Name"] == "num_round")
    assert (num_round["MinValue"], num_round["MaxValue"]) == ("100", "2000")
    alpha = next(r for r in rendered["ContinuousParameterRanges"] if r["Name"] == "alpha")
    assert (alpha["MinValue"], alpha["MaxValue"]) == ("0.0001", "0.9999")


def test_parsing_the_rendering_gives_the_ranges_back():
    assert parse_parameter_ranges(parameter_ranges(DEFAULT_RANGES)) == tuple(
        sorted(DEFAULT_RANGES, key=lambda r: not r.integer)
    )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (ParameterRange("eta", 0.1, 1.5), "1.5 is out of range; it must be a number in \\[0, 1\\]"),
        (ParameterRange("subsample", 0, 0.5), "0 is out of range; it must be a number in \\(0, 1\\]"),
        (ParameterRange("colsample_bytree", 0.5, 1.01), "colsample_bytree"),
        (ParameterRange("max_depth", -1, 5, integer=True), "an integer in \\[0, inf\\)"),
        (ParameterRange("num_round", 0, 10, integer=True), "num_round"),
        (ParameterRange("alpha", -0.1, 1), "alpha"),
        (ParameterRange("min_child_weight", -1, 1), "min_child_weight"),
        (ParameterRange("eta", 0.0, 0.5, "Logarithmic"), "Logarithmic scaling needs MinValue > 0"),
        (ParameterRange("eta", 0.5, 0.1), "MinValue 0.5 must be below MaxValue 0.1"),
        (ParameterRange("max_depth", 3, 8), "belongs in IntegerParameterRanges"),
        (ParameterRange("learning_rate", 0.1, 0.2), "not a tunable XGBoost hyperparameter"),
        (ParameterRange("eta", 0.1, 0.2, "Exponential"), "ScalingType must be one of"),
        (ParameterRange("max_depth", 1, 5, "ReverseLogarithmic", integer=True), "ReverseLogarithmic"),
    ],
)
def test_invalid_ranges_are_rejected_with_the_reason(bad, message):
    with pytest.raises(RangeError, match=message):
        parameter_ranges([bad])


def test_a_hyperparameter_twice_is_rejected():
    with pytest.raises(RangeError, match="more than one range"):
        parameter_ranges([ParameterRange("eta", 0.1, 0.2), ParameterRange("eta", 0.2, 0.3)])


def test_an_override_in_api_shape_is_validated():
    override = {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0", "MaxValue": "2"}]}
    with pytest.raises(RangeError, match="'eta': 2 is out of range"):
        parse_parameter_ranges(override)
    with pytest.raises(RangeError, match="MinValue must be a number"):
        parse_parameter_ranges(
            {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "x", "MaxValue": "1"}]}
        )


def test_limits_cover_what_sagemakers_xgboost_tunes():
    assert set(XGBOOST_LIMITS) >= TUNED_NAMES
    assert XGBOOST_LIMITS["eta"].contains(0) and XGBOOST_LIMITS["eta"].contains(1)
    assert not XGBOOST_LIMITS["subsample"].contains(0) and XGBOOST_LIMITS["subsample"].contains(1)


@pytest.mark.parametrize(
    ("problem_type", "metric", "direction"),
    [
        ("binary", "validation:auc", "Maximize"),
        ("multiclass", "validation:mlogloss", "Minimize"),
        ("regression", "validation:rmse", "Minimize"),
    ],
)
def test_objective_per_problem_type(problem_type, metric, direction):
    assert tuning_objective(problem_type) == {"MetricName": metric, "Type": direction}
    # The metric the objective names is one the static hyperparameters make XGBoost print.
    assert (
        static_hyperparameters(problem_type, num_class=5 if problem_type == "multiclass" else None)[
            "eval_metric"
        ]
        == metric.split(":")[1]
    )


def test_static_hyperparameters_are_strings_with_the_right_objective():
    assert static_hyperparameters("binary") == {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "early_stopping_rounds": "10",
    }
    multiclass = static_hyperparameters("multiclass", num_class=10, early_stopping_rounds=5)
    assert multiclass["objective"] == "multi:softprob"
    assert multiclass["num_class"] == "10" and multiclass["early_stopping_rounds"] == "5"
    assert static_hyperparameters("regression")["objective"] == "reg:squarederror"


def test_static_hyperparameters_reject_a_wrong_num_class():
    with pytest.raises(RangeError, match="multiclass needs num_class"):
        static_hyperparameters("multiclass")
    with pytest.raises(RangeError, match="num_class is only for multiclass"):
        static_hyperparameters("binary", num_class=2)
    with pytest.raises(RangeError, match="unknown problem type"):
        static_hyperparameters("ranking")


def test_scale_pos_weight_is_negatives_over_positives_as_the_api_takes_it():
    assert scale_pos_weight(665, 35) == "19"
    assert scale_pos_weight(3298, 202) == "16.3267"  # six significant digits are plenty
    assert scale_pos_weight(50, 50) == "1"
    static = static_hyperparameters("binary", train_class_counts=(3298, 202))
    assert static["scale_pos_weight"] == "16.3267" and static["objective"] == "binary:logistic"
    assert "scale_pos_weight" not in static_hyperparameters("binary")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: scale_pos_weight(700, 0), "at least one row of each class, got 700 negative and 0 positive"),
        (lambda: scale_pos_weight(0, 5), "at least one row of each class"),
        (lambda: static_hyperparameters("regression", train_class_counts=(9, 1)), "only for binary"),
        (
            lambda: static_hyperparameters("multiclass", num_class=3, train_class_counts=(9, 1)),
            "only for binary",
        ),
    ],
)
def test_scale_pos_weight_needs_both_classes_and_a_binary_problem(call, message):
    with pytest.raises(RangeError, match=message):
        call()


def test_scale_pos_weight_is_not_tunable_as_in_sagemakers_xgboost():
    # The container marks it a plain (untunable) hyperparameter: a tuning range for it is refused.
    with pytest.raises(RangeError, match="'scale_pos_weight' is not a tunable XGBoost hyperparameter"):
        ParameterRange("scale_pos_weight", 1, 30).validate()


def test_autopilot_mapping():
    assert [autopilot_problem_type(p) for p in ("binary", "multiclass", "regression")] == [
        "BinaryClassification",
        "MulticlassClassification",
        "Regression",
    ]
    assert autopilot_objective("binary") == {"MetricName": "AUC"}
    assert autopilot_objective("multiclass") == {"MetricName": "F1macro"}
    assert autopilot_objective("regression") == {"MetricName": "RMSE"}


def test_the_module_imports_with_the_standard_library_only():
    # What a Lambda handler gets: -S leaves site-packages off the path, and nothing else is loaded.
    code = (
        "import sys, json; import training.tuning_ranges as t; "
        "known = set(sys.stdlib_module_names) | {'training', '__main__'}; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} - known)))"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []
