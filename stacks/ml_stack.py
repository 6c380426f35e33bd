"""The ML Stack: wires the components together and declares what clients need as Outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import Aws, CfnMapping, CfnOutput, Stack, Tags
from constructs import Construct

from contracts.tags import STACK_TAG
from stacks.components.functions import PipelineFunctions
from stacks.components.lifecycle import Lifecycle
from stacks.components.notifications import Notifications
from stacks.components.pipeline import Pipeline
from stacks.components.roles import SageMakerRoles
from stacks.components.storage import Storage
from stacks.config import StageConfig

XGBOOST_IMAGES = Path(__file__).with_name("xgboost_images.json")


class MlStack(Stack):
    """Buckets, key, roles, the pipeline and its handlers for SageMaker experiments."""

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

        xgboost_image = self._xgboost_image()
        self.notifications = Notifications(
            self, "Notifications", key=self.storage.key, email=config.notification_email
        )
        self.functions = PipelineFunctions(
            self,
            "Functions",
            config=config,
            key=self.storage.key,
            data_bucket=self.storage.data_bucket,
            artifacts_bucket=self.storage.artifacts_bucket,
            sagemaker_role=self.roles.execution_role,
            xgboost_image=xgboost_image,
            stack_name=id,
        )
        self.pipeline = Pipeline(
            self,
            "Pipeline",
            config=config,
            key=self.storage.key,
            functions=self.functions,
            sagemaker_role=self.roles.execution_role,
            topic=self.notifications.topic,
        )

        self.lifecycle = Lifecycle(
            self,
            "Lifecycle",
            key=self.storage.key,
            state_machine=self.pipeline.state_machine,
            functions=self.functions,
            topic=self.notifications.topic,
            data_bucket=self.storage.data_bucket,
            artifacts_bucket=self.storage.artifacts_bucket,
            access_logs_bucket=self.storage.access_logs_bucket,
            name_prefix=config.name_prefix,
            stack_name=id,
            retain=config.retain_data,
        )

        self._output("StateMachineArn", self.pipeline.state_machine.state_machine_arn, "Start runs here")
        self._output("TopicArn", self.notifications.topic.topic_arn, "Run notifications")
        self._output(
            "DeadLetterQueueUrl", self.lifecycle.dead_letters.queue_url, "Cleanup events that failed"
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

    def _xgboost_image(self) -> str:
        """The built-in XGBoost image of the deployment region (mapping generated from the SDK's table)."""
        images = json.loads(XGBOOST_IMAGES.read_text())["images"]
        mapping = CfnMapping(
            self, "XgboostImages", mapping={region: {"uri": uri} for region, uri in images.items()}
        )
        return mapping.find_in_map(Aws.REGION, "uri")

    def _output(self, name: str, value: str, description: str) -> None:
        CfnOutput(self, name, value=value, description=description)
