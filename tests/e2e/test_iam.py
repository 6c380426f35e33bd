"""IAM end to end: the stack's own calls are all allowed, and a missing grant fails the run as on AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def without_action(iam: Any, role_arn: str, sid: str, action: str) -> Iterator[None]:
    """`role_arn` without `action` in its statement `sid` (the whole statement if nothing else is left)."""
    role = role_arn.rsplit("/", 1)[-1]
    name, document = _policy_with_statement(iam, role, sid)
    statements = []
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        kept = [a for a in actions if not (statement.get("Sid") == sid and a == action)]
        if kept:
            statements.append({**statement, "Action": kept})
    reduced = {**document, "Statement": statements}
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(reduced))
    try:
        yield
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))


@pytest.fixture
def without_volume_grant(stack: dict[str, str], aws: Any) -> Iterator[None]:
    """The execution role without kms:CreateGrant, restored afterwards."""
    with without_action(aws("iam"), stack["SageMakerRoleArn"], "EncryptJobVolumes", "kms:CreateGrant"):
        yield


@pytest.fixture
def without_tuning_create(stack: dict[str, str], aws: Any) -> Iterator[None]:
    """The state machine role without sagemaker:CreateHyperParameterTuningJob, restored afterwards."""
    role = aws("stepfunctions").describe_state_machine(stateMachineArn=stack["StateMachineArn"])["roleArn"]
    with without_action(aws("iam"), role, "TuningJobSync", "sagemaker:CreateHyperParameterTuningJob"):
        yield


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


def test_a_refused_tuning_create_is_not_retried_and_autopilot_wins_alone(
    without_tuning_create, run, dataset
) -> None:
    # Given a state machine role that may not create tuning jobs (a permanent error)
    # When a run starts
    execution = run({"dataset": dataset(FAST_DATASET), **SMALL})
    # Then the tuning create failed once, at once, with AccessDenied naming the action: no retry
    tune_failures = [
        e["taskFailedEventDetails"]
        for e in execution.events
        if e["type"] == "TaskFailed"
        and "createHyperParameterTuningJob" in e["taskFailedEventDetails"]["resource"]
    ]
    assert len(tune_failures) == 1, tune_failures
    assert "sagemaker:CreateHyperParameterTuningJob" in tune_failures[0]["cause"]
    assert "is not authorized" in tune_failures[0]["cause"]
    # And Autopilot won alone
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert execution.output["evaluation"]["winner"] == "Autopilot"
