"""boto3 clients with standard retries (throttling, transient errors), created once per process.

The endpoint comes from AWS_ENDPOINT_URL when set (boto3 honours it), so the same code runs locally.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient
    from mypy_boto3_service_quotas import ServiceQuotasClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_stepfunctions import SFNClient

RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})
# An invocation may score a large batch: allow more than botocore's default 60 s read timeout.
RUNTIME = RETRIES.merge(Config(read_timeout=120, connect_timeout=10))


@functools.cache
def s3() -> S3Client:
    """The S3 client."""
    return boto3.client("s3", config=RETRIES)


@functools.cache
def sagemaker() -> SageMakerClient:
    """The SageMaker control-plane client."""
    return boto3.client("sagemaker", config=RETRIES)


@functools.cache
def sagemaker_runtime() -> SageMakerRuntimeClient:
    """The SageMaker runtime client (InvokeEndpoint)."""
    return boto3.client("sagemaker-runtime", config=RUNTIME)


@functools.cache
def service_quotas() -> ServiceQuotasClient:
    """The Service Quotas client."""
    return boto3.client("service-quotas", config=RETRIES)


@functools.cache
def sns() -> SNSClient:
    """The SNS client."""
    return boto3.client("sns", config=RETRIES)


@functools.cache
def stepfunctions() -> SFNClient:
    """The Step Functions client."""
    return boto3.client("stepfunctions", config=RETRIES)


@functools.cache
def cloudformation() -> CloudFormationClient:
    """The CloudFormation client."""
    return boto3.client("cloudformation", config=RETRIES)


def clear() -> None:
    """Forget every client (tests use a fresh client per mocked account)."""
    for factory in (s3, sagemaker, sagemaker_runtime, service_quotas, sns, stepfunctions, cloudformation):
        factory.cache_clear()
