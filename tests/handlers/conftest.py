"""Fixtures for the handler tier: environment, a fake Lambda context, moto, scripted AWS responses."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.retries.standard
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from moto import mock_aws

from contracts.run_options import stage_defaults
from handlers.common import clients
from handlers.common.settings import settings
from stacks.config import load_config

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
ACCOUNT = "123456789012"
DATA_BUCKET = "mlstack-data-test"
ARTIFACTS_BUCKET = "mlstack-artifacts-test"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f6c2e2a-1111-2222-3333-444455556666"
STATE_MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:MlStack-test-Pipeline"
# The dev stage of the real cdk.json, as the stack passes it to ValidateInput (the tests assert its budgets).
STAGE_DEFAULTS = stage_defaults(
    load_config({"stage": "dev", "stages": json.loads((ROOT / "cdk.json").read_text())["context"]["stages"]})
)
ENV = {
    "DATA_BUCKET": DATA_BUCKET,
    "ARTIFACTS_BUCKET": ARTIFACTS_BUCKET,
    "NAME_PREFIX": "mlstest",
    "STACK_NAME": "MlStack-test",
    "KEY_ARN": KEY_ARN,
    "SAGEMAKER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/mlstack-sagemaker",
    "XGBOOST_IMAGE": f"685385470294.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:1.7-1",
    "STAGE_DEFAULTS": json.dumps(STAGE_DEFAULTS),
    "POWERTOOLS_SERVICE_NAME": "mlstack-test",
}


@pytest.fixture(autouse=True)
def handler_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The environment the stack gives every handler, dummy credentials, fresh settings and clients."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    for name, value in {**credentials, **ENV}.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    clients.clear()
    yield dict(ENV)
    settings.cache_clear()
    clients.clear()


@pytest.fixture(autouse=True)
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries still happen (the client config is under test) but without backoff sleeps."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for every AWS call made inside the test."""
    with mock_aws():
        yield


@dataclass
class FakeContext:
    """The parts of LambdaContext that Powertools and the handlers read."""

    function_name: str = "handler-under-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:handler-under-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    remaining_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


class _Raw(io.BytesIO):
    """The raw HTTP body botocore streams a response from."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        contents = self.read()
        while contents:
            yield contents
            contents = self.read()


def http_response(status: int, body: bytes, content_type: str = "application/x-amz-json-1.1") -> AWSResponse:
    """A canned HTTP response as botocore would receive it from the wire."""
    headers = HTTPHeaders()
    headers["Content-Type"] = content_type
    headers["x-amzn-RequestId"] = "test-request"
    return AWSResponse("https://example.invalid/", status, headers, _Raw(body))


def throttling(protocol: str = "json") -> AWSResponse:
    """A throttling error in the service's wire format."""
    if protocol == "xml":
        body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        return http_response(503, body, "application/xml")
    return http_response(
        400, json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
    )


@dataclass
class WireScript:
    """Answers for one operation at the HTTP layer (inside botocore's retry loop); None = pass through."""

    answers: list[AWSResponse | None]
    sent: int = 0

    def __call__(self, **_: Any) -> AWSResponse | None:
        self.sent += 1
        return self.answers.pop(0) if self.answers else None


def script_wire(client: Any, operation: str, answers: list[AWSResponse | None]) -> WireScript:
    """Register canned wire responses before moto (or the network) sees the request."""
    script = WireScript(list(answers))
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register_first(f"before-send.{service}.{operation}", script)
    return script


@pytest.fixture
def s3(aws: None) -> Any:
    """The handlers' own S3 client (moto), with both buckets created."""
    client = clients.s3()
    for bucket in (DATA_BUCKET, ARTIFACTS_BUCKET):
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return client


def manifest(problem_type: str = "binary", **overrides: Any) -> dict[str, Any]:
    """A manifest.json as `mlstack data prepare` writes it."""
    classes = {"binary": ["no", "yes"], "multiclass": ["a", "b", "c"], "regression": []}[problem_type]
    doc: dict[str, Any] = {
        "name": "bank",
        "source": "synthetic",
        "target": "y",
        "problem_type": problem_type,
        "classes": classes,
        "raw_columns": ["age", "job", "y"],
        "feature_names": ["age", "job_admin", "job_other"],
        "rows": {"train": 700, "validation": 150, "test": 150},
        "channels": {
            "train": "train/",
            "validation": "validation/",
            "test": "test/",
            "test_raw": "test-raw/",
            "autopilot": "autopilot/",
        },
        "seed": 7,
        "format_version": 1,
    }
    doc.update(overrides)
    return doc


DatasetWriter = Callable[..., str]


@pytest.fixture
def put_dataset(s3: Any) -> DatasetWriter:
    """Write a prepared dataset to the data bucket; return its s3:// prefix."""

    def write(
        name: str = "bank",
        doc: dict[str, Any] | None = None,
        files: dict[str, str] | None = None,
        skip: tuple[str, ...] = (),
    ) -> str:
        content = {
            "manifest.json": json.dumps(doc if doc is not None else manifest()),
            "train/train.csv": "1,30,1,0\n0,40,0,1\n",
            "validation/validation.csv": "0,35,1,0\n",
            "test/test.csv": "1,31,1,0\n0,41,0,1\n",
            "test-raw/test.csv": "age,job,y\n31,admin,yes\n41,other,no\n",
            "autopilot/train.csv": "age,job,y\n30,admin,yes\n40,other,no\n",
        }
        content.update(files or {})
        for key, body in content.items():
            if key not in skip:
                s3.put_object(Bucket=DATA_BUCKET, Key=f"datasets/{name}/{key}", Body=body.encode())
        return f"s3://{DATA_BUCKET}/datasets/{name}/"

    return write
