"""The CDK CLI, unchanged, against the local AWS: bootstrap, deploy (create/update/no-change), destroy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from localaws.settings import PROJECT_ROOT
from tests.local.conftest import wait_execution

APP_DIR = Path(__file__).parent / "fixtures" / "cdk_app"
CDK = PROJECT_ROOT / "node_modules" / ".bin" / "cdk"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CDK.exists(), reason="the CDK CLI is not installed (npm ci)"),
]


def cdk(local_aws, out_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **local_aws.env,
        "PATH": f"{CDK.parent}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "PROBE_STACK_NAME": "LocalProbe",
    }
    command = [str(CDK), *args, "--app", f"{sys.executable} app.py", "--output", str(out_dir), "--no-notices"]
    result = subprocess.run(command, cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"cdk {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def stack_outputs(cfn) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName="LocalProbe")["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_bootstrap_deploy_update_run_destroy(local_aws, tmp_path):
    cfn, ssm, sfn, s3 = (local_aws.client(s) for s in ("cloudformation", "ssm", "stepfunctions", "s3"))
    try:
        cdk(local_aws, tmp_path, "bootstrap", "aws://123456789012/us-east-1")
        cdk(local_aws, tmp_path, "deploy", "--require-approval", "never", "-c", "marker=v1")
        outputs = stack_outputs(cfn)
        assert outputs["CustomGreeting"] == "hello v1"
        assert ssm.get_parameter(Name="/probe/Create-v1")["Parameter"]["Value"]  # the provider really ran

        execution = sfn.start_execution(stateMachineArn=outputs["StateMachineArn"], input='{"x": 1}')
        described = wait_execution(local_aws, execution["executionArn"])
        assert described["status"] == "SUCCEEDED", described
        result = json.loads(described["output"])
        assert result["marker"] == "v1" and result["seen"] == {"x": 1}
        assert result["caught"]["Error"] == "Probe.Broken"  # the Parallel's Catch ran

        cdk(local_aws, tmp_path, "deploy", "--require-approval", "never", "-c", "marker=v2")
        assert stack_outputs(cfn)["CustomGreeting"] == "hello v2"
        assert ssm.get_parameter(Name="/probe/Update-v2")["Parameter"]["Value"]
        no_change = cdk(local_aws, tmp_path, "deploy", "--require-approval", "never", "-c", "marker=v2")
        assert "no changes" in (no_change.stdout + no_change.stderr).lower()

        failing = cdk(
            local_aws,
            tmp_path,
            "deploy",
            "--require-approval",
            "never",
            "-c",
            "marker=v3",
            "-c",
            "fail_custom=yes",
            check=False,
        )
        assert failing.returncode != 0
        assert "asked to fail" in failing.stdout + failing.stderr
    finally:
        bucket = stack_outputs(cfn).get("BucketName") if _exists(cfn) else None
        if bucket:  # a versioned bucket with objects cannot be deleted, on AWS as here
            for version in s3.list_object_versions(Bucket=bucket).get("Versions", []):
                s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
        cdk(local_aws, tmp_path, "destroy", "--force")
        shutil.rmtree(tmp_path, ignore_errors=True)
    assert not _exists(cfn)
    assert ssm.get_parameter(Name="/probe/Delete-v2")["Parameter"]["Value"]


def _exists(cfn) -> bool:
    stacks = cfn.list_stacks()["StackSummaries"]
    return any(s["StackName"] == "LocalProbe" and s["StackStatus"] != "DELETE_COMPLETE" for s in stacks)
