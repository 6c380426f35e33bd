"""Argument parsing: every command's --help, usage errors exit 2, overrides become the execution input."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from contracts.run_options import RUN_OPTIONS, Flag
from mlstack.cli import build_parser, main
from mlstack.commands.run import UsageError, build_input, default_name, finish, readable_cause

COMMANDS = ["run", "report", "quotas", "sweep", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert f"usage: mlstack {command}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["run"],  # --dataset is required
        ["run", "--dataset", "s3://b/datasets/x/", "--tuning-max-jobs", "many"],
        ["report"],
        ["sweep", "--bogus"],
        ["quotas", "--json", "--markdown"],
        ["run", "--dataset", "s3://b/datasets/x/", "--follo"],  # no abbreviations
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_there_is_a_flag_for_every_key_a_stage_defaults():
    for item in RUN_OPTIONS:
        flag = "--" + item.key.replace("_", "-")
        argv = ["run", "--dataset", "s3://b/datasets/x/"]
        # Booleans are switches; every other flag takes a value, parsed to the key's type.
        sample = (
            [flag]
            if isinstance(item.rule, Flag)
            else [flag, "ml.m5.large" if "instance" in item.key else "1"]
        )
        given = build_input(build_parser().parse_args([*argv, *sample]))
        assert item.key in given, flag


@pytest.mark.parametrize("item", RUN_OPTIONS, ids=lambda item: item.key)
def test_a_flags_type_and_help_come_from_the_table(item, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # one line per flag: argparse wraps to the terminal's width
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    usage = capsys.readouterr().out
    assert item.flag in usage
    assert item.help in usage
    if isinstance(item.rule, Flag):
        args = build_parser().parse_args(["run", "--dataset", "s3://b/datasets/x/", f"--no-{item.flag[2:]}"])
        assert build_input(args)[item.key] is False
    else:
        assert item.rule.expected in usage
        args = build_parser().parse_args(["run", "--dataset", "s3://b/datasets/x/", item.flag, "7"])
        assert build_input(args)[item.key] == item.rule.cli_type("7")
        assert type(build_input(args)[item.key]) is type(item.rule.cli_type("7"))


def test_flags_and_set_pairs_become_the_input():
    args = build_parser().parse_args(
        [
            "run",
            "--dataset",
            "s3://b/datasets/bank/",
            "--tuning-max-jobs",
            "4",
            "--tuning-strategy",
            "Random",
            "--no-use-spot-training",
            "--keep-endpoint",
            "--endpoint-ttl-hours",
            "1.5",
            "--tuning-ranges",
            '{"eta": {"min": 0.1, "max": 0.2}}',
            "--set",
            "autopilot_max_candidates=2",
            "--set",
            "autopilot_mode=AUTO",
            "--set",
            "tuning_max_jobs=5",  # --set comes last and wins
        ]
    )
    assert build_input(args) == {
        "dataset": "s3://b/datasets/bank/",
        "tuning_max_jobs": 5,
        "tuning_strategy": "Random",
        "use_spot_training": False,
        "keep_endpoint": True,
        "endpoint_ttl_hours": 1.5,
        "tuning_ranges": {"eta": {"min": 0.1, "max": 0.2}},
        "autopilot_max_candidates": 2,
        "autopilot_mode": "AUTO",
    }


def test_a_flag_not_given_is_left_to_the_stage_default():
    args = build_parser().parse_args(["run", "--dataset", "s3://b/datasets/bank/"])
    assert build_input(args) == {"dataset": "s3://b/datasets/bank/"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "novalue"], "--set: expected KEY=VALUE"),
        (["--tuning-ranges", "{eta"], "--tuning-ranges: not valid JSON"),
    ],
)
def test_malformed_overrides_are_usage_errors(extra, message):
    args = build_parser().parse_args(["run", "--dataset", "s3://b/datasets/bank/", *extra])
    with pytest.raises(UsageError, match=message):
        build_input(args)


def test_the_default_execution_name_is_the_dataset_the_utc_time_and_a_random_suffix():
    now = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert default_name("s3://bucket/datasets/bank/", now, random.Random(3)) == "bank-20250304-050607-3ceb3f"
    assert default_name("s3://bucket/datasets/my data!/", now, random.Random(3)).startswith(
        "my-data-20250304-050607-"
    )


def test_a_lambdas_cause_is_shown_as_its_message():
    lambda_cause = (
        '{"errorMessage": "dataset: no manifest.json", "errorType": "InvalidInput", "stackTrace": []}'
    )
    assert readable_cause(lambda_cause) == "dataset: no manifest.json"
    assert readable_cause("Autopilot outlived its polling budget") == "Autopilot outlived its polling budget"
    assert readable_cause(None) == "-"


def test_finish_exits_1_on_failure_and_0_with_the_winner(capsys):
    failed = {"executionArn": "arn", "status": "FAILED", "error": "QuotaExceeded", "cause": "too few"}
    assert finish(failed, as_json=False) == 1
    assert "run FAILED: QuotaExceeded: too few" in capsys.readouterr().err
    output = {
        "run_id": "r1",
        "evaluation": {"winner": "Tuning", "metric": "auc", "metrics": {"Tuning": {"auc": 0.9}}},
    }
    succeeded = {"executionArn": "arn", "status": "SUCCEEDED", "output": json.dumps(output)}
    assert finish(succeeded, as_json=False) == 0
    assert "run r1 SUCCEEDED: winner Tuning by auc" in capsys.readouterr().out
