"""What IAM enforcement costs per request: S3 reads as a role session, enforced vs not (median)."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from contracts.local_aws import client_env
from localaws import ports, process

REQUESTS = 300
TRUST = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
        }
    ]
}


@contextmanager
def _server(iam: str) -> Iterator[dict[str, str]]:
    """A local AWS of its own (free port, private state dir), started as `mlstack local up` does."""
    with tempfile.TemporaryDirectory() as state:
        os.environ["MLSTACK_STATE_DIR"] = state
        port = ports.free_port()
        process.up(port=port, iam=iam)
        try:
            yield client_env(port)
        finally:
            process.down()


def _client(env: dict[str, str], service: str, **keys: str) -> Any:
    keys = keys or {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    return boto3.client(  # type: ignore[call-overload]
        service, region_name=env["AWS_REGION"], endpoint_url=env["AWS_ENDPOINT_URL"], **keys
    )


def _median_read_ms(env: dict[str, str]) -> float:
    s3, iam = _client(env, "s3"), _client(env, "iam")
    s3.create_bucket(Bucket="bench")
    s3.put_object(Bucket="bench", Key="k", Body=b"x")
    role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bench/*"}
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    iam.put_role_policy(RoleName="bench", PolicyName="read", PolicyDocument=json.dumps(policy))
    keys = _client(env, "sts").assume_role(RoleArn=role, RoleSessionName="bench")["Credentials"]
    reader = _client(
        env,
        "s3",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )
    reader.get_object(Bucket="bench", Key="k")  # warm: connection, evaluator start
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        reader.get_object(Bucket="bench", Key="k")["Body"].read()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure() -> dict[str, Any]:
    medians = {}
    for mode in ("off", "enforce"):
        with _server(mode) as env:
            medians[mode] = _median_read_ms(env)
    return {
        "iam_request_ms": {mode: round(value, 2) for mode, value in medians.items()},
        "iam_overhead_ms": round(medians["enforce"] - medians["off"], 2),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
