"""`mlstack run` rejects, before starting anything, what ValidateInput would reject - with its message."""

from __future__ import annotations

import argparse

import pytest

from contracts.run_options import stage_defaults
from handlers.common.errors import InvalidInput
from handlers.validate_input.options import parse_options
from mlstack.aws import Aws
from mlstack.cli import build_parser
from mlstack.commands import run as run_command
from mlstack.commands.run import check_input
from mlstack.stack import Target, stage_config

BUCKET = "data-bucket"
DATASET = f"s3://{BUCKET}/datasets/bank/"
DEFAULTS = stage_defaults(stage_config("local"))
CASES = [
    ({"dataset": DATASET, "tuning_max_jobs": 0}, "tuning_max_jobs: expected an integer from 1 to 750, got 0"),
    ({"dataset": DATASET, "tuning_strategy": "Greedy"}, "tuning_strategy: expected one of Bayesian"),
    ({"dataset": DATASET, "colour": "red"}, "input: unknown keys colour"),
    (
        {"dataset": DATASET, "tuning_max_jobs": 2, "tuning_max_parallel_jobs": 3},
        "tuning_max_parallel_jobs: 3 is more than tuning_max_jobs (2)",
    ),
    ({"dataset": "s3://elsewhere/datasets/bank/"}, "is outside the data bucket 'data-bucket'"),
    ({"dataset": f"s3://{BUCKET}/datasets/bank"}, "must be a prefix ending in '/'"),
    ({"dataset": DATASET, "tuning_ranges": {"gamma": {"min": 1}}}, "give both min and max"),
]


@pytest.mark.parametrize(("given", "message"), CASES)
def test_the_cli_says_what_validate_input_says(given, message):
    with pytest.raises(InvalidInput) as cli_error:
        check_input(given, DEFAULTS, BUCKET)
    assert message in str(cli_error.value)


@pytest.mark.parametrize(("given", "message"), CASES[:4])
def test_option_messages_are_validate_inputs_own(given, message):
    # The very function the Lambda runs: the messages are the same, not merely alike.
    with pytest.raises(InvalidInput) as handler_error:
        parse_options(given, DEFAULTS)
    with pytest.raises(InvalidInput) as cli_error:
        check_input(given, DEFAULTS, BUCKET)
    assert str(handler_error.value) == str(cli_error.value)


def test_a_valid_input_passes():
    check_input({"dataset": DATASET, "tuning_max_jobs": 3, "keep_endpoint": True}, DEFAULTS, BUCKET)


class _NoAws(Aws):
    def client(self, service: str):
        raise AssertionError(f"an invalid input must not reach AWS ({service})")


def _target() -> Target:
    outputs = {
        "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:sm",
        "DataBucketName": BUCKET,
        "ArtifactsBucketName": "artifacts",
        "NamePrefix": "mlsloc",
    }
    return Target(_NoAws(), "MlStack-local", outputs)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tuning-max-jobs", "0"], "tuning_max_jobs: expected an integer from 1 to 750, got 0"),
        (["--name", "has space"], "--name: 'has space' must be 1-80 letters"),
        (["--set", "nope=1"], "input: unknown keys nope"),
    ],
)
def test_invalid_input_exits_2_without_starting_anything(argv, message, monkeypatch, capsys):
    monkeypatch.setattr(run_command, "resolve", lambda args: _target())
    args: argparse.Namespace = build_parser().parse_args(
        ["run", "--stage", "local", "--dataset", DATASET, *argv]
    )
    assert run_command.run_command(args) == 2
    assert message in capsys.readouterr().err
