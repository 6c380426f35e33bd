"""Which API call a request is, read back from the same botocore models clients build requests with."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localaws.iam.calls import identify
from localaws.iam.rules import action_of, checks


def environ(method: str, path: str, service: str, query: str = "", **headers: str) -> dict[str, Any]:
    scope = (
        f"Credential=AKIDEXAMPLE/20261130/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x"
    )
    found = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query}
    found["HTTP_AUTHORIZATION"] = f"AWS4-HMAC-SHA256 {scope}"
    found |= {f"HTTP_{k.upper()}": v for k, v in headers.items()}
    return found


@pytest.mark.parametrize(
    ("request_", "body", "expected"),
    [
        (environ("GET", "/bucket/a/b.csv", "s3"), b"", ("s3", "GetObject", "s3:GetObject")),
        (
            environ("GET", "/bucket", "s3", "list-type=2&prefix=a/"),
            b"",
            ("s3", "ListObjectsV2", "s3:ListBucket"),
        ),
        (environ("PUT", "/bucket/k", "s3"), b"x", ("s3", "PutObject", "s3:PutObject")),
        (
            environ("PUT", "/bucket/k", "s3", X_AMZ_COPY_SOURCE="/other/src"),
            b"",
            ("s3", "CopyObject", "s3:PutObject"),
        ),
        (
            environ("POST", "/bucket", "s3", "delete"),
            b"<Delete/>",
            ("s3", "DeleteObjects", "s3:DeleteObject"),
        ),
        (
            environ("POST", "/", "sts"),
            b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s",
            ("sts", "AssumeRole", "sts:AssumeRole"),
        ),
        (
            environ("POST", "/", "sagemaker", X_AMZ_TARGET="SageMaker.CreateEndpoint"),
            json.dumps({"EndpointName": "e", "EndpointConfigName": "c"}).encode(),
            ("sagemaker", "CreateEndpoint", "sagemaker:CreateEndpoint"),
        ),
        (
            environ("POST", "/2015-03-31/functions/fn/invocations", "lambda"),
            b"{}",
            ("lambda", "Invoke", "lambda:InvokeFunction"),
        ),
        (
            environ("POST", "/endpoints/e/invocations", "sagemaker"),
            b"1,2",
            ("sagemaker-runtime", "InvokeEndpoint", "sagemaker:InvokeEndpoint"),
        ),
        (
            environ("POST", "/", "states", X_AMZ_TARGET="AWSStepFunctions.StartExecution"),
            b"{}",
            ("stepfunctions", "StartExecution", "states:StartExecution"),
        ),
    ],
)
def test_requests_are_identified_as_the_operation_iam_authorizes(request_, body, expected) -> None:
    call = identify(request_, body)
    assert call is not None
    assert (call.service, call.operation, action_of(call)) == expected
    assert call.access_key == "AKIDEXAMPLE"


def test_a_request_without_a_signature_is_no_api_call() -> None:
    assert identify({"REQUEST_METHOD": "GET", "PATH_INFO": "/_mlstack/health"}, b"") is None


def test_sagemaker_arns_carry_names_in_lower_case() -> None:
    call = identify(
        environ("POST", "/", "sagemaker", X_AMZ_TARGET="SageMaker.DescribeHyperParameterTuningJob"),
        json.dumps({"HyperParameterTuningJobName": "MlsDev-Run-1"}).encode(),
    )
    assert call is not None
    (check,) = checks(call)
    assert (
        check.resource == "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/mlsdev-run-1"
    )
