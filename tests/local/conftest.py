"""Fixtures for the local AWS: one server subprocess per session on a free port, and boto3 clients for it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from localaws import ports
from localaws.settings import PROJECT_ROOT, client_env

REGION = "us-east-1"


@dataclass(frozen=True)
class LocalAwsHandle:
    """A running local AWS: its port, the client environment, and a boto3 client factory."""

    port: int
    env: dict[str, str]
    log: Path

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


def start_server(port: int, state_dir: Path, log: Path, *, iam: str) -> subprocess.Popen[bytes]:
    """How e2e fixtures start it: `python -m localaws.server --port N --iam MODE`, then wait for health."""
    env = {**os.environ, "MLSTACK_STATE_DIR": str(state_dir)}
    env.pop("AWS_ENDPOINT_URL", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localaws.server", "--port", str(port), "--iam", iam],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=env,
            start_new_session=True,
        )
    from localaws.process import health

    deadline = time.monotonic() + 60
    while health(port) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"local AWS did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    return proc


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAwsHandle]:
    state = tmp_path_factory.mktemp("local-aws-state")
    port = ports.free_port()
    log = state / "server.log"
    # This tier tests moto's fixes with ad-hoc roles that carry no policies: IAM is tested on its own.
    proc = start_server(port, state, log, iam="off")
    try:
        yield LocalAwsHandle(port=port, env={**os.environ, **client_env(port)}, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def code_zip(source: str, filename: str = "app.py") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(filename, source)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def role_arn(local_aws: LocalAwsHandle) -> str:
    arn: str = local_aws.client("iam").create_role(RoleName="local-tests", AssumeRolePolicyDocument="{}")[
        "Role"
    ]["Arn"]
    return arn


@pytest.fixture(scope="session")
def make_function(local_aws: LocalAwsHandle, role_arn: str) -> Callable[..., str]:
    """Create a Python function from source text; returns its ARN."""

    def make(source: str, handler: str = "app.handler", timeout: int = 10, **extra: Any) -> str:
        name = f"fn-{uuid.uuid4().hex[:10]}"
        arn: str = local_aws.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=handler,
            Code={"ZipFile": code_zip(source)},
            Timeout=timeout,
            **extra,
        )["FunctionArn"]
        return arn

    return make


def run_execution(
    local_aws: LocalAwsHandle, role_arn: str, definition: dict[str, Any], payload: Any = None
) -> Any:
    """Create a state machine, start it and wait for the end; returns DescribeExecution."""
    sfn = local_aws.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"sm-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition), roleArn=role_arn
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload or {}))["executionArn"]
    return wait_execution(local_aws, execution)


def wait_execution(local_aws: LocalAwsHandle, execution_arn: str, timeout: float = 30) -> Any:
    sfn = local_aws.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def receive_all(sqs: Any, queue_url: str, expected: int, timeout: float = 15) -> list[dict[str, Any]]:
    """Poll a queue until `expected` messages arrived (or the timeout); bodies parsed as JSON."""
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < expected and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        time.sleep(0.1)
    return bodies
