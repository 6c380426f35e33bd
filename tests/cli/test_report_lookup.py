"""`mlstack report <run>` without --stage: the run is looked for in every stack the user has."""

from __future__ import annotations

import json

import boto3
import pytest

from contracts.local_aws import client_env
from contracts.names import run_names
from mlstack import stack as stack_module
from mlstack.aws import Aws
from mlstack.cli import main
from tests.cli.conftest import FIXTURES, deploy_stack

RUN = "bank-20250304-050607-3ceb3f"  # an execution name, as `mlstack run` generates them


def write_report(aws: Aws, outputs: dict[str, str], execution_name: str) -> str:
    """The recorded report stored as that execution's Evaluate stores it; returns the run id."""
    run_id = run_names(outputs["NamePrefix"], outputs["StateMachineArn"], execution_name).run_id
    s3, bucket = aws.client("s3"), outputs["ArtifactsBucketName"]
    for name in ("evaluation.json", "leaderboard.json"):
        body = (FIXTURES / "binary" / name).read_bytes()
        s3.put_object(Bucket=bucket, Key=f"reports/{run_id}/{name}", Body=body)
    return run_id


def test_a_run_of_the_local_stage_is_found_though_the_default_stage_is_dev(
    endpoint_aws, local_stack, tmp_path, capsys
):
    # Given only the local stage's stack, holding the run's report (cdk.json's default stage is dev)
    run_id = write_report(endpoint_aws, local_stack, RUN)

    # When the user asks for the report by execution name, naming no stage
    code = main(["report", RUN, "--out", str(tmp_path), "--json"])

    # Then it is found in MlStack-local
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["run_id"] == run_id
    recorded = (FIXTURES / "binary" / "evaluation.json").read_bytes()
    assert (tmp_path / "evaluation.json").read_bytes() == recorded


def test_a_run_found_nowhere_fails_naming_every_stack_searched(endpoint_aws, local_stack, capsys):
    where = endpoint_aws.where

    assert main(["report", RUN]) == 1

    err = capsys.readouterr().err
    assert f"no report for {RUN!r}" in err
    assert f"MlStack-local at {where}: not there" in err
    assert f"MlStack-dev at {where}: not deployed" in err
    assert f"MlStack-prod at {where}: not deployed" in err


def test_a_run_name_in_two_stacks_is_not_guessed(endpoint_aws, local_stack, tmp_path, capsys):
    # Given an execution of the same name in the dev and the local stack, both reported
    write_report(endpoint_aws, local_stack, RUN)
    write_report(endpoint_aws, deploy_stack(endpoint_aws, "dev"), RUN)

    # Then the user is asked to choose, and --stage chooses
    assert main(["report", RUN]) == 1
    err = capsys.readouterr().err
    assert "is in several stacks (MlStack-dev at" in err and "MlStack-local at" in err
    assert "choose one with --stage or --stack" in err
    local_run_id = run_names(local_stack["NamePrefix"], local_stack["StateMachineArn"], RUN).run_id
    assert main(["report", RUN, "--stage", "local", "--out", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == local_run_id


@pytest.fixture
def no_account(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No AWS account configured and no endpoint: calls to AWS fail before anything is sent."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it keeps the credentials it first found
    for key in ("ENDPOINT_URL", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN", "PROFILE"):
        monkeypatch.delenv(f"AWS_{key}", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_offline_the_local_aws_is_searched_when_it_runs(
    endpoint_aws, local_stack, moto_port, no_account, monkeypatch, tmp_path, capsys
):
    # Given no AWS account, and the local AWS running with the local stack and the run's report
    local = Aws(client_env(moto_port))
    run_id = write_report(local, local_stack, RUN)
    monkeypatch.setattr(stack_module, "running_local_aws", lambda: local)

    # When the user asks for the report with neither --stage nor --local
    code = main(["report", RUN, "--out", str(tmp_path), "--json"])

    # Then the local stack has it
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["run_id"] == run_id


def test_offline_with_the_local_aws_down_the_error_says_so(endpoint_aws, no_account, capsys):
    assert main(["report", RUN]) == 1

    err = capsys.readouterr().err
    assert "cannot reach CloudFormation at region us-east-1: Unable to locate credentials" in err
    assert "the local AWS is not running, so its stacks were not searched (mlstack local up)" in err
