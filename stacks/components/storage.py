"""Storage: one KMS key and the data, artifacts and access-log buckets, hardened."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.components.nag import acknowledge


class Storage(Construct):
    """The stack's key and buckets: SSE-KMS, SSL only, no public access, versioned, logged, expiring."""

    def __init__(self, scope: Construct, id: str, *, retain: bool, data_expiration_days: int) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY

        self.key = kms.Key(
            self,
            "Key",
            description="ML Stack: buckets, SageMaker volumes and outputs, logs, topics and queues",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=Duration.days(7 if not retain else 30),
        )

        # CloudWatch Logs encrypts our log groups with this key, but only for log groups of this account.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogs",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                        )
                    }
                },
            )
        )

        # Server access logs cannot be delivered to an SSE-KMS bucket, so this one uses SSE-S3.
        self.access_logs_bucket = _hardened_bucket(
            self,
            "AccessLogsBucket",
            removal,
            encryption=s3.BucketEncryption.S3_MANAGED,
            lifecycle_rules=[
                *_housekeeping_rules(),
                s3.LifecycleRule(
                    id="ExpireAccessLogs", expiration=Duration.days(max(data_expiration_days, 90))
                ),
            ],
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        )
        acknowledge(
            self.access_logs_bucket,
            "AwsSolutions-S1",
            "This is the access-log destination itself; logging it into itself would loop.",
        )

        self.data_bucket = self._kms_bucket("DataBucket", "data/", removal, [*_housekeeping_rules()])
        self.artifacts_bucket = self._kms_bucket(
            "ArtifactsBucket",
            "artifacts/",
            removal,
            [
                *_housekeeping_rules(),
                # Job outputs (models, AutoML intermediates) are reproducible; reports are kept.
                s3.LifecycleRule(
                    id="ExpireJobOutputs", prefix="jobs/", expiration=Duration.days(data_expiration_days)
                ),
            ],
        )

    def _kms_bucket(
        self, id: str, log_prefix: str, removal: RemovalPolicy, rules: list[s3.LifecycleRule]
    ) -> s3.Bucket:
        bucket = _hardened_bucket(
            self,
            id,
            removal,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix=log_prefix,
            lifecycle_rules=rules,
        )
        # Objects must be written with our key, never unencrypted or with another key.
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyWrongKmsKey",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects("*")],
                conditions={
                    "StringNotEqualsIfExists": {
                        "s3:x-amz-server-side-encryption-aws-kms-key-id": self.key.key_arn
                    }
                },
            )
        )
        return bucket


def _hardened_bucket(scope: Construct, id: str, removal: RemovalPolicy, **props: Any) -> s3.Bucket:
    """A bucket with what every bucket here has: no public access, SSL and TLS 1.2+ only, versioning."""
    return s3.Bucket(
        scope,
        id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=True,
        removal_policy=removal,
        **props,
    )


def _housekeeping_rules() -> list[s3.LifecycleRule]:
    return [
        s3.LifecycleRule(
            id="Housekeeping",
            abort_incomplete_multipart_upload_after=Duration.days(7),
            noncurrent_version_expiration=Duration.days(30),
            expired_object_delete_marker=False,
        )
    ]
