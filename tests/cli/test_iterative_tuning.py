"""Tuning in rounds from the CLI: --warm-start, `ranges suggest`, --narrow-from, at an AWS endpoint."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import numpy as np
import pytest

from contracts.names import run_names
from mlstack.cli import main
from mlstack.commands.run import check_input
from mlstack.stack import Target, resolve, stage_config
from training import tuning_ranges

PARENT = "bank-parent-run"


def _target() -> Target:
    return resolve(argparse.Namespace(stage="local", stack=None, local=False))


def create_parent(target: Target, dataset: str, execution: str = PARENT) -> str:
    """The tuning job a run of `execution` on `dataset` would have created (moto keeps it Completed)."""
    s3, sm = target.aws.client("s3"), target.aws.client("sagemaker")
    run = check_input({"dataset": dataset}, target, stage_config("local"), execution, s3, datetime.now(UTC))
    tuning = run["tuning"]
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=run["names"]["tuning_job"],
        HyperParameterTuningJobConfig=tuning["config"],
        TrainingJobDefinition={
            "StaticHyperParameters": tuning["static_hyperparameters"],
            "AlgorithmSpecification": {"TrainingImage": "xgboost:1.7-1", "TrainingInputMode": "File"},
            "RoleArn": "arn:aws:iam::123456789012:role/sagemaker",
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": run["dataset"]["train"]}
                    },
                }
            ],
            "OutputDataConfig": {"S3OutputPath": tuning["output_path"]},
            "ResourceConfig": dict(tuning["resource_config"]),
            "StoppingCondition": dict(tuning["stopping_condition"]),
        },
    )
    return run["run_id"]


def _started_input(stack: dict[str, str], arn: str) -> dict[str, Any]:
    described = boto3.client("stepfunctions").describe_execution(executionArn=arn)
    assert described["stateMachineArn"] == stack["StateMachineArn"]
    return dict(json.loads(described["input"]))


@pytest.mark.parametrize("named_as", ["execution name", "run id"])
def test_a_warm_start_names_its_parent_by_run_id(local_stack, bank, capsys, named_as):
    # Given a finished run on the same dataset
    run_id = create_parent(_target(), bank)
    assert run_id == run_names("mlsloc", local_stack["StateMachineArn"], PARENT).run_id
    # When a run warm-starts from it, named by its execution name or its run id
    parent = PARENT if named_as == "execution name" else run_id
    code = main(["run", "--stage", "local", "--dataset", bank, "--warm-start", parent, "--json"])
    out, err = capsys.readouterr()
    # Then the execution starts with the parent's run id, which ValidateInput accepted
    assert code == 0, err
    assert _started_input(local_stack, json.loads(out)["executionArn"])["warm_start"] == [run_id]


def test_a_parent_that_never_tuned_is_refused_before_anything_starts(local_stack, bank, capsys):
    code = main(["run", "--stage", "local", "--dataset", bank, "--warm-start", "never-ran", "--json"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "warm_start: run 'never-ran' has no tuning job in this stack" in err
    assert (
        boto3.client("stepfunctions").list_executions(stateMachineArn=local_stack["StateMachineArn"])[
            "executions"
        ]
        == []
    )


def test_a_warm_start_that_adds_a_hyperparameter_is_refused_saying_what_to_change(local_stack, bank, capsys):
    create_parent(_target(), bank)
    ranges = json.dumps({"gamma": {"min": 0, "max": 5}})
    code = main(
        ["run", "--stage", "local", "--dataset", bank, "--warm-start", PARENT, "--tuning-ranges", ranges]
    )
    _, err = capsys.readouterr()
    assert code == 2
    assert "this run adds gamma (leave it out of tuning_ranges)" in err


def leaderboard(run_id: str, trials: int = 20, seed: int = 5) -> dict[str, Any]:
    """A leaderboard.json whose AUC peaks at eta 0.1 and ignores every other hyperparameter."""
    rng = np.random.default_rng(seed)
    entries = []
    for i in range(trials):
        values = {
            r.name: (
                str(int(rng.integers(int(r.min_value), int(r.max_value) + 1)))
                if r.integer
                else repr(float(rng.uniform(r.min_value, r.max_value)))
            )
            for r in tuning_ranges.DEFAULT_RANGES
        }
        auc = 0.9 - 0.5 * (float(values["eta"]) - 0.1) ** 2
        entries.append(
            {"name": f"trial-{i:03d}", "status": "Completed", "objective": auc, "hyperparameters": values}
        )
    return {
        "run_id": run_id,
        "tuning": {
            "job": f"mlsloc-{run_id}-hpo",
            "objective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ranges": tuning_ranges.parameter_ranges(tuning_ranges.DEFAULT_RANGES),
            "trials": entries,
        },
        "autopilot": {"candidates": []},
        "warnings": [],
    }


def put_board(stack: dict[str, str], run_id: str, board: dict[str, Any]) -> None:
    boto3.client("s3").put_object(
        Bucket=stack["ArtifactsBucketName"], Key=f"reports/{run_id}/leaderboard.json", Body=json.dumps(board)
    )


def test_ranges_suggest_prints_the_narrowed_ranges_with_why(local_stack, capsys):
    # Given a run's leaderboard in the artifacts bucket, found by its execution name
    run_id = run_names("mlsloc", local_stack["StateMachineArn"], PARENT).run_id
    put_board(local_stack, run_id, leaderboard(run_id))
    # When its ranges are suggested
    code = main(["ranges", "suggest", PARENT, "--stage", "local", "--json"])
    out, err = capsys.readouterr()
    # Then eta narrows around where the best trials lie, each hyperparameter says why, and the JSON is input
    assert code == 0, err
    result = json.loads(out)
    assert result["run_id"] == run_id
    eta = result["tuning_ranges"]["eta"]
    assert 0.01 <= eta["min"] < 0.1 < eta["max"] < 0.5
    assert set(result["why"]) == {r.name for r in tuning_ranges.DEFAULT_RANGES}
    assert "no signal, left as it was" in result["why"]["subsample"]
    main(["ranges", "suggest", run_id, "--stage", "local"])
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("alpha: 0.0001-1 Logarithmic ") for line in lines)
    assert len(lines) == len(tuning_ranges.DEFAULT_RANGES) + 2
    assert lines[-2].startswith("--tuning-ranges '{")


def test_ranges_suggest_needs_enough_trials(local_stack, capsys):
    run_id = run_names("mlsloc", local_stack["StateMachineArn"], PARENT).run_id
    put_board(local_stack, run_id, leaderboard(run_id, trials=2))
    assert main(["ranges", "suggest", run_id, "--stage", "local"]) == 2
    assert "narrowing needs at least 4" in capsys.readouterr().err


def test_narrow_from_tunes_within_the_suggestion_warm_started_from_that_run(local_stack, bank, capsys):
    # Given a finished run on the same dataset, with its tuning job and its leaderboard
    run_id = create_parent(_target(), bank)
    put_board(local_stack, run_id, leaderboard(run_id))
    # When a run narrows from it
    code = main(["run", "--stage", "local", "--dataset", bank, "--narrow-from", PARENT, "--json"])
    out, err = capsys.readouterr()
    # Then it starts with the suggested ranges and the parent as its warm start
    assert code == 0, err
    given = _started_input(local_stack, json.loads(out)["executionArn"])
    suggested = main(["ranges", "suggest", run_id, "--stage", "local", "--json"])
    assert suggested == 0
    assert given["tuning_ranges"] == json.loads(capsys.readouterr().out)["tuning_ranges"]
    assert given["warm_start"] == [run_id]
    # And naming ranges as well is a usage error
    ranges = json.dumps({"eta": {"min": 0.1, "max": 0.2}})
    assert (
        main(
            ["run", "--stage", "local", "--dataset", bank, "--narrow-from", PARENT, "--tuning-ranges", ranges]
        )
        == 2
    )
    assert "--narrow-from sets the tuning ranges itself" in capsys.readouterr().err
