"""Log groups: KMS-encrypted, retained per stage, one helper for every producer in the stack."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import StageConfig


def encrypted_log_group(scope: Construct, id: str, *, key: kms.IKey, config: StageConfig) -> logs.LogGroup:
    """A log group encrypted with the stack key, kept for the stage's `log_retention_days`."""
    group = logs.LogGroup(
        scope,
        id,
        encryption_key=key,
        removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
    )
    # RetentionDays is an enum of names; the config already holds a value CloudWatch accepts.
    cfn = group.node.default_child
    assert isinstance(cfn, logs.CfnLogGroup)
    cfn.retention_in_days = config.log_retention_days
    return group
