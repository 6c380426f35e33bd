"""`mlstack run --warm-start`: parents named as the user knows them, checked by ValidateInput's own code."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from contracts.names import run_names
from mlstack.cli import main
from mlstack.commands.run import check_input
from mlstack.stack import Target, resolve, stage_config

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
