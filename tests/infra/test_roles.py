"""The SageMaker execution role: trusted by SageMaker only, scoped to this stack, nothing wide."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

from tests.infra.conftest import as_list, logical_id, resources, role_statements, statements


def _execution_role(template: Template) -> tuple[str, dict[str, Any]]:
    (item,) = [
        (logical_id, role)
        for logical_id, role in resources(template, "AWS::IAM::Role").items()
        if "ExecutionRole" in logical_id
    ]
    return item


def test_only_sagemaker_in_this_account_can_assume_it(dev: Template) -> None:
    _, role = _execution_role(dev)
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_no_managed_policies_anywhere(dev: Template) -> None:
    for role in resources(dev, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_no_s3_or_kms_action_on_a_wildcard_resource(dev: Template) -> None:
    storage = [s for s in statements(dev) if any(a.startswith(("s3:", "kms:")) for a in as_list(s["Action"]))]
    assert storage
    for statement in storage:
        assert "*" not in as_list(statement["Resource"]), statement


def test_no_service_wide_action(dev: Template) -> None:
    for statement in statements(dev):
        for action in as_list(statement["Action"]):
            assert not action.endswith(":*") and action != "*", statement


def test_the_only_wildcard_resources_are_apis_without_resource_arns(dev: Template) -> None:
    role_id, _ = _execution_role(dev)
    wide = [s for s in role_statements(dev, role_id) if "*" in as_list(s["Resource"])]
    assert sorted(s["Sid"] for s in wide) == ["ImageRegistryLogin", "JobMetrics"]
    metrics = next(s for s in wide if s["Sid"] == "JobMetrics")
    assert metrics["Condition"] == {
        "StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}
    }


def test_pass_role_is_only_for_itself_and_only_to_sagemaker(dev: Template) -> None:
    role_id, _ = _execution_role(dev)
    passes = [s for s in statements(dev) if "iam:PassRole" in as_list(s["Action"])]
    assert passes
    for statement in passes:
        assert statement["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


# AWS's documented minimum for a role passed to CreateAutoMLJob(V2) ("SageMaker roles", developer guide):
# Autopilot's explainability and insight steps deploy, call and delete candidates as this role.
AUTOPILOT_MINIMUM = {
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DescribeModel",
    "sagemaker:InvokeEndpoint",
    "sagemaker:ListTags",
    "sagemaker:DescribeEndpoint",
    "sagemaker:CreateModel",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateEndpoint",
    "sagemaker:DeleteModel",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:DeleteEndpoint",
}


def test_sagemaker_actions_are_limited_to_the_name_prefix_or_autopilots_own_resources(dev: Template) -> None:
    role_id, _ = _execution_role(dev)
    scoped = [
        s
        for s in role_statements(dev, role_id)
        if any(a.startswith("sagemaker:") for a in as_list(s["Action"]))
    ]
    assert scoped
    for statement in scoped:
        if statement.get("Sid") == "AutopilotInsightEndpoints":
            assert set(as_list(statement["Action"])) == AUTOPILOT_MINIMUM
            for resource in as_list(statement["Resource"]):
                # This account and region only; Autopilot names these resources itself.
                text = str(resource)
                assert "AWS::AccountId" in text and "AWS::Region" in text, resource
                assert any(f":{kind}/*" in text for kind in ("model", "endpoint-config", "endpoint")), (
                    resource
                )
            continue
        for resource in as_list(statement["Resource"]):
            assert "/mlsdev-*" in str(resource), resource


def test_the_role_has_the_minimum_aws_documents_for_autopilot(dev: Template) -> None:
    role_id, _ = _execution_role(dev)
    granted = {a for s in role_statements(dev, role_id) for a in as_list(s["Action"])}
    assert granted >= AUTOPILOT_MINIMUM | {"iam:PassRole", "cloudwatch:PutMetricData", "kms:CreateGrant"}


def test_the_role_reads_data_and_writes_artifacts(dev: Template) -> None:
    role_id, _ = _execution_role(dev)
    buckets = resources(dev, "AWS::S3::Bucket")
    data_id = next(b for b in buckets if "DataBucket" in b)
    artifacts_id = next(b for b in buckets if "ArtifactsBucket" in b)
    by_bucket: dict[str, set[str]] = {data_id: set(), artifacts_id: set()}
    for statement in role_statements(dev, role_id):
        for resource in as_list(statement["Resource"]):
            for bucket_id in by_bucket:
                if bucket_id in str(resource):
                    by_bucket[bucket_id].update(as_list(statement["Action"]))
    assert "s3:GetObject*" in by_bucket[data_id]
    assert not any(action.startswith(("s3:Put", "s3:Delete")) for action in by_bucket[data_id])
    assert {"s3:GetObject*", "s3:PutObject", "s3:DeleteObject*"} <= by_bucket[artifacts_id]


def test_sagemaker_may_grant_itself_the_key_for_job_volumes_only(dev: Template) -> None:
    role_id, _ = _execution_role(dev)
    grants = [s for s in role_statements(dev, role_id) if "kms:CreateGrant" in as_list(s["Action"])]
    assert grants == [
        {
            "Action": "kms:CreateGrant",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [logical_id(dev, "AWS::KMS::Key", "StorageKey"), "Arn"]},
            "Sid": "EncryptJobVolumes",
        }
    ]
