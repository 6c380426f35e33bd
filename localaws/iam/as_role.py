"""Authorize what the local SageMaker does for a job, as that job's execution role.

SageMaker reads a job's input, writes its output, and lets itself use the volume key with the
role in the request's RoleArn (a model's ExecutionRoleArn for endpoints), so a role that lacks
a grant fails the job here as it fails it on AWS.
"""

from __future__ import annotations

from typing import Any

from contracts.local_aws import ACCOUNT_ID
from localaws.iam import rules
from localaws.iam.authorizer import current
from localaws.iam.calls import ApiCall
from localaws.iam.principals import Principal

SESSION_NAME = "SageMaker"


def principal_for(role_arn: str) -> Principal:
    role_name = role_arn.rsplit("/", 1)[-1]
    return Principal(
        arn=f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/{SESSION_NAME}", role_arn=role_arn
    )


def authorize_call(
    role_arn: str | None, service: str, operation: str, params: dict[str, Any], headers: dict[str, str]
) -> None:
    """Raise AccessDeniedError unless `role_arn` may make this call (no-op without a role or IAM)."""
    authorizer = current()
    if authorizer is None or not role_arn:
        return
    call = ApiCall(service, operation, None, params, headers)
    authorizer.authorize(
        principal_for(role_arn), rules.checks(call), f"{service}:{operation} (SageMaker job)"
    )


def authorize_volume_key(role_arn: str | None, key: str | None) -> None:
    """Raise AccessDeniedError unless `role_arn` may let SageMaker grant itself `key` for the volumes."""
    authorizer = current()
    if authorizer is None or not role_arn or not key:
        return
    check = rules.grant_for_sagemaker(key)
    authorizer.authorize(principal_for(role_arn), [check], "sagemaker:VolumeKmsKeyId (SageMaker job)")
