"""train.py in process: strict argument parsing, SageMaker's environment, the pure train() function."""

import json

import numpy as np
import pytest
import xgboost as xgb

from training.errors import ChannelError, HyperparameterError
from training.hyperparameters import parse_hyperparameters
from training.metrics import parse_metric_lines
from training.train import parse_args, train


@pytest.fixture
def base(tmp_path):
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps({"num_round": "5", "eta": "0.1"}))
    return tmp_path


def _data(rows=200, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 4)).astype(np.float32)
    return features, (features[:, 0] + 0.3 * rng.normal(size=rows) > 0).astype(np.float32)


def test_paths_default_to_the_base_dir(base):
    config = parse_args([], {"SAGEMAKER_BASE_DIR": str(base)})
    assert config.model_dir == base / "model"
    assert config.train_dir == base / "input" / "data" / "train"
    assert config.validation_dir is None  # optional and absent
    assert config.hyperparameters.num_round == 5


def test_sm_environment_variables_win_over_defaults(base, tmp_path):
    env = {
        "SAGEMAKER_BASE_DIR": str(base),
        "SM_MODEL_DIR": str(tmp_path / "m"),
        "SM_CHANNEL_TRAIN": str(tmp_path / "t"),
        "SM_CHANNEL_VALIDATION": str(tmp_path / "v"),
        "SM_HP_ETA": "0.3",
    }
    config = parse_args([], env)
    assert (config.model_dir, config.train_dir, config.validation_dir) == (
        tmp_path / "m",
        tmp_path / "t",
        tmp_path / "v",
    )
    assert config.hyperparameters.params["eta"] == 0.3


def test_command_line_hyperparameters_win_over_the_file_and_env(base):
    config = parse_args(
        ["--eta", "0.05", "--max-depth", "3"], {"SAGEMAKER_BASE_DIR": str(base), "SM_HP_ETA": "0.3"}
    )
    assert config.hyperparameters.params == {"eta": 0.05, "max_depth": 3}


def test_a_typo_on_the_command_line_is_an_error_not_ignored(base):
    with pytest.raises(HyperparameterError, match="unrecognized arguments: --etaa"):
        parse_args(["--etaa", "0.1"], {"SAGEMAKER_BASE_DIR": str(base)})
    with pytest.raises(HyperparameterError, match="unrecognized"):
        parse_args(["--et", "0.1"], {"SAGEMAKER_BASE_DIR": str(base)})  # no prefix matching


def test_early_stopping_makes_the_validation_channel_required(base):
    config = parse_args(["--early_stopping_rounds", "3"], {"SAGEMAKER_BASE_DIR": str(base)})
    assert config.validation_dir == base / "input" / "data" / "validation"


def test_train_reports_every_round_and_a_final_line():
    lines = []
    hp = parse_hyperparameters({"num_round": "4", "objective": "binary:logistic", "eval_metric": "auc"})
    result = train(_data(), _data(seed=1), hp, emit=lines.append)
    series = parse_metric_lines("\n".join(lines))
    assert [r for r, _ in series["validation:auc"]] == [0, 1, 2, 3]
    assert lines[-1].startswith("[final] validation:auc=")
    assert result.final_metrics["validation:auc"] == pytest.approx(series["validation:auc"][-1][1], abs=1e-6)
    assert isinstance(result.booster, xgb.Booster)


def test_early_stopping_keeps_the_best_round_only():
    lines = []
    hp = parse_hyperparameters(
        {"num_round": "200", "eta": "0.9", "objective": "binary:logistic", "eval_metric": "logloss",
         "early_stopping_rounds": "3"}
    )  # fmt: skip
    result = train(_data(), _data(seed=1), hp, emit=lines.append)
    rounds = parse_metric_lines("\n".join(lines))["validation:logloss"]
    assert len(rounds) == result.best_round + 4  # the best round, then 3 without improvement
    assert result.booster.num_boosted_rounds() == result.best_round + 1
    assert result.final_metrics["validation:logloss"] == pytest.approx(min(v for _, v in rounds), abs=1e-6)


def test_train_is_deterministic():
    hp = parse_hyperparameters({"num_round": "5", "subsample": "0.5", "objective": "binary:logistic"})
    first = train(_data(), None, hp, emit=lambda _: None).booster.save_raw("json")
    again = train(_data(), None, hp, emit=lambda _: None).booster.save_raw("json")
    assert first == again


