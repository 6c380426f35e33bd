"""`mlstack run` rejects, before starting anything, what ValidateInput would reject - with its message."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from contracts.run_options import stage_defaults
from handlers.common.errors import InvalidInput
from handlers.validate_input.options import parse_options
from mlstack.aws import Aws
from mlstack.cli import main
from mlstack.commands.run import check_input
from mlstack.stack import Target, stage_config

STAGE = stage_config("local")
DEFAULTS = stage_defaults(STAGE)
NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
# {bucket} is the data bucket, {dataset} a prepared dataset in it.
CASES = [
    ({"tuning_max_jobs": 0}, "tuning_max_jobs: expected an integer from 1 to 750, got 0"),
    ({"tuning_strategy": "Greedy"}, "tuning_strategy: expected one of Bayesian"),
    ({"colour": "red"}, "input: unknown keys colour"),
    (
        {"tuning_max_jobs": 2, "tuning_max_parallel_jobs": 3},
        "tuning_max_parallel_jobs: 3 is more than tuning_max_jobs (2)",
    ),
    ({"dataset": "s3://elsewhere/datasets/bank/"}, "is outside the data bucket '{bucket}'"),
    ({"dataset": "s3://{bucket}/datasets/bank"}, "must be a prefix ending in '/'"),
    ({"tuning_ranges": {"gamma": {"min": 1}}}, "give both min and max"),
]


def _target(stack: dict[str, str]) -> Target:
    return Target(Aws(), STAGE.stack_name, stack)


def _given(change: dict[str, object], bucket: str, dataset: str) -> dict[str, object]:
    given: dict[str, object] = {"dataset": dataset, **change}
    if isinstance(given["dataset"], str):
        given["dataset"] = str(given["dataset"]).format(bucket=bucket)
    return given


@pytest.mark.parametrize(("change", "message"), CASES)
def test_the_cli_says_what_validate_input_says(change, message, endpoint_aws, local_stack, bank):
    bucket = local_stack["DataBucketName"]
    given = _given(change, bucket, bank)
    with pytest.raises(InvalidInput) as cli_error:
        check_input(given, _target(local_stack), STAGE, "a-run", endpoint_aws.client("s3"), NOW)
    assert message.format(bucket=bucket) in str(cli_error.value)


@pytest.mark.parametrize(("change", "message"), CASES[:4])
def test_option_messages_are_validate_inputs_own(change, message, endpoint_aws, local_stack, bank):
    # The very function the Lambda runs: the messages are the same, not merely alike.
    given = _given(change, local_stack["DataBucketName"], bank)
    with pytest.raises(InvalidInput) as handler_error:
        parse_options(given, DEFAULTS)
    with pytest.raises(InvalidInput) as cli_error:
        check_input(given, _target(local_stack), STAGE, "a-run", endpoint_aws.client("s3"), NOW)
    assert str(handler_error.value) == str(cli_error.value)


def test_a_valid_input_is_planned_as_validate_input_plans_it(endpoint_aws, local_stack, bank):
    given = {"dataset": bank, "tuning_max_jobs": 3, "keep_endpoint": True}
    run = check_input(given, _target(local_stack), STAGE, "a-run", endpoint_aws.client("s3"), NOW)
    assert run["problem_type"] == "binary"
    assert run["tuning"]["config"]["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 3
    assert run["names"]["tuning_job"].startswith(f"{local_stack['NamePrefix']}-a-run-")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tuning-max-jobs", "0"], "tuning_max_jobs: expected an integer from 1 to 750, got 0"),
        (["--name", "has space"], "--name: 'has space' must be 1-80 letters"),
        (["--set", "nope=1"], "input: unknown keys nope"),
    ],
)
def test_invalid_input_exits_2_without_starting_anything(argv, message, local_stack, bank, capsys):
    assert main(["run", "--stage", "local", "--dataset", bank, *argv]) == 2
    assert message in capsys.readouterr().err
    sfn = boto3.client("stepfunctions")
    assert sfn.list_executions(stateMachineArn=local_stack["StateMachineArn"])["executions"] == []
