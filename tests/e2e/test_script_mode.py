"""Your own training script through the whole pipeline offline: packed by `mlstack run --entry-point`,
tuned in its framework's container, its finalist served with its own inference functions and evaluated
on the same test set as Autopilot's."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from mlstack.cli import main
from tests.e2e.conftest import STACK_NAME

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Per example: its container, the metric line it prints (as a regex) and ranges of its own hyperparameters.
CASES = {
    "sklearn": (
        "sagemaker-scikit-learn",
        r"validation:auc=validation:auc=([0-9.]+)",
        {
            "learning_rate": {"min": 0.05, "max": 0.3, "scaling": "Logarithmic"},
            "max_leaf_nodes": {"min": 8, "max": 32},
        },
    ),
    "xgboost": (
        "sagemaker-xgboost",
        r"validation:auc=validation-auc:([0-9.]+)",
        {"eta": {"min": 0.05, "max": 0.5, "scaling": "Logarithmic"}, "max_depth": {"min": 2, "max": 6}},
    ),
}


def script_run(dataset_uri: str, example: str, metric: str, name: str | None = None) -> list[str]:
    """`mlstack run` of an example script on the stack (under a new name unless given), its objective
    found by `metric`."""
    name = name or f"script-{uuid.uuid4().hex[:8]}"
    argv = ["run", "--stack", STACK_NAME, "--dataset", dataset_uri, "--name", name]
    return [*argv, "--entry-point", str(EXAMPLES / example / "train.py"), "--metric", metric]


@pytest.fixture
def cli_env(local_aws, monkeypatch):
    """The CLI in-process with only AWS_ENDPOINT_URL and dummy credentials, as a user runs it."""
    for key, value in local_aws["env"].items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("example", sorted(CASES))
def test_a_scripts_finalist_is_tuned_served_and_evaluated_against_autopilots(
    example, cli_env, stack, dataset, aws, report, leftovers, capsys
):
    # Given an example script, its metric's regex and ranges of its own hyperparameters
    repository, metric, ranges = CASES[example]
    argv = [*script_run(dataset("bank"), example, metric), "--framework", example]
    # Four trials: enough for the next round's ranges to be suggested from them
    argv += ["--tuning-ranges", json.dumps(ranges), "--tuning-max-jobs", "4", "--follow", "--json"]

    # When the user runs it through the pipeline
    code = main(argv)

    # Then the run succeeds, the script's finalist evaluated beside Autopilot's on the same test set
    result = json.loads(capsys.readouterr().out)
    assert code == 0, (result["error"], result["cause"])
    evaluation = result["output"]["evaluation"]
    assert set(evaluation["metrics"]) == {"Tuning", "Autopilot"}, evaluation
    assert evaluation["metrics"]["Tuning"]["auc"] > 0.75 and evaluation["metrics"]["Tuning"]["accuracy"] > 0.8
    # And the tuning job ran the framework's container on the script, its objective found by the regex
    board = json.loads(report(result["output"]["run_id"])["leaderboard.json"])
    sm = aws("sagemaker")
    tuning = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=board["tuning"]["job"])
    definition = tuning["TrainingJobDefinition"]
    assert f"/{repository}:" in definition["AlgorithmSpecification"]["TrainingImage"]
    assert definition["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "validation:auc", "Regex": metric.split("=", 1)[1]}
    ]
    assert definition["StaticHyperParameters"]["sagemaker_program"] == '"train.py"'
    assert [c["ChannelName"] for c in definition["InputDataConfig"]] == ["train", "validation", "code"]
    best = sm.describe_training_job(TrainingJobName=tuning["BestTrainingJob"]["TrainingJobName"])
    assert {m["MetricName"] for m in best["FinalMetricDataList"]} == {"validation:auc"}
    assert len(board["tuning"]["trials"]) == 4
    assert board["tuning"]["script"]["entry_point"] == "train.py"
    # And the next round's ranges can be suggested from it: the script's own hyperparameters, within
    # the ranges it searched
    assert main(["ranges", "suggest", result["output"]["run_id"], "--stack", STACK_NAME, "--json"]) == 0
    suggested = json.loads(capsys.readouterr().out)["tuning_ranges"]
    assert set(suggested) == set(ranges)
    for name, searched in ranges.items():
        assert searched["min"] <= suggested[name]["min"] <= suggested[name]["max"] <= searched["max"]


def test_a_regex_that_matches_nothing_is_named_with_its_trials(
    cli_env, stack, dataset, faults, leftovers, capsys
):
    # Given a metric regex the script's output never matches, and an Autopilot that fails too
    faults.add(fail="automl", reason="Injected Autopilot failure.")
    argv = script_run(dataset("bank"), "sklearn", "validation:auc=AUC is ([0-9.]+)")
    argv += ["--tuning-ranges", json.dumps(CASES["sklearn"][2]), "--tuning-max-jobs", "2", "--follow"]

    # When it runs
    code = main(argv)

    # Then the run fails saying which regex matched nothing in which trials
    err = capsys.readouterr().err
    assert code == 1
    assert "run FAILED: NoFinalist" in err
    assert "the objective validation:auc's regex 'AUC is ([0-9.]+)' matched nothing in the output of 2" in err


def test_a_script_run_narrowed_from_the_last_continues_it(cli_env, stack, dataset, aws, report, capsys):
    # Given a finished round of the sklearn example, four trials
    _, metric, ranges = CASES["sklearn"]
    first = f"script-{uuid.uuid4().hex[:8]}"
    argv = [*script_run(dataset("bank"), "sklearn", metric, first), "--tuning-ranges", json.dumps(ranges)]
    assert main([*argv, "--tuning-max-jobs", "4", "--follow", "--json"]) == 0
    first_run = json.loads(capsys.readouterr().out)["output"]["run_id"]

    # When the next round narrows from it, with the same script
    argv = [*script_run(dataset("bank"), "sklearn", metric), "--narrow-from", first]
    code = main([*argv, "--tuning-max-jobs", "2", "--follow", "--json"])

    # Then it succeeds, warm-started from the first round's tuning job, within the ranges it suggested
    result = json.loads(capsys.readouterr().out)
    assert code == 0, (result["error"], result["cause"])
    board = json.loads(report(result["output"]["run_id"])["leaderboard.json"])
    parent = json.loads(report(first_run)["leaderboard.json"])["tuning"]["job"]
    assert board["tuning"]["warm_start"]["ParentHyperParameterTuningJobs"] == [
        {"HyperParameterTuningJobName": parent}
    ]
    rate = next(
        r for r in board["tuning"]["ranges"]["ContinuousParameterRanges"] if r["Name"] == "learning_rate"
    )
    assert ranges["learning_rate"]["min"] <= float(rate["MinValue"]) < float(rate["MaxValue"]) <= 0.3
