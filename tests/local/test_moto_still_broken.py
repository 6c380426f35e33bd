"""Why each fix exists: unpatched moto 5.2.5 is broken here. If one fails, moto fixed it: drop the fix."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3
import moto.cloudformation.parsing as parsing
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from localaws import patches

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/r"


@pytest.fixture(autouse=True)
def unpatched(monkeypatch):
    patches.revert_all()  # these tests look at moto as shipped
    # Our CloudFormation models stay registered as subclasses once defined: hide them too.
    shipped = {k: v for k, v in parsing.get_model_map().items() if not v.__module__.startswith("localaws.")}
    monkeypatch.setattr(parsing, "get_model_map", lambda: shipped)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


def client(service):
    return boto3.client(service, region_name=REGION)


def run(definition: dict, payload: dict | None = None) -> tuple[str, dict]:
    sfn = client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"m{time.monotonic_ns()}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name="x", input=json.dumps(payload or {}))[
        "executionArn"
    ]
    for _ in range(200):
        try:
            described = sfn.describe_execution(executionArn=execution)
        except Exception as exc:
            return execution, {"status": "DESCRIBE_CRASHED", "error": repr(exc)}
        if described["status"] != "RUNNING":
            return execution, described
        time.sleep(0.05)
    raise AssertionError("execution did not end")


def deploy(template: dict, name: str = "s") -> dict:
    cfn = client("cloudformation")
    cfn.create_change_set(
        StackName=name, ChangeSetName="cs", ChangeSetType="CREATE", TemplateBody=json.dumps(template)
    )
    cfn.execute_change_set(ChangeSetName="cs", StackName=name)
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def test_cfn_change_sets_no_outputs_and_wrong_not_found_error():
    stack = deploy(
        {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"Q": {"Value": {"Ref": "Q"}}}}
    )
    assert "Outputs" not in stack
    with pytest.raises(ClientError) as error:
        client("cloudformation").describe_change_set(ChangeSetName="missing", StackName="s")
    assert error.value.response["Error"]["Code"] == "ValidationError"


def test_cfn_custom_resources_type_is_not_modelled():
    from moto.cloudformation.parsing import resource_class_from_type

    assert resource_class_from_type("AWS::CloudFormation::CustomResource") is None


def test_sfn_single_backend_cloudformation_machines_are_invisible():
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    deploy(
        {
            "Resources": {
                "M": {
                    "Type": "AWS::StepFunctions::StateMachine",
                    "Properties": {"DefinitionString": definition, "RoleArn": ROLE},
                }
            }
        }
    )
    assert client("stepfunctions").list_state_machines()["stateMachines"] == []


def test_lambda_invoke_needs_docker():
    lam = client("lambda")
    from tests.local.conftest import code_zip

    role = client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code_zip("def handler(e, c):\n    return 1\n")},
    )
    response = lam.invoke(FunctionName="f", Payload=b"{}")
    assert response.get("FunctionError") == "Handled"
    assert b"docker" in response["Payload"].read().lower()


def test_sfn_parallel_errors_states_error_in_branch_is_a_runtime_error():
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName

    with pytest.raises(ValueError, match=r"MUST NOT begin with the prefix 'States\.'"):
        CustomErrorName("States.Timeout")


def test_sfn_jsonpath_index_returns_a_list():
    from moto.stepfunctions.parser.asl.utils.json_path import extract_json

    assert extract_json("$.list[0].field", {"list": [{"field": "v"}]}) == ["v"]


def test_sfn_timestamps_fractional_seconds_and_context_paths_fail():
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations import (
        is_operator,
    )

    IsTimestamp = is_operator.IsTimestamp  # noqa: N806 - moto's class name

    assert IsTimestamp.string_to_timestamp("2024-01-01T00:00:00.123Z") is None
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.t", "TimestampGreaterThanPath": "$$.Execution.StartTime", "Next": "E"}
                ],
                "Default": "E",
            },
            "E": {"Type": "Succeed"},
        },
    }
    _, described = run(definition, {"t": "2999-01-01T00:00:00Z"})
    assert described["status"] == "FAILED" and described["error"] == "States.Runtime"


def test_sfn_datetime_output_crashes_describe():
    client("s3").create_bucket(Bucket="b-datetime")
    _, described = run(
        {
            "StartAt": "S",
            "States": {
                "S": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": True}
            },
        }
    )
    assert described["status"] == "DESCRIBE_CRASHED"


def test_sfn_string_output_is_not_json():
    _, described = run({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "yes", "End": True}}})
    assert described["output"] == "yes"


def test_sfn_abort_error_and_cause_are_dropped():
    sfn = client("stepfunctions")
    arn = sfn.create_state_machine(
        name="w",
        definition=json.dumps(
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}}
        ),
        roleArn=ROLE,
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name="x")["executionArn"]
    sfn.stop_execution(executionArn=execution, error="Manual", cause="test")
    for _ in range(200):
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.05)
    assert described["status"] == "ABORTED"
    assert "error" not in described and "cause" not in described


def test_sfn_execution_name_defaults_to_none():
    sfn = client("stepfunctions")
    arn = sfn.create_state_machine(
        name="n",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE,
    )["stateMachineArn"]
    assert sfn.start_execution(stateMachineArn=arn)["executionArn"].endswith(":None")


def test_sfn_status_events_are_not_emitted_and_lambda_targets_crash():
    sqs, events = client("sqs"), client("events")
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.states"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
    run({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    events.put_targets(
        Rule="r", Targets=[{"Id": "l", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f"}]
    )
    with pytest.raises(NotImplementedError):
        events.put_events(Entries=[{"Source": "aws.states", "DetailType": "x", "Detail": "{}"}])


def test_s3_bucket_config_policy_and_iam_managed_policies_are_ignored():
    iam = client("iam")
    policy = iam.create_policy(
        PolicyName="p",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    template = {
        "Resources": {
            "B": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"BucketName": "b-config", "VersioningConfiguration": {"Status": "Enabled"}},
            },
            "P": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": "b-config", "PolicyDocument": {"Statement": []}},
            },
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "r-config",
                    "AssumeRolePolicyDocument": {},
                    "ManagedPolicyArns": [policy],
                },
            },
        }
    }
    deploy(template)
    assert "Status" not in client("s3").get_bucket_versioning(Bucket="b-config")
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        client("s3").get_bucket_policy(Bucket="b-config")
    assert iam.list_attached_role_policies(RoleName="r-config")["AttachedPolicies"] == []


def test_s3_policy_conditions_are_ignored_so_a_conditional_deny_denies_all():
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    bucket = FakeBucket("b", "123456789012", REGION)
    bucket.policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    ).encode()
    assert bucket.get_permission("s3:PutObject", "arn:aws:s3:::b/k") == PermissionResult.DENIED


def test_s3_bucket_delete_keeps_a_non_empty_bucket_and_reports_success():
    deploy(
        {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "b-full"}}}}, name="full"
    )
    client("s3").put_object(Bucket="b-full", Key="k", Body=b"x")
    client("cloudformation").delete_stack(StackName="full")
    assert [b["Name"] for b in client("s3").list_buckets()["Buckets"]] == ["b-full"]


def test_datetime_type_used_by_fixes_is_stdlib():
    # sfn_timestamps formats context times; this guards the one stdlib behaviour it relies on.
    assert datetime.fromisoformat("2024-01-01T00:00:00.123Z").tzinfo == UTC


def test_kms_key_tags_crash_and_event_invoke_config_is_not_modelled():
    from moto.cloudformation.parsing import resource_class_from_type

    assert resource_class_from_type("AWS::Lambda::EventInvokeConfig") is None
    template = {
        "Resources": {
            "K": {
                "Type": "AWS::KMS::Key",
                "Properties": {"KeyPolicy": {}, "Tags": [{"Key": "a", "Value": "b"}]},
            }
        }
    }
    with pytest.raises((ClientError, KeyError), match=r"TagKey|500"):  # in-process the KeyError surfaces
        deploy(template, name="kms")


def test_state_machine_tasks_sign_with_one_made_up_key_whatever_the_role():
    # Fix: sfn_task_credentials (tasks call AWS as the state machine's role)
    from types import SimpleNamespace

    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    task_client = boto_client_for(
        region=REGION, service="s3", state_credentials=SimpleNamespace(role_arn=ROLE)
    )
    assert task_client._request_signer._credentials.access_key == "ak"
