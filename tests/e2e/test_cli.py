"""The user-facing commands against the local AWS: run --follow, report, quotas, sweep, and the demo."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest

from localaws import ports
from localaws.process import health
from localaws.settings import PROJECT_ROOT
from mlstack import aws as aws_module
from mlstack.cli import main
from tests.e2e.conftest import CDK, STACK_NAME, wait_status

pytestmark = pytest.mark.e2e
ROLE = "arn:aws:iam::123456789012:role/unused"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
# Below the 2 training instances the local stage's tuning runs at once: CheckQuotas fails the run
# before anything is created, so a test that only needs executions to exist ends them quickly.
TRAINING_QUOTA = "ml.m5.xlarge for training job usage"


@pytest.fixture
def cli_env(local_aws, monkeypatch):
    """The commands run in-process with only AWS_ENDPOINT_URL and dummy credentials, as a user would."""
    for key, value in local_aws["env"].items():
        monkeypatch.setenv(key, value)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_run_follow_shows_progress_and_the_winner_then_report_draws_it(
    cli_env, local_aws, stack, dataset, leftovers, tmp_path, capsys, monkeypatch
):
    # Given a prepared dataset and a deployed stack found by its name alone
    uri, name = dataset("bank"), _name("cli")

    # When the user runs the pipeline and follows it
    code = main(
        ["run", "--stack", STACK_NAME, "--dataset", uri, "--name", name, "--follow", "--interval", "1"]
    )

    # Then progress lines, the winner and its metrics are printed and the exit code is 0
    out = capsys.readouterr().out
    assert code == 0, out
    progress = [line for line in out.splitlines() if line.startswith("[") and "| tuning: " in line]
    assert "execution: RUNNING" in progress[0], out
    # Tuning may have ended by the first poll that sees it (a local run takes seconds): either counts.
    assert any(re.search(r"tuning: (InProgress|Completed)  trials \d+/\d+ done", p) for p in progress), out
    assert any("autopilot: " in p and "autopilot: not started" not in p for p in progress), out
    assert "SUCCEEDED: winner " in out and "test-set metrics" in out

    # And the report command finds the run by its execution name alone (no --stage: the local stage
    # is not cdk.json's default) and draws the charts
    assert main(["report", name, "--out", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["winner"] in ("Tuning", "Autopilot")
    files = {Path(p).name for p in result["files"]}
    assert {"evaluation.json", "leaderboard.json", "report.html", "tuning.png", "leaderboard.png"} <= files
    assert any(f.startswith("confusion-") for f in files)
    assert (tmp_path / "tuning.png").read_bytes().startswith(b"\x89PNG")
    run_id = result["run_id"]

    # And without AWS_ENDPOINT_URL or an AWS account, it finds the run because the local AWS runs
    for key in ("ENDPOINT_URL", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN", "PROFILE"):
        monkeypatch.delenv(f"AWS_{key}", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it keeps the credentials it first found
    monkeypatch.setattr(aws_module, "local_port", lambda: local_aws["port"])  # `local up` records it
    assert main(["report", name, "--out", str(tmp_path / "offline"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == run_id


@pytest.mark.parametrize(
    ("dataset", "argv", "message"),
    [
        ("bank", ["--tuning-max-jobs", "0"], "tuning_max_jobs: expected an integer from 1 to 750, got 0"),
        # Only the data bucket can tell: ValidateInput's dataset checks, run by the CLI before starting.
        ("nothing-here", [], "dataset: no manifest.json at s3://{bucket}/datasets/nothing-here/"),
    ],
    ids=["bad-option", "no-dataset"],
)
def test_invalid_input_exits_2_and_starts_nothing(dataset, argv, message, cli_env, stack, aws, capsys):
    sfn = aws("stepfunctions")
    before = len(sfn.list_executions(stateMachineArn=stack["StateMachineArn"])["executions"])
    uri = f"s3://{stack['DataBucketName']}/datasets/{dataset}/"
    assert main(["run", "--stack", STACK_NAME, "--dataset", uri, *argv]) == 2
    assert message.format(bucket=stack["DataBucketName"]) in capsys.readouterr().err
    assert len(sfn.list_executions(stateMachineArn=stack["StateMachineArn"])["executions"]) == before


def test_a_failed_run_exits_1_with_its_error_and_cause(cli_env, stack, dataset, faults, leftovers, capsys):
    # A valid input the pipeline itself refuses: too few training instances for the tuning job
    faults.set_quota(TRAINING_QUOTA, 1)
    uri = dataset("bank")
    code = main(["run", "--stack", STACK_NAME, "--dataset", uri, "--name", _name("cli-fail"), "--follow"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"run FAILED: QuotaExceeded: {TRAINING_QUOTA}" in err


def test_nameless_runs_started_together_are_three_runs_and_a_name_in_use_is_refused(
    cli_env, local_aws, stack, dataset, aws, faults, leftovers, capsys
):
    # Given three `mlstack run` processes started at once on the same dataset, with no --name
    faults.set_quota(TRAINING_QUOTA, 1)  # each run then ends in CheckQuotas, having created nothing
    uri = dataset("bank")
    command = [sys.executable, "-m", "mlstack.cli", "run", "--stack", STACK_NAME, "--dataset", uri, "--json"]
    env = {**os.environ, **local_aws["env"]}
    starts = [
        subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=120) for proc in starts]
    results = [(proc.returncode, out, err) for proc, (out, err) in zip(starts, outputs, strict=True)]

    # Then each exits 0 with an execution of its own
    assert [code for code, _, _ in results] == [0, 0, 0], [err for _, _, err in results]
    started = [json.loads(out) for _, out, _ in results]
    assert len({s["executionArn"] for s in started}) == 3
    assert len({s["run_id"] for s in started}) == 3
    sfn = aws("stepfunctions")
    assert all(wait_status(sfn, s["executionArn"]) == "FAILED" for s in started)

    # And a run asking for one of their names is refused, starting nothing
    before = sfn.list_executions(stateMachineArn=stack["StateMachineArn"])["executions"]
    taken = started[0]["name"]
    assert main(["run", "--stack", STACK_NAME, "--dataset", uri, "--name", taken]) == 2
    assert f"--name: an execution named {taken!r} already exists in {STACK_NAME} (FAILED since" in (
        capsys.readouterr().err
    )
    assert sfn.list_executions(stateMachineArn=stack["StateMachineArn"])["executions"] == before


def test_sweep_deletes_what_no_running_execution_owns_and_is_idempotent(
    cli_env, stack, aws, leftovers, capsys
):
    # Given a model and an endpoint config of a run that no longer exists, tagged by the stack
    sm, prefix = aws("sagemaker"), stack["NamePrefix"]
    tags = [{"Key": "mlstack:stack", "Value": STACK_NAME}, {"Key": "mlstack:run", "Value": "gone-00000000"}]
    model, config = f"{prefix}-orphan-xgb", f"{prefix}-orphan"
    container = {"Image": IMAGE, "ModelDataUrl": f"s3://{stack['ArtifactsBucketName']}/none/model.tar.gz"}
    sm.create_model(ModelName=model, PrimaryContainer=container, ExecutionRoleArn=ROLE, Tags=tags)
    variant = {
        "VariantName": "Tuning",
        "ModelName": model,
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[variant], Tags=tags)

    # When sweep runs dry, then for real, then again
    assert main(["sweep", "--stack", STACK_NAME, "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)["resources"]
    assert main(["sweep", "--stack", STACK_NAME, "--json"]) == 0
    done = json.loads(capsys.readouterr().out)["resources"]
    assert main(["sweep", "--stack", STACK_NAME, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)["resources"]

    # Then the dry run only lists, the sweep deletes config before model, and the second finds nothing
    assert [(r["kind"], r["name"], r["action"]) for r in dry] == [
        ("endpoint-config", config, "would delete"),
        ("model", model, "would delete"),
    ]
    assert [(r["name"], r["action"]) for r in done] == [(config, "deleted"), (model, "deleted")]
    assert again == []


def test_quotas_lists_every_quota_of_the_stage(cli_env, capsys):
    code = main(["quotas", "--stage", "local", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code in (0, 1)  # 1 only if the local AWS reports a quota below the need
    assert {q["key"] for q in result["quotas"]} >= {"training-instances", "endpoint-instances"}
    assert all(q["ok"] is not None or q["note"].startswith("unknown") for q in result["quotas"])


@pytest.mark.skipif(not CDK.exists(), reason="the CDK CLI is not installed (npm ci)")
def test_demo_starts_deploys_runs_reports_and_tears_down_its_own_local_aws(tmp_path):
    # Its own local AWS (own port and state dir): it deploys and destroys a stack of the same name
    # as the session's, so it must not share the session's local AWS.
    port = ports.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["MLSTACK_STATE_DIR"] = str(tmp_path / "state")
    command = [sys.executable, "-m", "mlstack.cli", "demo", "--port", str(port), "--rows", "1500"]
    command += ["--workdir", str(tmp_path / "demo")]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for step in (
        "[1/6] local AWS",
        "[4/6] mlstack run",
        "[6/6] nothing left running",
        "cdk destroy",
        "local down",
    ):
        assert step in result.stdout
    assert "SUCCEEDED: winner" in result.stdout
    assert (tmp_path / "demo" / "report" / "report.html").exists()
    assert health(port) is None  # the local AWS it started is stopped again
