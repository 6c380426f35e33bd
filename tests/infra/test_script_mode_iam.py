"""Script mode's IAM: who reads a script's source archive, who repacks its model, what SageMaker may pull."""

from __future__ import annotations

import fnmatch
import json

from aws_cdk.assertions import Template

from contracts.script_mode import FRAMEWORKS, IMAGES_FILE, SOURCE_PREFIX, source_key
from tests.infra.conftest import as_list, flatten, logical_id, role_statements, statements


def _s3_grants(dev: Template, role: str) -> dict[str, set[str]]:
    """The role's S3 actions by the artifacts-bucket object pattern they are granted on."""
    artifacts = logical_id(dev, "AWS::S3::Bucket", "StorageArtifactsBucket")
    role_id = logical_id(dev, "AWS::IAM::Role", role)
    found: dict[str, set[str]] = {}
    for statement in role_statements(dev, role_id):
        actions = {a for a in as_list(statement["Action"]) if a.startswith("s3:")}
        for resource in as_list(statement["Resource"]):
            text = str(flatten(resource))
            if actions and f"{artifacts}.Arn}}/" in text:
                found.setdefault(text.split(".Arn}/", 1)[1], set()).update(actions)
    return found


def test_validate_input_reads_source_archives_and_nothing_else_of_the_artifacts(dev: Template) -> None:
    grants = _s3_grants(dev, "FunctionsValidateInputRole")
    assert grants == {f"{SOURCE_PREFIX}*": grants[f"{SOURCE_PREFIX}*"]}
    assert "s3:GetObject*" in grants[f"{SOURCE_PREFIX}*"]
    assert not any(a.startswith(("s3:Put", "s3:Delete")) for a in grants[f"{SOURCE_PREFIX}*"])


def test_plan_deployment_reads_sources_and_repacks_within_the_tuning_outputs(dev: Template) -> None:
    grants = _s3_grants(dev, "FunctionsPlanDeploymentRole")
    assert set(grants) == {f"{SOURCE_PREFIX}*", "jobs/*/tuning/*"}
    assert not any(a.startswith(("s3:Put", "s3:Delete")) for a in grants[f"{SOURCE_PREFIX}*"])
    assert {"s3:GetObject*", "s3:PutObject"} <= grants["jobs/*/tuning/*"]


def test_the_execution_role_reads_sources_and_pulls_every_frameworks_images(dev: Template) -> None:
    # The tuning job's code channel reads the archive as the SageMaker execution role
    role_id = logical_id(dev, "AWS::IAM::Role", "RolesExecutionRole")
    statements = role_statements(dev, role_id)
    artifacts = logical_id(dev, "AWS::S3::Bucket", "StorageArtifactsBucket")
    reads = [
        str(flatten(r))
        for s in statements
        if "s3:GetObject*" in as_list(s["Action"])
        for r in as_list(s["Resource"])
        if artifacts in str(flatten(r))
    ]
    key = source_key("ab" * 32)
    assert any(fnmatch.fnmatch(f"${{{artifacts}.Arn}}/{key}", pattern) for pattern in reads)
    # And every image of the framework table lies in a repository it may pull from
    pulls = [
        str(flatten(r)).rsplit("repository/", 1)[1]
        for s in statements
        if "ecr:BatchGetImage" in as_list(s["Action"])
        for r in as_list(s["Resource"])
    ]
    table = json.loads(IMAGES_FILE.read_text())["frameworks"]
    for framework in FRAMEWORKS:
        for images in table[framework]["versions"].values():
            repository = images["us-east-1"].split("/", 1)[1].split(":", 1)[0]
            assert any(fnmatch.fnmatch(repository, pattern) for pattern in pulls), repository


def test_plan_deployment_lists_the_trials_of_the_stacks_tuning_jobs_only(dev: Template) -> None:
    (grant,) = [s for s in statements(dev) if s.get("Sid") == "ListScriptTrials"]
    assert as_list(grant["Action"]) == ["sagemaker:ListTrainingJobsForHyperParameterTuningJob"]
    assert [flatten(r).rsplit(":", 1)[-1] for r in as_list(grant["Resource"])] == [
        "hyper-parameter-tuning-job/mlsdev-*"
    ]
