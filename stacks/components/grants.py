"""IAM statements that more than one role of the stack needs, written once."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms


def key_grants_for_sagemaker(key: kms.IKey, *, sid: str) -> iam.PolicyStatement:
    """`kms:CreateGrant` on the stack key, only for grants an AWS service makes on the caller's behalf.

    SageMaker creates a grant on the key when a job's `VolumeKmsKeyId` or an endpoint config's
    `KmsKeyId` is set, as the job's execution role (CreateHyperParameterTuningJob, CreateAutoMLJobV2)
    or as the caller of CreateEndpoint. Without it AWS refuses the job or the endpoint.
    """
    return iam.PolicyStatement(
        sid=sid,
        actions=["kms:CreateGrant"],
        resources=[key.key_arn],
        conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
    )
