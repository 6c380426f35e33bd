"""The ML Stack: wires the components together and declares what clients need as Outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from stacks.components.roles import SageMakerRoles
from stacks.components.storage import Storage
from stacks.config import StageConfig

STACK_TAG = "mlstack:stack"


class MlStack(Stack):
    """Buckets, key and roles for SageMaker experiments; the pipeline and lifecycle plug in here."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(
            scope, id, description="ML Stack: SageMaker tuning vs Autopilot, cost-bounded", **kwargs
        )
        self.config = config
        Tags.of(self).add(STACK_TAG, id)

        self.storage = Storage(
            self, "Storage", retain=config.retain_data, data_expiration_days=config.data_expiration_days
        )
        self.roles = SageMakerRoles(
            self,
            "Roles",
            key=self.storage.key,
            data_bucket=self.storage.data_bucket,
            artifacts_bucket=self.storage.artifacts_bucket,
            name_prefix=config.name_prefix,
        )

        self._output(
            "DataBucketName", self.storage.data_bucket.bucket_name, "Upload datasets under datasets/<name>/"
        )
        self._output(
            "ArtifactsBucketName", self.storage.artifacts_bucket.bucket_name, "Job outputs and reports/"
        )
        self._output("KeyArn", self.storage.key.key_arn, "KMS key for everything this stack stores")
        self._output(
            "SageMakerRoleArn", self.roles.execution_role.role_arn, "Role SageMaker assumes for our jobs"
        )
        self._output(
            "NamePrefix", config.name_prefix, "Prefix of every SageMaker resource this stack creates"
        )

    def _output(self, name: str, value: str, description: str) -> None:
        CfnOutput(self, name, value=value, description=description)
