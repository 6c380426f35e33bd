"""The SageMaker execution role, scoped to this stack's buckets, key and name prefix."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.components.arns import sagemaker_arn
from stacks.components.grants import key_grants_for_sagemaker
from stacks.components.nag import BUCKET_GRANT_ACTIONS, KEY_GRANT_ACTIONS, acknowledge, resource_finding

# SageMaker-owned image repositories our jobs pull from (built-in XGBoost, Autopilot's containers).
_IMAGE_REPOSITORY_ARNS = [
    f"arn:{Aws.PARTITION}:ecr:{Aws.REGION}:*:repository/{repo}" for repo in ("sagemaker-*", "autogluon-*")
]
_CHILD_JOB_KINDS = ("processing-job", "training-job", "transform-job")
_INSIGHT_KINDS = ("model", "endpoint-config", "endpoint")
_SAGEMAKER_LOG_GROUPS = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/*"


class SageMakerRoles(Construct):
    """The role SageMaker assumes for training, tuning, Autopilot and hosting — nothing wider."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        name_prefix: str,
    ) -> None:
        super().__init__(scope, id)
        self.name_prefix = name_prefix
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            description="Assumed by SageMaker for this stack's training, tuning, Autopilot and endpoints",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
        )
        role = self.execution_role
        data_bucket.grant_read(role)
        artifacts_bucket.grant_read_write(role)
        key.grant_encrypt_decrypt(role)
        # Tuning and Autopilot jobs encrypt their volumes with the stack key (VolumeKmsKeyId).
        role.add_to_policy(key_grants_for_sagemaker(key, sid="EncryptJobVolumes"))

        prefixed = f"{name_prefix}-*"
        role.add_to_policy(
            iam.PolicyStatement(
                sid="JobLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[_SAGEMAKER_LOG_GROUPS],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="JobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ImageRegistryLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PullSageMakerImages",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                ],
                resources=_IMAGE_REPOSITORY_ARNS,
            )
        )
        # Autopilot runs its processing, training and transform jobs with this role, named after its job.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="AutopilotChildJobs",
                actions=[
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:CreateTransformJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:DescribeTransformJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:StopTransformJob",
                    "sagemaker:AddTags",
                ],
                resources=[sagemaker_arn(kind, prefixed) for kind in _CHILD_JOB_KINDS],
            )
        )
        # AWS's documented minimum for a role passed to CreateAutoMLJob(V2): its explainability and
        # insight steps deploy candidates, call and delete them as this role, under names Autopilot
        # chooses, so these are held to the account and region, not to our prefix.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="AutopilotInsightEndpoints",
                actions=[
                    "sagemaker:CreateModel",
                    "sagemaker:CreateEndpointConfig",
                    "sagemaker:CreateEndpoint",
                    "sagemaker:DescribeModel",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:InvokeEndpoint",
                    "sagemaker:ListTags",
                    "sagemaker:DeleteModel",
                    "sagemaker:DeleteEndpointConfig",
                    "sagemaker:DeleteEndpoint",
                ],
                resources=[sagemaker_arn(kind, "*") for kind in _INSIGHT_KINDS],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PassSelfToAutopilotJobs",
                actions=["iam:PassRole"],
                resources=[role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "Wildcards are bounded: the stack's own buckets' objects and key (grants), SageMaker log groups, "
            f"jobs named '{prefixed}', SageMaker-owned image repositories, this account's models and "
            "endpoints, which Autopilot's insight steps name themselves (AWS's minimum for CreateAutoMLJob); "
            "PutMetricData and GetAuthorizationToken support no resource ARNs (PutMetricData is held to "
            "SageMaker namespaces).",
            findings=[
                *BUCKET_GRANT_ACTIONS,
                *KEY_GRANT_ACTIONS,
                "Resource::*",
                *(
                    resource_finding(self, arn)
                    for arn in [
                        data_bucket.arn_for_objects("*"),
                        artifacts_bucket.arn_for_objects("*"),
                        _SAGEMAKER_LOG_GROUPS,
                        *_IMAGE_REPOSITORY_ARNS,
                        *(sagemaker_arn(kind, prefixed) for kind in _CHILD_JOB_KINDS),
                        *(sagemaker_arn(kind, "*") for kind in _INSIGHT_KINDS),
                    ]
                ),
            ],
        )
