"""PolicyEvaluator: IAM decisions from iam-simulate through one long-lived Node process."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from localaws.iam import evaluator as evaluator_module
from localaws.iam.evaluator import AccessRequest, InvalidAccessRequestError, PolicyEvaluator

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/TrainingRole"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/TrainingRole/training-session"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OBJECT_ARN = "arn:aws:s3:::mlstack-data/datasets/train.csv"
EXECUTION_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/SageMakerExecutionRole"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str, resource: str = "*", sid: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource, **extra}


KEY_POLICY_DELEGATING_TO_ROOT = policy(
    {
        "Sid": "EnableIamPolicies",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
)


@pytest.fixture(scope="module")
def evaluator() -> Iterator[PolicyEvaluator]:
    with PolicyEvaluator() as shared:
        yield shared


def test_identity_policy_allows(evaluator):
    # Given a role whose identity policy allows reading the training data
    request = AccessRequest(
        principal=SESSION,
        action="s3:GetObject",
        resource=OBJECT_ARN,
        account_id=ACCOUNT,
        identity_policies={"read-data": policy(allow("s3:GetObject", "arn:aws:s3:::mlstack-data/*", "Read"))},
    )

    # When the role's session reads an object
    decision = evaluator.evaluate(request)

    # Then it is allowed, and the statement that allowed it is named
    assert decision.allowed
    assert decision.decision == "Allowed"
    assert decision.statement == "Read in identity policy read-data"


def test_no_matching_statement_is_an_implicit_deny(evaluator):
    # Given a role allowed to read objects but not to delete them
    request = AccessRequest(
        principal=SESSION,
        action="s3:DeleteObject",
        resource=OBJECT_ARN,
        account_id=ACCOUNT,
        identity_policies={"read-data": policy(allow("s3:GetObject", "arn:aws:s3:::mlstack-data/*"))},
    )

    # When the role deletes an object
    decision = evaluator.evaluate(request)

    # Then nothing allowed it and no statement decided it
    assert not decision.allowed
    assert decision.decision == "ImplicitlyDenied"
    assert decision.statement is None


def test_explicit_deny_wins_over_allow(evaluator):
    # Given one policy allowing all of S3 and another denying deletes
    request = AccessRequest(
        principal=SESSION,
        action="s3:DeleteObject",
        resource=OBJECT_ARN,
        account_id=ACCOUNT,
        identity_policies={
            "s3-admin": policy(allow("s3:*")),
            "no-deletes": policy(
                {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
            ),
        },
    )

    # When the role deletes an object
    decision = evaluator.evaluate(request)

    # Then the deny decides
    assert decision.decision == "ExplicitlyDenied"
    assert decision.statement == "NoDeletes in identity policy no-deletes"


@pytest.mark.parametrize(
    ("grant_is_for_aws_resource", "expected"),
    [("true", "Allowed"), ("false", "ImplicitlyDenied"), (None, "ImplicitlyDenied")],
)
def test_create_grant_only_for_aws_resources(evaluator, grant_is_for_aws_resource, expected):
    # Given a key delegating to IAM and a role that may create grants only for AWS services
    grants_for_services = allow(
        "kms:CreateGrant", sid="GrantsForServices", Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}
    )
    context = (
        {} if grant_is_for_aws_resource is None else {"kms:GrantIsForAWSResource": grant_is_for_aws_resource}
    )
    request = AccessRequest(
        principal=SESSION,
        action="kms:CreateGrant",
        resource=KEY_ARN,
        account_id=ACCOUNT,
        context=context,
        identity_policies={"kms-grants": policy(grants_for_services)},
        resource_policy=KEY_POLICY_DELEGATING_TO_ROOT,
    )

    # When the role creates a grant, for an AWS service or not
    decision = evaluator.evaluate(request)

    # Then only a grant for an AWS resource is allowed
    assert decision.decision == expected


@pytest.mark.parametrize(
    ("service", "expected"),
    [("sagemaker.amazonaws.com", "Allowed"), ("lambda.amazonaws.com", "ImplicitlyDenied")],
)
def test_pass_role_only_to_the_named_service(evaluator, service, expected):
    # Given a role that may pass the execution role to SageMaker only
    pass_to_sagemaker = allow(
        "iam:PassRole",
        EXECUTION_ROLE_ARN,
        "PassToSageMaker",
        Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    )
    request = AccessRequest(
        principal=SESSION,
        action="iam:PassRole",
        resource=EXECUTION_ROLE_ARN,
        account_id=ACCOUNT,
        context={"iam:PassedToService": service},
        identity_policies={"pass-role": policy(pass_to_sagemaker)},
    )

    # When it passes the role to a service
    decision = evaluator.evaluate(request)

    # Then only SageMaker may receive it
    assert decision.decision == expected


@pytest.mark.parametrize(
    ("secure_transport", "expected"),
    [("false", "ExplicitlyDenied"), ("true", "Allowed")],
)
def test_bucket_policy_denies_plain_http(evaluator, secure_transport, expected):
    # Given a role allowed to read objects and a bucket policy denying requests over plain HTTP
    deny_plain_http = {
        "Sid": "DenyPlainHttp",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::mlstack-data", "arn:aws:s3:::mlstack-data/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    request = AccessRequest(
        principal=SESSION,
        action="s3:GetObject",
        resource=OBJECT_ARN,
        account_id=ACCOUNT,
        context={"aws:SecureTransport": secure_transport},
        identity_policies={"read-data": policy(allow("s3:GetObject", "arn:aws:s3:::mlstack-data/*"))},
        resource_policy=policy(deny_plain_http),
    )

    # When the object is read over HTTP or HTTPS
    decision = evaluator.evaluate(request)

    # Then the bucket policy's deny decides over plain HTTP only
    assert decision.decision == expected
    if expected == "ExplicitlyDenied":
        assert decision.statement == "DenyPlainHttp in resource policy"


def test_same_account_bucket_policy_alone_allows(evaluator):
    # Given no identity policy but a bucket policy naming the role
    read_for_role = allow(
        "s3:GetObject", "arn:aws:s3:::mlstack-data/*", "RoleReads", Principal={"AWS": ROLE_ARN}
    )
    request = AccessRequest(
        principal=SESSION,
        action="s3:GetObject",
        resource=OBJECT_ARN,
        account_id=ACCOUNT,
        resource_policy=policy(read_for_role),
    )

    # When the role's session reads an object
    decision = evaluator.evaluate(request)

    # Then the bucket policy suffices in the same account
    assert decision.decision == "Allowed"
    assert decision.statement == "RoleReads in resource policy"


@pytest.mark.parametrize(
    ("identity_policies", "expected"),
    [({"kms-use": policy(allow("kms:Decrypt", sid="Decrypt"))}, "Allowed"), ({}, "ImplicitlyDenied")],
    ids=["with-identity-policy", "without-identity-policy"],
)
def test_key_policy_delegating_to_the_account(evaluator, identity_policies, expected):
    # Given a key policy that delegates to the account's IAM policies
    request = AccessRequest(
        principal=SESSION,
        action="kms:Decrypt",
        resource=KEY_ARN,
        account_id=ACCOUNT,
        identity_policies=identity_policies,
        resource_policy=KEY_POLICY_DELEGATING_TO_ROOT,
    )

    # When the role decrypts, with or without an identity policy allowing it
    decision = evaluator.evaluate(request)

    # Then the identity policy is what allows it
    assert decision.decision == expected


def test_identity_policy_alone_does_not_open_a_key(evaluator):
    # Given an identity policy allowing decrypt and a key policy that trusts only another role
    other_role_only = allow("kms:*", sid="OtherRole", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/Other"})
    request = AccessRequest(
        principal=SESSION,
        action="kms:Decrypt",
        resource=KEY_ARN,
        account_id=ACCOUNT,
        identity_policies={"kms-use": policy(allow("kms:Decrypt"))},
        resource_policy=policy(other_role_only),
    )

    # When the role decrypts
    decision = evaluator.evaluate(request)

    # Then it is denied: a key policy must allow, directly or through the account root
    assert decision.decision == "ImplicitlyDenied"


def test_policies_as_stored_json_text(evaluator):
    # Given policies as the JSON text IAM stores
    request = AccessRequest(
        principal=SESSION,
        action="kms:Decrypt",
        resource=KEY_ARN,
        account_id=ACCOUNT,
        identity_policies={"kms-use": json.dumps(policy(allow("kms:Decrypt", sid="Decrypt")))},
        resource_policy=json.dumps(KEY_POLICY_DELEGATING_TO_ROOT),
    )

    # When evaluated
    decision = evaluator.evaluate(request)

    # Then they are read like documents
    assert decision.statement == "Decrypt in identity policy kms-use"


def test_actions_without_a_resource_are_authorized_against_star(evaluator):
    # Given a role allowed to create keys, an action AWS authorizes against "*" only
    request = AccessRequest(
        principal=SESSION,
        action="kms:CreateKey",
        resource=KEY_ARN,
        account_id=ACCOUNT,
        identity_policies={"kms-admin": policy(allow("kms:CreateKey", sid="CreateKeys"))},
    )

    # When it is evaluated with the ARN of the key it is about to create
    decision = evaluator.evaluate(request)

    # Then the ARN does not get in the way
    assert decision.statement == "CreateKeys in identity policy kms-admin"


def test_invalid_request_is_an_error_not_a_decision(evaluator):
    # Given an action no service has
    request = AccessRequest(principal=SESSION, action="kms:Teleport", resource=KEY_ARN, account_id=ACCOUNT)

    # When evaluated, then iam-simulate's refusal surfaces as an error
    with pytest.raises(InvalidAccessRequestError, match=r"kms:Teleport .*invalid\.action"):
        evaluator.evaluate(request)


def test_many_requests_from_several_threads_share_one_process(evaluator):
    # Given requests that alternate between allowed and denied
    readable = {"read-data": policy(allow("s3:GetObject", "arn:aws:s3:::mlstack-data/*"))}

    def request(index: int) -> AccessRequest:
        action = "s3:GetObject" if index % 2 == 0 else "s3:PutObject"
        resource = f"arn:aws:s3:::mlstack-data/object-{index}"
        return AccessRequest(SESSION, action, resource, ACCOUNT, identity_policies=readable)

    pid = evaluator.pid

    # When eight threads evaluate 200 of them
    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(pool.map(lambda index: evaluator.evaluate(request(index)), range(200)))

    # Then every thread got its own answer, from the same process
    assert [decision.allowed for decision in decisions] == [index % 2 == 0 for index in range(200)]
    assert evaluator.pid == pid


def test_restarts_a_process_that_died(evaluator):
    # Given the evaluator's Node process was killed
    readable = {"read-data": policy(allow("s3:GetObject", "arn:aws:s3:::mlstack-data/*"))}
    request = AccessRequest(SESSION, "s3:GetObject", OBJECT_ARN, ACCOUNT, identity_policies=readable)
    evaluator.evaluate(request)
    killed = evaluator.pid
    assert killed is not None
    os.kill(killed, signal.SIGKILL)

    # When it is asked again
    decision = evaluator.evaluate(request)

    # Then a new process answers
    assert decision.allowed
    assert evaluator.pid not in (None, killed)


def test_missing_npm_package_is_named(tmp_path, monkeypatch):
    # Given the evaluator installed where no node_modules holds iam-simulate
    copy = tmp_path / "localaws" / "iam"
    copy.mkdir(parents=True)
    source = Path(evaluator_module.__file__).parent
    for name in ("evaluator.py", "evaluate.mjs"):
        shutil.copy(source / name, copy / name)
    monkeypatch.setenv(
        "PATH", f"{evaluator_module.PROJECT_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"
    )
    spec = importlib.util.spec_from_file_location("uninstalled_iam_evaluator", copy / "evaluator.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)

    # When it is asked for a decision, then the error names the package and the fix
    request = module.AccessRequest(SESSION, "kms:Decrypt", KEY_ARN, ACCOUNT)
    with (
        module.PolicyEvaluator() as uninstalled,
        pytest.raises(
            module.IamSimulateNotInstalledError,
            match=r"@cloud-copilot/iam-simulate is not installed \(run make setup\)",
        ),
    ):
        uninstalled.evaluate(request)
