"""`mlstack run` against an AWS at an endpoint: the dataset checked first, and never two runs in one."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from contracts.names import MAX_JOB_NAME, run_names
from handlers.common.errors import InvalidInput
from handlers.validate_input.dataset import check_dataset
from mlstack.cli import main
from mlstack.commands.run import EXECUTION_NAME, default_name

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def _executions(stack: dict[str, str]) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions")
    return list(sfn.list_executions(stateMachineArn=stack["StateMachineArn"])["executions"])


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["run", "--stage", "local", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- generated names ---------------------------------------------------------------------------------


def test_generated_names_in_the_same_second_differ_and_keep_the_dataset_and_time_readable():
    rng = random.Random(7)
    names = {default_name("s3://bucket/datasets/bank/", NOW, rng) for _ in range(3)}
    assert len(names) == 3
    assert all(re.fullmatch(r"bank-20250304-050607-[0-9a-f]{6}", name) for name in names)


def test_the_longest_generated_name_fits_step_functions_and_sagemaker():
    # Given the longest dataset name kept (40 characters) and the longest name prefix a stage may have (8)
    name = default_name(f"s3://bucket/datasets/{'d' * 60}/", NOW, random.Random(1))

    # Then the execution name is within Step Functions' 80, and every SageMaker name derived from it
    # within SageMaker's limits (run_names raises otherwise)
    assert EXECUTION_NAME.match(name) and len(name) <= 63
    names = run_names("abcdefgh", "arn:aws:states:us-east-1:123456789012:stateMachine:sm", name)
    assert len(names.tuning_job) == MAX_JOB_NAME


# --- the dataset is checked as ValidateInput checks it ---------------------------------------------


def test_a_prepared_dataset_starts_one_execution(local_stack, bank, capsys):
    code, out, err = _run(capsys, "--dataset", bank, "--json")

    assert code == 0, err
    started = json.loads(out)
    assert [e["executionArn"] for e in _executions(local_stack)] == [started["executionArn"]]
    assert re.fullmatch(r"bank-\d{8}-\d{6}-[0-9a-f]{6}", started["name"])


@pytest.mark.parametrize(
    ("dataset", "remove", "message"),
    [
        ("datasets/nothing-here/", None, "dataset: no manifest.json at s3://{bucket}/datasets/nothing-here/"),
        ("datasets/bank/", "train/", "dataset: channel 'train' (s3://{bucket}/datasets/bank/train/) is"),
        (
            "datasets/bank/",
            "autopilot/",
            "dataset: channel 'autopilot' (s3://{bucket}/datasets/bank/autopilot/",
        ),
    ],
    ids=["missing-prefix", "empty-train", "empty-autopilot"],
)
def test_a_missing_or_incomplete_dataset_exits_2_with_validate_inputs_message_and_starts_nothing(
    dataset, remove, message, endpoint_aws, local_stack, bank, capsys
):
    # Given a dataset prefix that holds nothing, or a prepared one with a channel emptied
    bucket = local_stack["DataBucketName"]
    s3 = endpoint_aws.client("s3")
    if remove:
        for item in s3.list_objects_v2(Bucket=bucket, Prefix=f"datasets/bank/{remove}")["Contents"]:
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    uri = f"s3://{bucket}/{dataset}"

    # When the user starts a run on it
    code, _, err = _run(capsys, "--dataset", uri)

    # Then it exits 2 with ValidateInput's own message, and no execution exists
    assert code == 2
    assert message.format(bucket=bucket) in err
    with pytest.raises(InvalidInput) as validate_input:
        check_dataset(s3, uri, bucket)
    assert f"error: {validate_input.value}" in err
    assert _executions(local_stack) == []


def test_an_objective_that_does_not_fit_the_datasets_problem_type_exits_2(local_stack, bank, capsys):
    # Only the manifest says the problem is binary: this was left to the pipeline before.
    code, _, err = _run(capsys, "--dataset", bank, "--objective", "validation:rmse")

    assert code == 2
    assert "objective: 'validation:rmse' does not fit a binary problem" in err
    assert _executions(local_stack) == []


# --- a name is never shared ------------------------------------------------------------------------


def test_nameless_runs_started_together_are_distinct_executions(local_stack, bank, capsys):
    # Given three starts with the same input, as fast as one process can make them (same second)
    arns = []
    for _ in range(3):
        code, out, err = _run(capsys, "--dataset", bank, "--json")
        assert code == 0, err
        arns.append(json.loads(out)["executionArn"])

    # Then there are three executions, not one answered three times
    assert len(set(arns)) == 3
    assert sorted(e["executionArn"] for e in _executions(local_stack)) == sorted(arns)


def test_a_name_in_use_is_refused_with_exit_2(local_stack, bank, capsys):
    # Given a running execution named first
    assert _run(capsys, "--dataset", bank, "--name", "first")[0] == 0

    # When another run asks for that name, with the same input (which StartExecution would answer with
    # the running execution) and with another one
    same = _run(capsys, "--dataset", bank, "--name", "first")
    other = _run(capsys, "--dataset", bank, "--name", "first", "--tuning-max-jobs", "2")

    # Then both are refused, naming the execution, and it is still the only one
    for code, _, err in (same, other):
        assert code == 2
        assert "--name: an execution named 'first' already exists in MlStack-local (RUNNING since" in err
    assert [e["name"] for e in _executions(local_stack)] == ["first"]


@pytest.mark.parametrize("their_input", ["same", "other"])
def test_a_name_taken_between_the_check_and_the_start_is_refused(
    their_input, local_stack, bank, capsys, monkeypatch
):
    # Given someone starts an execution of the same name right after our DescribeExecution found none:
    # with the same input StartExecution returns theirs (idempotent), with another it fails
    ours = {"dataset": bank}
    theirs = ours if their_input == "same" else {"dataset": bank, "tuning_max_jobs": 2}
    session = boto3.Session()
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)  # the CLI's clients come from it
    raced: list[str] = []

    def start_theirs(**_: Any) -> None:
        if not raced:
            rival = boto3.client("stepfunctions")
            raced.append(
                rival.start_execution(
                    stateMachineArn=local_stack["StateMachineArn"], name="contested", input=json.dumps(theirs)
                )["executionArn"]
            )

    session.events.register("after-call.sfn.DescribeExecution", start_theirs)

    # When our run starts under that name
    code, out, err = _run(capsys, "--dataset", bank, "--name", "contested", "--json")

    # Then it is refused (exit 2), not handed their execution as if it were ours
    assert raced, "the race was not staged"
    assert code == 2, out
    assert "--name: an execution named 'contested' already exists in MlStack-local" in err
    assert out == ""
    assert [e["executionArn"] for e in _executions(local_stack)] == raced
