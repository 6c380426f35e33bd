"""IAM in the local AWS: each caller signs as its role, and AWS's refusals come back in AWS's words."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localaws import ports
from localaws.iam.access_log import read
from localaws.settings import client_env
from tests.local.conftest import LocalAwsHandle, start_server
from tests.local.sagemaker.conftest import wait_until

ACCOUNT = "123456789012"
REGION = "us-east-1"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    ],
}


class Enforcing(LocalAwsHandle):
    """A local AWS that enforces IAM, with clients for the administrator and for role sessions."""

    @property
    def state(self) -> Path:
        return self.log.parent

    def admin(self, service: str) -> Any:
        return self.client(service)

    def role(self, *statements: dict[str, Any]) -> str:
        """A role allowed exactly `statements`; returns its ARN."""
        name = f"r-{uuid.uuid4().hex[:8]}"
        iam = self.admin("iam")
        arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        if statements:
            document = {"Version": "2012-10-17", "Statement": list(statements)}
            iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(document))
        return arn

    def as_role(self, role_arn: str, service: str) -> Any:
        keys = self.admin("sts").assume_role(RoleArn=role_arn, RoleSessionName="tests")["Credentials"]
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
        )

    def decisions(self) -> list[Any]:
        return list(read(self.state / "access-log.jsonl"))


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Enforcing]:
    state = tmp_path_factory.mktemp("iam-state")
    port = ports.free_port()
    proc = start_server(port, state, state / "server.log", iam="enforce")
    try:
        yield Enforcing(port=port, env=client_env(port), log=state / "server.log")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def allow(action: str, resource: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def refusal(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


@pytest.fixture(scope="module")
def bucket(aws: Enforcing) -> str:
    name = f"b-{uuid.uuid4().hex[:8]}"
    s3 = aws.admin("s3")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="open/a.txt", Body=b"a")
    s3.put_object(Bucket=name, Key="closed/b.txt", Body=b"b")
    return name


def test_an_identity_policy_allows_only_what_it_names(aws: Enforcing, bucket: str) -> None:
    # Given a role that may read open/ only
    role = aws.role(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/open/*"))
    s3 = aws.as_role(role, "s3")
    # When it reads open/ and closed/, Then only closed/ is refused, in S3's words
    assert s3.get_object(Bucket=bucket, Key="open/a.txt")["Body"].read() == b"a"
    code, message = refusal(s3.get_object, Bucket=bucket, Key="closed/b.txt")
    assert code == "AccessDenied"
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.split('/')[-1]}/tests"
    assert message == (
        f"User: {session} is not authorized to perform: s3:GetObject on resource: "
        f"arn:aws:s3:::{bucket}/closed/b.txt "
        "because no identity-based policy allows the s3:GetObject action"
    )


def test_an_explicit_deny_wins(aws: Enforcing, bucket: str) -> None:
    role = aws.role(
        allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*"),
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/closed/*"},
    )
    code, message = refusal(aws.as_role(role, "s3").get_object, Bucket=bucket, Key="closed/b.txt")
    assert code == "AccessDenied"
    assert message.endswith("with an explicit deny in an identity-based policy")


def test_a_bucket_policy_deny_applies_to_an_allowed_role(aws: Enforcing) -> None:
    # Given a bucket whose policy refuses one role, and that role allowed by its own policy
    name = f"b-{uuid.uuid4().hex[:8]}"
    aws.admin("s3").create_bucket(Bucket=name)
    aws.admin("s3").put_object(Bucket=name, Key="k", Body=b"x")
    role = aws.role(allow("s3:GetObject", f"arn:aws:s3:::{name}/*"))
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": role},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*",
    }
    aws.admin("s3").put_bucket_policy(
        Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]})
    )
    # Then the bucket policy decides
    _, message = refusal(aws.as_role(role, "s3").get_object, Bucket=name, Key="k")
    assert message.endswith("with an explicit deny in a resource-based policy")


def test_reading_an_sse_kms_object_needs_the_key_too(aws: Enforcing, bucket: str) -> None:
    # Given an object encrypted with a customer key, and a role that may read the object but not use the key
    key = aws.admin("kms").create_key()["KeyMetadata"]["Arn"]
    aws.admin("s3").put_object(
        Bucket=bucket, Key="open/secret", Body=b"s", ServerSideEncryption="aws:kms", SSEKMSKeyId=key
    )
    role = aws.role(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/open/*"))
    # When it reads the object, Then S3 refuses on KMS's behalf, naming kms:Decrypt and the key
    _, message = refusal(aws.as_role(role, "s3").get_object, Bucket=bucket, Key="open/secret")
    assert f"kms:Decrypt on resource: {key}" in message
    # And with kms:Decrypt (the default key policy delegates to the account's IAM) the read works
    reader = aws.role(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/open/*"), allow("kms:Decrypt", key))
    assert aws.as_role(reader, "s3").get_object(Bucket=bucket, Key="open/secret")["Body"].read() == b"s"


def test_passing_a_role_to_sagemaker_needs_pass_role_to_sagemaker(aws: Enforcing) -> None:
    execution = aws.role()
    create = allow("sagemaker:CreateModel", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/*")
    model = {
        "PrimaryContainer": {"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"},
        "ExecutionRoleArn": execution,
    }
    # Given a caller that may create models but not pass the role
    caller = aws.as_role(aws.role(create), "sagemaker")
    code, message = refusal(caller.create_model, ModelName="m-denied", **model)
    assert code == "AccessDeniedException"
    assert f"iam:PassRole on resource: {execution}" in message
    # When PassRole is granted only for another service, Then still refused
    elsewhere = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
    caller = aws.as_role(aws.role(create, allow("iam:PassRole", execution, Condition=elsewhere)), "sagemaker")
    refusal(caller.create_model, ModelName="m-elsewhere", **model)
    # And granted for SageMaker, Then the model is created
    to_sagemaker = {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    caller = aws.as_role(
        aws.role(create, allow("iam:PassRole", execution, Condition=to_sagemaker)), "sagemaker"
    )
    caller.create_model(ModelName="m-allowed", **model)


def test_create_endpoint_on_an_encrypted_config_needs_kms_create_grant(aws: Enforcing) -> None:
    # Given an endpoint config encrypted with a customer key (created by the administrator)
    key = aws.admin("kms").create_key()["KeyMetadata"]["Arn"]
    sm = aws.admin("sagemaker")
    sm.create_model(
        ModelName="grant-model",
        PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"},
        ExecutionRoleArn=aws.role(),
    )
    variant = {
        "VariantName": "v",
        "ModelName": "grant-model",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    sm.create_endpoint_config(EndpointConfigName="grant-config", ProductionVariants=[variant], KmsKeyId=key)
    # And a caller that may create endpoints but not grant the key
    caller = aws.as_role(aws.role(allow("sagemaker:CreateEndpoint", "*")), "sagemaker")
    # When it creates the endpoint, Then SageMaker's refusal names kms:CreateGrant on the key
    code, message = refusal(
        caller.create_endpoint, EndpointName="grant-endpoint", EndpointConfigName="grant-config"
    )
    assert code == "AccessDeniedException"
    assert f"kms:CreateGrant on resource: {key}" in message
    assert sm.list_endpoints(NameContains="grant-endpoint")["Endpoints"] == []


def test_a_key_nobody_was_given_is_unrecognized(aws: Enforcing) -> None:
    stranger = boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url=aws.env["AWS_ENDPOINT_URL"],
        aws_access_key_id="AKIAUNKNOWN000000000",
        aws_secret_access_key="x",
    )
    code, _ = refusal(stranger.list_queues)
    assert code == "UnrecognizedClientException"


def test_every_decision_is_in_the_access_log(aws: Enforcing, bucket: str) -> None:
    role = aws.role(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/open/*"))
    refusal(aws.as_role(role, "s3").get_object, Bucket=bucket, Key="closed/b.txt")
    (entry,) = [e for e in aws.decisions() if e.principal.split("/")[1:2] == [role.split("/")[-1]]]
    assert (entry.action, entry.resource, entry.decision) == (
        "s3:GetObject",
        f"arn:aws:s3:::{bucket}/closed/b.txt",
        "ImplicitlyDenied",
    )
    assert entry.call == "s3:GetObject"


def test_eventbridge_invokes_a_function_only_when_its_policy_lets_the_rule_in(aws: Enforcing) -> None:
    from tests.local.conftest import code_zip

    # Given two functions, only one of which allows the rule to invoke it, and a rule targeting both
    lam, events = aws.admin("lambda"), aws.admin("events")
    rule = events.put_rule(Name="r-iam", EventPattern=json.dumps({"source": ["tests.iam"]}))["RuleArn"]
    targets = []
    for name, permitted in (("open-fn", True), ("closed-fn", False)):
        arn = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=aws.role(),
            Handler="app.handler",
            Code={"ZipFile": code_zip("def handler(event, context):\n    return 1\n")},
        )["FunctionArn"]
        if permitted:
            lam.add_permission(
                FunctionName=name,
                StatementId="rule",
                Action="lambda:InvokeFunction",
                Principal="events.amazonaws.com",
                SourceArn=rule,
            )
        targets.append({"Id": name, "Arn": arn})
    events.put_targets(Rule="r-iam", Targets=targets)
    # When an event matches
    events.put_events(Entries=[{"Source": "tests.iam", "DetailType": "t", "Detail": "{}"}])
    # Then EventBridge's invocation is allowed for one function and refused for the other
    decided = wait_until(
        lambda: (
            {
                e.resource.rsplit(":", 1)[-1]: e.decision
                for e in aws.decisions()
                if e.principal == "events.amazonaws.com" and e.action == "lambda:InvokeFunction"
            }
            if len([e for e in aws.decisions() if e.principal == "events.amazonaws.com"]) >= 2
            else None
        )
    )
    assert decided == {"open-fn": "Allowed", "closed-fn": "ImplicitlyDenied"}


def test_audit_mode_decides_and_logs_but_refuses_nothing(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Given a local AWS in audit mode and a role with no grants
    state = tmp_path_factory.mktemp("iam-audit")
    port = ports.free_port()
    proc = start_server(port, state, state / "server.log", iam="audit")
    try:
        aws = Enforcing(port=port, env=client_env(port), log=state / "server.log")
        aws.admin("s3").create_bucket(Bucket="audited")
        role = aws.role()
        # When the role lists the bucket, Then the call goes through and the denial is only logged
        aws.as_role(role, "s3").list_objects_v2(Bucket="audited")
        (entry,) = [e for e in aws.decisions() if e.action == "s3:ListBucket"]
        assert entry.decision == "ImplicitlyDenied"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
