"""train.py as SageMaker runs it: a subprocess inside a fake /opt/ml tree (and main() in process)."""

import json
import os
import re

import numpy as np
import pytest
import xgboost as xgb

from training import train as train_script
from training.metrics import final_metrics, metric_regex, parse_metric_lines
from training.tuning_ranges import static_hyperparameters

BINARY = {"num_round": "20", "eta": "0.3", "max_depth": "4", **static_hyperparameters("binary")}


def test_a_binary_job_writes_a_loadable_model_and_parseable_metrics(opt_ml, run_train, bank_dir):
    # Given a fake /opt/ml with the bank channels and the tuning job's static hyperparameters
    base = opt_ml(bank_dir, {**BINARY, "_tuning_objective_metric": "validation:auc"})
    # When the script runs
    result = run_train(base)
    # Then it succeeds, prints metrics the shared regex reads, and saves a booster
    assert result.returncode == 0, result.stderr
    series = parse_metric_lines(result.stdout)
    assert {"train:auc", "validation:auc"} <= set(series)
    objective = [float(v) for v in re.findall(metric_regex("validation:auc"), result.stdout)]
    assert objective[-1] == final_metrics(result.stdout)["validation:auc"] > 0.75
    booster = xgb.Booster()
    booster.load_model(bytearray((base / "model" / "xgboost-model").read_bytes()))
    manifest = json.loads((bank_dir / "manifest.json").read_text())
    assert booster.num_features() == len(manifest["feature_names"])
    assert not (base / "output" / "failure").exists()


def test_a_multiclass_job_with_sm_variables(opt_ml, run_train, digits_dir, tmp_path):
    base = opt_ml(digits_dir, {"num_round": "5", **static_hyperparameters("multiclass", num_class=10)})
    model_dir = tmp_path / "elsewhere"
    result = run_train(base, env={"SM_MODEL_DIR": str(model_dir), "SM_HP_MAX_DEPTH": "3"})
    assert result.returncode == 0, result.stderr
    assert (model_dir / "xgboost-model").is_file()
    assert len(parse_metric_lines(result.stdout)["validation:mlogloss"]) == 5


def test_a_missing_channel_fails_with_a_reason_naming_it(opt_ml, run_train, bank_dir):
    base = opt_ml(bank_dir, BINARY, channels=("train",))
    result = run_train(base)
    assert result.returncode != 0
    failure = (base / "output" / "failure").read_text()
    assert failure.startswith("ClientError: channel 'validation' is missing")
    assert not (base / "model" / "xgboost-model").exists()


def test_a_bad_hyperparameter_fails_the_process_with_the_reason(opt_ml, run_train, bank_dir):
    base = opt_ml(bank_dir, {**BINARY, "eta": "2"})
    result = run_train(base)
    reason = "ClientError: hyperparameter 'eta' must be a number in [0, 1], got '2'"
    assert result.returncode == 1
    assert (base / "output" / "failure").read_text().startswith(reason)
    assert reason in result.stderr


@pytest.fixture
def run_main(monkeypatch):
    """main() in this process, with only SAGEMAKER_BASE_DIR set: the same contract, no interpreter start."""

    def run(base, *args):
        for name in [n for n in os.environ if n.startswith("SM_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(base))
        code = train_script.main(list(args))
        failure = base / "output" / "failure"
        return code, failure.read_text() if failure.exists() else None

    return run


@pytest.mark.parametrize(
    ("hyperparameters", "args", "reason"),
    [
        ({**BINARY, "learning_rate": "0.1"}, [], "ClientError: unknown hyperparameter 'learning_rate'"),
        (BINARY, ["--max_dept", "3"], "ClientError: unrecognized arguments: --max_dept 3"),
        ({"eta": "0.1"}, [], "ClientError: hyperparameter 'num_round' is required"),
    ],
)
def test_bad_jobs_fail_with_the_reason(opt_ml, run_main, bank_dir, hyperparameters, args, reason):
    code, failure = run_main(opt_ml(bank_dir, hyperparameters), *args)
    assert code == 1
    assert failure.startswith(reason)


def test_labels_that_do_not_fit_the_objective_are_a_client_error(opt_ml, run_main, digits_dir):
    code, failure = run_main(opt_ml(digits_dir, BINARY))
    assert code == 1
    assert failure.startswith("ClientError: channel 'train': binary:logistic needs labels 0 or 1")


def test_a_missing_train_channel_is_named_too(opt_ml, run_main, bank_dir):
    code, failure = run_main(opt_ml(bank_dir, {"num_round": "3"}, channels=()))
    assert code == 1
    assert failure.startswith("ClientError: channel 'train' is missing")


def test_a_channel_with_a_header_row_is_a_client_error(opt_ml, run_main, bank_dir):
    base = opt_ml(bank_dir, BINARY)
    train_csv = base / "input" / "data" / "train" / "train.csv"
    train_csv.write_text("label,a,b\n" + train_csv.read_text())
    code, failure = run_main(base)
    assert code == 1
    assert "channel 'train': cannot read train.csv as numeric CSV" in failure


def test_every_file_of_a_channel_is_read(opt_ml, run_main, diabetes_dir, capsys):
    # Given the train channel split over two files, as a SageMaker S3 prefix may be
    base = opt_ml(diabetes_dir, {"num_round": "3", **static_hyperparameters("regression")})
    train_dir = base / "input" / "data" / "train"
    lines = (train_dir / "train.csv").read_text().splitlines(keepends=True)
    (train_dir / "train.csv").write_text("".join(lines[:100]))
    (train_dir / "part-2.csv").write_text("".join(lines[100:]))
    (train_dir / ".hidden").write_text("not,data\n")
    # When it trains, Then both files were read and the hidden one skipped
    assert run_main(base) == (0, None)
    assert np.isfinite(final_metrics(capsys.readouterr().out)["validation:rmse"])


def test_an_unexpected_error_is_an_algorithm_error(opt_ml, run_main, bank_dir, monkeypatch):
    monkeypatch.setattr(train_script, "save_model", lambda *_: 1 / 0)
    code, failure = run_main(opt_ml(bank_dir, {"num_round": "2"}))
    assert code == 1
    assert failure.startswith("AlgorithmError: ZeroDivisionError")
