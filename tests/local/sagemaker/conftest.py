"""Fixtures for the local SageMaker: moto in-process with install(), tiny seeded datasets in S3."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from contracts.dataset_layout import AUTOPILOT_MIN_ROWS
from localaws import sagemaker as local_sagemaker

REGION = "us-east-1"
BUCKET = "mlstack-test-data"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-exec"
XGB_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        local_sagemaker.install()
        yield
        local_sagemaker.shutdown()


@pytest.fixture
def sm(aws: None) -> Any:
    return boto3.client("sagemaker", region_name=REGION)


@pytest.fixture
def runtime(aws: None) -> Any:
    return boto3.client("sagemaker-runtime", region_name=REGION)


def make_binary(rows: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    logits = 1.5 * x[:, 0] - 1.0 * x[:, 1] + 0.5 * x[:, 2] * x[:, 3]
    y = (logits + rng.normal(scale=0.5, size=rows) > 0).astype(int)
    return x, y


def label_first_csv(x: np.ndarray, y: np.ndarray) -> bytes:
    buf = io.StringIO()
    np.savetxt(buf, np.column_stack([y, x]), delimiter=",", fmt="%.6g")
    return buf.getvalue().encode()


def features_csv(x: np.ndarray) -> bytes:
    buf = io.StringIO()
    np.savetxt(buf, x, delimiter=",", fmt="%.6g")
    return buf.getvalue().encode()


def header_csv(x: np.ndarray, y: np.ndarray, target: str = "y") -> bytes:
    names = [f"f{i}" for i in range(x.shape[1])]
    lines = [",".join([*names, target])]
    lines += [",".join([*(f"{v:.6g}" for v in row), str(label)]) for row, label in zip(x, y, strict=True)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def dataset(aws: None) -> dict[str, Any]:
    """s3://BUCKET/data/{train,validation,empty,autopilot,small}/: a small seeded binary task.

    autopilot/ has just enough rows for Autopilot (500); small/ has one row too few.
    """
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    x, y = make_binary(AUTOPILOT_MIN_ROWS, 5, seed=7)
    s3.put_object(Bucket=BUCKET, Key="data/train/train.csv", Body=label_first_csv(x[:375], y[:375]))
    s3.put_object(Bucket=BUCKET, Key="data/validation/validation.csv", Body=label_first_csv(x[375:], y[375:]))
    s3.put_object(Bucket=BUCKET, Key="data/empty/empty.csv", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="data/autopilot/train.csv", Body=header_csv(x, y))
    s3.put_object(Bucket=BUCKET, Key="data/small/autopilot/train.csv", Body=header_csv(x[1:], y[1:]))
    return {"x": x, "y": y, "bucket": BUCKET, "prefix": f"s3://{BUCKET}/data"}


def channels(prefix: str, train: str = "train", validation: str = "validation") -> list[dict[str, Any]]:
    return [
        {
            "ChannelName": name,
            "ContentType": "text/csv",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{prefix}/{folder}/"}},
        }
        for name, folder in (("train", train), ("validation", validation))
    ]


def training_request(name: str, prefix: str, **overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": XGB_IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {
            "objective": "binary:logistic",
            "eval_metric": "auc",
            "num_round": "15",
            "max_depth": "3",
        },
        "InputDataConfig": channels(prefix),
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    request.update(overrides)
    return request


def wait_until(check: Callable[[], Any], timeout: float = 120.0, interval: float = 0.2) -> Any:
    """Poll until `check()` is truthy; returns its value (a timeout is a failure, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value {value!r}")
        time.sleep(interval)


def wait_training(sm: Any, name: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        d = sm.describe_training_job(TrainingJobName=name)
        return d if d["TrainingJobStatus"] in ("Completed", "Failed", "Stopped") else None

    result: dict[str, Any] = wait_until(done)
    return result
