"""IAM end to end: the stack's own calls are all allowed, and a missing grant fails the run as on AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from localaws.iam.access_log import read
from tests.e2e.test_faults import FAST_DATASET, SMALL, assert_failed_with

pytestmark = pytest.mark.e2e


def _policy_with_statement(iam: Any, role: str, sid: str) -> tuple[str, dict[str, Any]]:
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        if any(statement.get("Sid") == sid for statement in document["Statement"]):
            return name, document
    raise AssertionError(f"no policy of {role} has a statement {sid}")


@pytest.fixture
def without_volume_grant(stack: dict[str, str], aws: Any) -> Iterator[None]:
    """The execution role without its kms:CreateGrant statement, restored afterwards."""
    iam = aws("iam")
    role = stack["SageMakerRoleArn"].rsplit("/", 1)[-1]
    name, document = _policy_with_statement(iam, role, "EncryptJobVolumes")
    reduced = {
        **document,
        "Statement": [s for s in document["Statement"] if s.get("Sid") != "EncryptJobVolumes"],
    }
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(reduced))
    try:
        yield
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))


def test_without_kms_create_grant_the_run_fails_in_train_candidates(
    without_volume_grant, run, dataset
) -> None:
    # Given an execution role that may not let SageMaker grant itself the volume key
    # When a run starts
    execution = run({"dataset": dataset(FAST_DATASET), **SMALL})
    # Then both training paths fail in TrainCandidates with AccessDenied naming the action, nothing deploys
    assert_failed_with(execution, "NoFinalist", "kms:CreateGrant", "AccessDenied")
    assert "TrainCandidates" in execution.entered()
    assert "CreateEndpoint" not in execution.entered()


def test_a_successful_run_is_refused_nothing(run, dataset, local_aws) -> None:
    # Given the access log so far
    log = local_aws["log"].parent / "access-log.jsonl"
    before = len(list(read(log)))
    # When a run succeeds
    execution = run({"dataset": dataset(FAST_DATASET), **SMALL})
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    # Then IAM decided its calls, and refused none of them
    decided = list(read(log))[before:]
    assert {e.decision for e in decided} >= {"Allowed"}
    assert [e for e in decided if e.decision != "Allowed" and e.decision != "Administrator"] == []
