"""ARNs built from CloudFormation pseudo-parameters, so templates stay account- and region-neutral."""

from __future__ import annotations

from aws_cdk import Aws


def sagemaker_arn(resource_type: str, name: str) -> str:
    """ARN of a SageMaker resource (SageMaker ARNs hold the lower-cased name)."""
    return f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource_type}/{name}"
