"""CloudFormation on the local AWS: change sets, Outputs, custom resources, resource fixes, async status."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.local.conftest import code_zip, receive_all

PROVIDER = """
import json, urllib.request
def handler(event, context):
    props = event["ResourceProperties"]
    status = "FAILED" if props.get("Fail") == "yes" and event["RequestType"] != "Delete" else "SUCCESS"
    body = {
        "Status": status, "Reason": "asked to fail", "StackId": event["StackId"],
        "RequestId": event["RequestId"], "LogicalResourceId": event["LogicalResourceId"],
        "PhysicalResourceId": event.get("PhysicalResourceId", "phys-" + props["Name"]),
        "Data": {"Echo": props["Name"] + "-" + event["RequestType"], "Count": props["Count"]},
    }
    req = urllib.request.Request(event["ResponseURL"], data=json.dumps(body).encode(), method="PUT")
    urllib.request.urlopen(req).read()
"""
DONE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "DELETE_COMPLETE",
    "DELETE_FAILED",
}


@pytest.fixture(scope="module")
def provider(make_function):
    return make_function(PROVIDER)


def wait_stack(cfn, stack_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        if stack["StackStatus"] in DONE or time.monotonic() > deadline:
            return stack
        time.sleep(0.1)


def deploy(cfn, name: str, template: dict, parameters: list | None = None, kind: str = "CREATE") -> dict:
    change_set = cfn.create_change_set(
        StackName=name,
        ChangeSetName="cs",
        ChangeSetType=kind,
        TemplateBody=json.dumps(template),
        Parameters=parameters or [],
    )
    cfn.execute_change_set(ChangeSetName="cs", StackName=name)
    return wait_stack(cfn, change_set["StackId"])


def custom_template(provider: str, fail: str = "no", count: int = 1) -> dict:
    return {
        "Resources": {
            "Thing": {
                "Type": "AWS::CloudFormation::CustomResource",
                "Properties": {"ServiceToken": provider, "Name": "thing", "Fail": fail, "Count": count},
            },
            "Other": {
                "Type": "Custom::Other",
                "Properties": {"ServiceToken": provider, "Name": "other", "Count": 2},
            },
        },
        "Outputs": {
            "Echo": {"Value": {"Fn::GetAtt": ["Thing", "Echo"]}},
            "Ref": {"Value": {"Ref": "Thing"}},
            "Count": {"Value": {"Fn::GetAtt": ["Other", "Count"]}},
        },
    }


def outputs(stack: dict) -> dict:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_custom_resource_lifecycle_waits_for_the_provider(local_aws, provider):
    cfn = local_aws.client("cloudformation")
    stack = deploy(cfn, "custom-ok", custom_template(provider))
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    # Properties reach the provider as strings, as CloudFormation sends them.
    assert outputs(stack) == {"Echo": "thing-Create", "Ref": "phys-thing", "Count": "2"}

    cfn.delete_change_set(ChangeSetName="cs", StackName="custom-ok")
    stack = deploy(cfn, "custom-ok", custom_template(provider, count=5), kind="UPDATE")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs(stack)["Echo"] == "thing-Update"

    cfn.delete_stack(StackName="custom-ok")
    assert wait_stack(cfn, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"


def test_custom_resource_failed_answer_fails_the_stack(local_aws, provider):
    cfn = local_aws.client("cloudformation")
    stack = deploy(cfn, "custom-failed", custom_template(provider, fail="yes"))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=stack["StackId"])["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and failed[0]["LogicalResourceId"] == "Thing"
    assert "asked to fail" in failed[0]["ResourceStatusReason"]


def test_change_set_not_found_and_scoped_by_stack(local_aws):
    cfn = local_aws.client("cloudformation")
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    for name in ("scope-a", "scope-b"):
        cfn.create_change_set(
            StackName=name, ChangeSetName="same", ChangeSetType="CREATE", TemplateBody=json.dumps(template)
        )
    described = cfn.describe_change_set(ChangeSetName="same", StackName="scope-b")
    assert described["StackName"] == "scope-b"
    with pytest.raises(ClientError) as missing:
        cfn.describe_change_set(ChangeSetName="nope", StackName="scope-a")
    assert missing.value.response["Error"]["Code"] == "ChangeSetNotFound"
    cfn.delete_change_set(ChangeSetName="nope", StackName="scope-a")  # a no-op, as the CDK CLI expects
    cfn.delete_change_set(ChangeSetName="same", StackName="scope-a")
    assert cfn.describe_change_set(ChangeSetName="same", StackName="scope-b")["StackName"] == "scope-b"


def test_update_with_ssm_parameter_and_use_previous_value(local_aws):
    cfn, ssm = local_aws.client("cloudformation"), local_aws.client("ssm")
    ssm.put_parameter(Name="/probe/version", Value="21", Type="String")
    template = {
        "Parameters": {
            "Version": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/probe/version"}
        },
        "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"Version": {"Value": {"Ref": "Version"}}},
    }
    stack = deploy(
        cfn, "ssm-param", template, [{"ParameterKey": "Version", "ParameterValue": "/probe/version"}]
    )
    assert outputs(stack) == {"Version": "21"}
    template["Resources"]["Q2"] = {"Type": "AWS::SQS::Queue"}
    cfn.delete_change_set(ChangeSetName="cs", StackName="ssm-param")
    stack = deploy(
        cfn, "ssm-param", template, [{"ParameterKey": "Version", "UsePreviousValue": True}], kind="UPDATE"
    )
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs(stack) == {"Version": "21"}


def test_state_machine_from_cloudformation_executes(local_aws, role_arn):
    cfn, sfn = local_aws.client("cloudformation"), local_aws.client("stepfunctions")
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"from": "cfn"}, "End": True}}}
    template = {
        "Resources": {
            "M": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"DefinitionString": json.dumps(definition), "RoleArn": role_arn},
            }
        },
        "Outputs": {"Arn": {"Value": {"Ref": "M"}}},
    }
    arn = outputs(deploy(cfn, "sfn-from-cfn", template))["Arn"]
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    from tests.local.conftest import wait_execution

    described = wait_execution(local_aws, execution)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"from": "cfn"}


def test_bucket_and_role_properties_are_applied(local_aws):
    cfn, s3, iam = local_aws.client("cloudformation"), local_aws.client("s3"), local_aws.client("iam")
    policy = iam.create_policy(
        PolicyName=f"p-{uuid.uuid4().hex[:6]}",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    template = {
        "Resources": {
            "B": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                },
            },
            "P": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "B"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Action": "s3:*",
                                "Resource": "*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    },
                },
            },
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                    "ManagedPolicyArns": [policy],
                },
            },
        },
        "Outputs": {"Bucket": {"Value": {"Ref": "B"}}, "Role": {"Value": {"Ref": "R"}}},
    }
    stack = deploy(cfn, "hardening", template)
    bucket, role = outputs(stack)["Bucket"], outputs(stack)["Role"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]["Effect"] == "Deny"
    s3.put_object(Bucket=bucket, Key="k", Body=b"conditional deny does not lock everyone out")
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [policy]

    cfn.delete_stack(StackName="hardening")
    assert wait_stack(cfn, stack["StackId"])["StackStatus"] == "DELETE_FAILED"  # the bucket is not empty
    for version in s3.list_object_versions(Bucket=bucket).get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    cfn.delete_stack(StackName="hardening")
    assert wait_stack(cfn, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"


def test_kms_key_tags_and_event_invoke_config(local_aws, make_function):
    cfn, lam, kms = local_aws.client("cloudformation"), local_aws.client("lambda"), local_aws.client("kms")
    fn = make_function("def handler(e, c):\n    return 1\n")
    queue = "arn:aws:sqs:us-east-1:123456789012:on-failure"
    template = {
        "Resources": {
            "K": {
                "Type": "AWS::KMS::Key",
                "Properties": {"KeyPolicy": {}, "Tags": [{"Key": "mlstack:stack", "Value": "t"}]},
            },
            "C": {
                "Type": "AWS::Lambda::EventInvokeConfig",
                "Properties": {
                    "FunctionName": fn,
                    "Qualifier": "$LATEST",
                    "MaximumRetryAttempts": 0,
                    "DestinationConfig": {"OnFailure": {"Destination": queue}},
                },
            },
        },
        "Outputs": {"Key": {"Value": {"Ref": "K"}}},
    }
    stack = deploy(cfn, "kms-and-invoke-config", template)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert kms.list_resource_tags(KeyId=outputs(stack)["Key"])["Tags"] == [
        {"TagKey": "mlstack:stack", "TagValue": "t"}
    ]
    config = lam.get_function_event_invoke_config(FunctionName=fn)
    assert config["MaximumRetryAttempts"] == 0
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue


def failing_function_template(role_arn: str, dead_letter_arn: str) -> dict:
    """A function that always raises, its code in S3 (as CDK ships it), failures to `dead_letter_arn`."""
    return {
        "Resources": {
            "F": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Role": role_arn,
                    "Code": {"S3Bucket": "dead-letter-code", "S3Key": "fail.zip"},
                    "DeadLetterConfig": {"TargetArn": dead_letter_arn},
                },
            },
            "C": {
                "Type": "AWS::Lambda::EventInvokeConfig",
                "Properties": {
                    "FunctionName": {"Ref": "F"},
                    "Qualifier": "$LATEST",
                    "MaximumRetryAttempts": 0,
                },
            },
        },
        "Outputs": {"Function": {"Value": {"Ref": "F"}}},
    }


def test_a_function_keeps_its_dead_letter_queue_on_create_and_update(local_aws, role_arn):
    cfn, lam, sqs = local_aws.client("cloudformation"), local_aws.client("lambda"), local_aws.client("sqs")
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket="dead-letter-code")
    source = "def handler(event, context):\n    raise RuntimeError('boom')\n"
    s3.put_object(Bucket="dead-letter-code", Key="fail.zip", Body=code_zip(source, "index.py"))
    queues = {}
    for name in ("dlq-first", "dlq-second"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queues[name] = (url, arn)

    def failed_event_lands_in(queue: str, stack: dict) -> bool:
        function = outputs(stack)["Function"]
        lam.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps({"to": queue}))
        return receive_all(sqs, queues[queue][0], expected=1) == [{"to": queue}]

    created = deploy(cfn, "dead-letters", failing_function_template(role_arn, queues["dlq-first"][1]))
    assert created["StackStatus"] == "CREATE_COMPLETE"
    assert failed_event_lands_in("dlq-first", created)
    updated = deploy(
        cfn, "dead-letters", failing_function_template(role_arn, queues["dlq-second"][1]), kind="UPDATE"
    )
    assert updated["StackStatus"] == "UPDATE_COMPLETE"
    assert failed_event_lands_in("dlq-second", updated)
