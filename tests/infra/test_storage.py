"""Storage hardening: key rotation, SSE-KMS, SSL only, no public access, versioning, logs, lifecycle."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.infra.conftest import as_list, resources


def _buckets(template: Template) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::S3::Bucket")


def _kms_buckets(template: Template) -> dict[str, dict[str, Any]]:
    return {
        logical_id: bucket
        for logical_id, bucket in _buckets(template).items()
        if "AccessLogs" not in logical_id
    }


def test_one_key_with_rotation(dev: Template) -> None:
    dev.resource_count_is("AWS::KMS::Key", 1)
    dev.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_three_buckets_data_artifacts_and_access_logs(dev: Template) -> None:
    names = sorted(_buckets(dev))
    assert len(names) == 3
    assert [any(part in name for name in names) for part in ("Data", "Artifacts", "AccessLogs")] == [True] * 3


def test_every_bucket_blocks_all_public_access(dev: Template) -> None:
    for bucket in _buckets(dev).values():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }


def test_every_bucket_is_versioned(dev: Template) -> None:
    for bucket in _buckets(dev).values():
        assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}


def test_data_and_artifacts_use_the_stack_key(dev: Template) -> None:
    (key_id,) = resources(dev, "AWS::KMS::Key")
    kms_buckets = _kms_buckets(dev)
    assert len(kms_buckets) == 2
    for bucket in kms_buckets.values():
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
        }
        assert rule["BucketKeyEnabled"] is True


def test_data_and_artifacts_log_access_to_the_log_bucket(dev: Template) -> None:
    (logs_id,) = [logical_id for logical_id in _buckets(dev) if "AccessLogs" in logical_id]
    for bucket in _kms_buckets(dev).values():
        assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}


def test_every_bucket_policy_denies_plain_http_and_old_tls(dev: Template) -> None:
    policies = resources(dev, "AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for policy in policies.values():
        denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        conditions = [s.get("Condition", {}) for s in denies]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions


def test_kms_buckets_deny_objects_written_with_another_key(dev: Template) -> None:
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(dev, "AWS::S3::BucketPolicy").values()
    ]
    wrong_key_denials = [
        s for statements in policies for s in statements if s.get("Sid") == "DenyWrongKmsKey"
    ]
    assert len(wrong_key_denials) == 2
    for statement in wrong_key_denials:
        assert statement["Effect"] == "Deny"
        assert as_list(statement["Action"]) == ["s3:PutObject"]


def test_lifecycle_aborts_uploads_and_expires_old_versions(dev: Template) -> None:
    for bucket in _buckets(dev).values():
        rules = {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
        assert rules["Housekeeping"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
        assert rules["Housekeeping"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}


def test_job_outputs_expire_after_the_stage_retention(synth: Any) -> None:
    template = synth("dev", data_expiration_days=42)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        {
                            "Id": "ExpireJobOutputs",
                            "Prefix": "jobs/",
                            "ExpirationInDays": 42,
                            "Status": "Enabled",
                        }
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize(("stage", "policy"), [("dev", "Delete"), ("prod", "Retain")])
def test_removal_policy_follows_the_stage(synth: Any, stage: str, policy: str) -> None:
    template = synth(stage)
    for type_ in ("AWS::S3::Bucket", "AWS::KMS::Key"):
        for resource in resources(template, type_).values():
            assert resource["DeletionPolicy"] == policy
