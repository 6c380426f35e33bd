"""The stack as a whole: Outputs for clients, tags, cdk-nag enforcement, and app.py's own synth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from tests.infra.conftest import ROOT, build_stack


def test_outputs_name_everything_a_client_needs(dev: Template) -> None:
    outputs = dev.to_json()["Outputs"]
    assert {"DataBucketName", "ArtifactsBucketName", "KeyArn", "SageMakerRoleArn", "NamePrefix"} <= set(
        outputs
    )
    assert outputs["NamePrefix"]["Value"] == "mlsdev"


def test_resources_carry_the_stack_tag(dev: Template) -> None:
    for bucket in dev.find_resources("AWS::S3::Bucket").values():
        assert {"Key": "mlstack:stack", "Value": "MlStack-dev"} in bucket["Properties"]["Tags"]


def test_an_unacknowledged_finding_fails_synth(cdk_context: dict[str, Any]) -> None:
    """cdk-nag is really on: a wildcard nobody reviewed must stop synth."""
    stack = build_stack(cdk_context, "dev")
    role = iam.Role(Stack.of(stack), "Unreviewed", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    with pytest.raises(Exception, match="AwsSolutions-IAM5"):
        Template.from_stack(stack)


def test_app_py_synthesizes_every_stage_cleanly(tmp_path: Path, cdk_context: dict[str, Any]) -> None:
    """app.py as the CDK CLI runs it: context from the environment, cdk-nag on, no warnings."""
    for stage in ("dev", "prod"):
        outdir = tmp_path / stage
        env = {
            **os.environ,
            "CDK_CONTEXT_JSON": json.dumps({**cdk_context, "stage": stage}),
            "CDK_OUTDIR": str(outdir),
            "CDK_DEFAULT_REGION": "eu-west-1",
            "CDK_DEFAULT_ACCOUNT": "123456789012",
        }
        result = subprocess.run(
            [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stderr.lower(), result.stderr
        manifest = json.loads((outdir / "manifest.json").read_text())
        assert f"MlStack-{stage}" in manifest["artifacts"]
