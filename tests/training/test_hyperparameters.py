"""Built-in XGBoost hyperparameters: string parsing, limits, unknown names, objective rules."""

import pytest

from training.errors import HyperparameterError
from training.hyperparameters import parse_hyperparameters


def test_strings_become_typed_xgboost_params():
    hp = parse_hyperparameters(
        {"num_round": "100", "eta": "0.2", "max_depth": "5", "objective": "binary:logistic", "lambda": "1"}
    )
    assert hp.num_round == 100
    assert hp.params == {"eta": 0.2, "max_depth": 5, "objective": "binary:logistic", "lambda": 1.0}
    assert hp.early_stopping_rounds is None


def test_json_quoted_strings_from_script_mode_sdks_are_unquoted():
    hp = parse_hyperparameters({"num_round": "10", "objective": '"binary:logistic"'})
    assert hp.objective == "binary:logistic"


def test_num_round_is_required():
    with pytest.raises(HyperparameterError, match="'num_round' is required"):
        parse_hyperparameters({"eta": "0.1"})


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("learning_rate", "calls it 'eta'"),
        ("etaa", "did you mean 'eta'"),
        ("max_dept", "did you mean 'max_depth'"),
    ],
)
def test_unknown_hyperparameters_are_errors_with_a_hint(name, hint):
    with pytest.raises(HyperparameterError, match=f"unknown hyperparameter '{name}' \\(.*{hint}"):
        parse_hyperparameters({"num_round": "10", name: "0.1"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("eta", "1.5", r"'eta' must be a number in \[0, 1\], got '1.5'"),
        ("subsample", "0", r"\(0, 1\]"),
        ("max_depth", "2.5", "an integer"),
        ("num_round", "0", "num_round"),
        ("alpha", "-1", "alpha"),
        ("eta", "fast", "got 'fast'"),
        ("alpha", "inf", "alpha"),
        ("objective", "binary:logistc", "must be one of binary:logistic"),
    ],
)
def test_values_out_of_limits_are_errors(name, value, message):
    raw = {"num_round": "10", name: value}
    with pytest.raises(HyperparameterError, match=message):
        parse_hyperparameters(raw)


def test_multiclass_objectives_need_num_class_and_others_refuse_it():
    with pytest.raises(HyperparameterError, match="needs 'num_class'"):
        parse_hyperparameters({"num_round": "10", "objective": "multi:softprob"})
    with pytest.raises(HyperparameterError, match="only for multi"):
        parse_hyperparameters({"num_round": "10", "objective": "binary:logistic", "num_class": "2"})


def test_eval_metric_is_a_comma_separated_list_of_known_metrics():
    hp = parse_hyperparameters({"num_round": "10", "eval_metric": "logloss,auc,error@0.7"})
    assert hp.eval_metrics == ("logloss", "auc", "error@0.7")
    with pytest.raises(HyperparameterError, match="unknown eval_metric 'acu'"):
        parse_hyperparameters({"num_round": "10", "eval_metric": "acu"})


def test_the_tuning_objective_is_evaluated_last_so_early_stopping_watches_it():
    hp = parse_hyperparameters(
        {"num_round": "10", "eval_metric": "auc,logloss", "_tuning_objective_metric": "validation:auc"}
    )
    assert hp.eval_metrics == ("logloss", "auc")
    assert hp.tuning_objective == "validation:auc"


def test_reserved_sagemaker_keys_are_skipped():
    hp = parse_hyperparameters({"num_round": "10", "sagemaker_program": "train.py", "_kms": "x"})
    assert hp.params == {}


def test_the_old_reg_linear_is_xgboosts_squarederror():
    assert (
        parse_hyperparameters({"num_round": "1", "objective": "reg:linear"}).objective == "reg:squarederror"
    )
