"""Fixtures of the CLI tier: recorded Describe outputs, a recorded report, and an AWS at an endpoint."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from contracts.local_aws import HOST, client_env, endpoint_url
from localaws import ports
from mlstack import stack as stack_module
from mlstack.aws import Aws
from mlstack.stack import stage_config
from training.prepare_data import prepare

FIXTURES = Path(__file__).parent / "fixtures"
ROLE_ARN = "arn:aws:iam::123456789012:role/pipeline"
BANK_ROWS = 700  # the fewest that keep train + validation above Autopilot's 500-row minimum


def load(name: str) -> Any:
    return json.loads((FIXTURES / "binary" / name).read_text())


@pytest.fixture
def evaluation() -> dict[str, Any]:
    """evaluation.json of a real local run on bank (binary)."""
    return load("evaluation.json")


@pytest.fixture
def board() -> dict[str, Any]:
    """leaderboard.json of the same run."""
    return load("leaderboard.json")


@pytest.fixture
def described() -> dict[str, Any]:
    """DescribeHyperParameterTuningJob, DescribeAutoMLJobV2 and a history cut mid-training, recorded."""
    return load("describe.json")


# --- an AWS at an endpoint, as the local AWS is: moto's server in this process --------------------


@pytest.fixture(scope="session")
def moto_port() -> Iterator[int]:
    """moto in server mode on a free port. Its Step Functions does not run executions: they stay RUNNING."""
    port = ports.free_port()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    yield port
    server.stop()


@pytest.fixture
def endpoint_aws(moto_port: int, monkeypatch: pytest.MonkeyPatch) -> Aws:
    """An empty AWS that AWS_ENDPOINT_URL names, as for a user of the local AWS; the local AWS's
    own detection is not asked (a developer's `mlstack local up` must not leak into a test)."""
    request = urllib.request.Request(f"{endpoint_url(moto_port)}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it keeps the credentials it first found
    for key, value in client_env(moto_port).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(stack_module, "running_local_aws", lambda: None)
    return Aws()


def deploy_stack(aws: Aws, stage: str) -> dict[str, str]:
    """A stack with the Outputs the CLI reads, named as the cdk.json stage names it: two buckets and a
    state machine (a Pass state; moto's server does not execute it). Returns its Outputs."""
    config = stage_config(stage)
    definition = {"StartAt": "Run", "States": {"Run": {"Type": "Pass", "End": True}}}
    template = {
        "Resources": {
            "Data": {"Type": "AWS::S3::Bucket"},
            "Artifacts": {"Type": "AWS::S3::Bucket"},
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": ROLE_ARN, "DefinitionString": json.dumps(definition)},
            },
        },
        "Outputs": {
            "StateMachineArn": {"Value": {"Ref": "Machine"}},
            "DataBucketName": {"Value": {"Ref": "Data"}},
            "ArtifactsBucketName": {"Value": {"Ref": "Artifacts"}},
            "NamePrefix": {"Value": config.name_prefix},
        },
    }
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName=config.stack_name, TemplateBody=json.dumps(template))
    described = cfn.describe_stacks(StackName=config.stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}


@pytest.fixture
def local_stack(endpoint_aws: Aws) -> dict[str, str]:
    """The local stage's stack deployed at the endpoint; the Outputs."""
    return deploy_stack(endpoint_aws, "local")


@pytest.fixture
def bank(endpoint_aws: Aws, local_stack: dict[str, str], tmp_path: Path) -> str:
    """A small bank dataset, prepared and uploaded by `mlstack data prepare`'s own code; its s3:// prefix."""
    uri = f"s3://{local_stack['DataBucketName']}/datasets/bank/"
    prepare("bank", tmp_path / "bank", rows=BANK_ROWS, upload=uri, s3_client=endpoint_aws.client("s3"))
    return uri