def test_labels_that_do_not_fit_the_objective_are_rejected():
    features, _ = _data()
    hp = parse_hyperparameters({"num_round": "2", "objective": "binary:logistic"})
    with pytest.raises(ChannelError, match="binary:logistic needs labels 0 or 1"):
        train((features, np.full(len(features), 2.0)), None, hp, emit=print)
    multi = parse_hyperparameters({"num_round": "2", "objective": "multi:softprob", "num_class": "3"})
    with pytest.raises(ChannelError, match=r"num_class=3 needs labels 0\.\.2"):
        train((features, np.full(len(features), 3.0)), None, multi, emit=print)


def test_validation_with_other_feature_count_is_rejected():
    hp = parse_hyperparameters({"num_round": "2"})
    features, labels = _data()
    with pytest.raises(ChannelError, match="'validation' has 3 features, 'train' has 4"):
        train((features, labels), (features[:, :3], labels), hp, emit=print)


def _rare(rows=400, seed=0):
    """About 9% positives: the case scale_pos_weight is for."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 4)).astype(np.float32)
    return features, (features[:, 0] + rng.normal(size=rows) > 1.8).astype(np.float32)


def test_scale_pos_weight_weighs_every_positive_row_as_xgboost_does():
    # Given rare positives and the hyperparameters as SageMaker passes them (strings)
    features, labels = _rare()
    common = {"num_round": "10", "max_depth": "3", "objective": "binary:logistic", "tree_method": "exact",
              "base_score": "0.5"}  # fmt: skip
    weighted = parse_hyperparameters({**common, "scale_pos_weight": "7"})
    # When train() runs with scale_pos_weight = 7
    booster = train((features, labels), None, weighted, emit=lambda _: None).booster
    # Then the model is the one XGBoost learns when each positive row counts 7 times (its definition)
    params = {
        "objective": "binary:logistic",
        "max_depth": 3,
        "tree_method": "exact",
        "base_score": 0.5,
        "seed": 0,
    }
    weights = np.where(labels == 1, 7.0, 1.0)
    reference = xgb.train(params, xgb.DMatrix(features, label=labels, weight=weights), num_boost_round=10)
    grid = xgb.DMatrix(features)
    np.testing.assert_allclose(booster.predict(grid), reference.predict(grid), rtol=1e-6)
    # And it is not the unweighted model: the positives' probabilities go up
    plain = train((features, labels), None, parse_hyperparameters(common), emit=lambda _: None).booster
    assert booster.predict(grid)[labels == 1].mean() > plain.predict(grid)[labels == 1].mean() + 0.1


def test_scale_pos_weight_reaches_train_from_the_job_hyperparameters(base):
    (base / "input" / "config" / "hyperparameters.json").write_text(
        json.dumps({"num_round": "5", "objective": "binary:logistic", "scale_pos_weight": "16.3267"})
    )
    config = parse_args([], {"SAGEMAKER_BASE_DIR": str(base)})
    assert config.hyperparameters.params["scale_pos_weight"] == pytest.approx(16.3267)


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_scale_pos_weight_must_be_positive_as_in_sagemakers_xgboost(value):
    # The built-in container's range for it is (0, inf)
    with pytest.raises(HyperparameterError, match=r"'scale_pos_weight' must be a number in \(0, inf\)"):
        parse_hyperparameters({"num_round": "5", "scale_pos_weight": value})


def test_base_score_is_sagemakers_default_unless_given():
    # Given rare positives (XGBoost from 2.0 would start from their share, about 0.09)
    features, labels = _rare()
    common = {"num_round": "1", "max_depth": "2", "objective": "binary:logistic", "eta": "0.000001"}

    # When a model is trained without base_score, and with one
    default = train((features, labels), None, parse_hyperparameters(common), emit=lambda _: None).booster
    given = parse_hyperparameters({**common, "base_score": "0.2"})
    chosen = train((features, labels), None, given, emit=lambda _: None).booster

    # Then it starts from SageMaker's documented 0.5, or from the value given
    grid = xgb.DMatrix(features)
    np.testing.assert_allclose(default.predict(grid), 0.5, atol=1e-4)
    np.testing.assert_allclose(chosen.predict(grid), 0.2, atol=1e-4)
