"""Step Functions on the local AWS: the ASL features a normal state machine needs, and status events."""

from __future__ import annotations

import json
import time

import pytest

from tests.local.conftest import receive_all, run_execution, wait_execution

TASK_HANDLER = """
import time
class MyError(Exception):
    pass
def handler(event, context):
    if event.get("fail"):
        raise MyError("bad")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"list": [{"field": "v0"}, {"field": "v1"}]}
"""
INVOKE = "arn:aws:states:::lambda:invoke"


@pytest.fixture(scope="module")
def task_fn(make_function):
    return make_function(TASK_HANDLER, timeout=30)


def task(fn: str, payload: dict, **extra) -> dict:
    return {
        "Type": "Task",
        "Resource": INVOKE,
        "Parameters": {"FunctionName": fn, "Payload": payload},
        "OutputPath": "$.Payload",
        **extra,
    }


def parallel_catching(branch_state: dict, errors: list[str]) -> dict:
    return {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "T", "States": {"T": {**branch_state, "End": True}}}],
                "Catch": [{"ErrorEquals": errors, "Next": "Caught", "ResultPath": "$.err"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def output(described) -> dict:
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    return json.loads(described["output"])


def test_task_error_in_parallel_branch_reaches_the_catch(local_aws, role_arn, task_fn):
    described = run_execution(
        local_aws, role_arn, parallel_catching(task(task_fn, {"fail": True}), ["MyError"])
    )
    assert output(described)["err"]["Error"] == "MyError"


def test_states_timeout_in_parallel_branch_reaches_the_catch(local_aws, role_arn, task_fn):
    branch = task(task_fn, {"sleep": 3}, TimeoutSeconds=1)
    described = run_execution(local_aws, role_arn, parallel_catching(branch, ["States.Timeout"]))
    assert output(described)["err"]["Error"] == "States.Timeout"


def test_states_error_in_map_iteration_reaches_the_catch(local_aws, role_arn, task_fn):
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "Iterator": {
                    "StartAt": "T",
                    "States": {"T": {**task(task_fn, {"sleep.$": "$.s"}), "TimeoutSeconds": 1, "End": True}},
                },
                "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Caught", "ResultPath": "$.err"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    described = run_execution(local_aws, role_arn, definition, {"items": [{"s": 0}, {"s": 3}]})
    assert output(described)["err"]["Error"] == "States.Timeout"


def test_jsonpath_index_then_field_is_the_value(local_aws, role_arn, task_fn):
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": task_fn, "Payload": {}},
                "ResultSelector": {"first.$": "$.Payload.list[0].field", "all.$": "$.Payload.list[*].field"},
                "Next": "X",
            },
            "X": {
                "Type": "Pass",
                "Parameters": {"v.$": "$.first", "all.$": "$.all", "n.$": "States.ArrayLength($.all)"},
                "End": True,
            },
        },
    }
    assert output(run_execution(local_aws, role_arn, definition)) == {"v": "v0", "all": ["v0", "v1"], "n": 2}


def test_datetime_in_final_output_does_not_break_describe(local_aws, role_arn):
    local_aws.client("s3").create_bucket(Bucket="sfn-datetime-probe")
    definition = {
        "StartAt": "S",
        "States": {"S": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": True}},
    }
    buckets = output(run_execution(local_aws, role_arn, definition))["Buckets"]
    created = next(b["CreationDate"] for b in buckets if b["Name"] == "sfn-datetime-probe")
    assert created.endswith("Z") and "T" in created


def test_choice_compares_timestamps_from_the_context_object(local_aws, role_arn):
    definition = {
        "StartAt": "Copy",
        "States": {
            "Copy": {
                "Type": "Pass",
                "Parameters": {"entered.$": "$$.State.EnteredTime", "late": "2999-01-01T00:00:00Z"},
                "Next": "C",
            },
            "C": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {
                                "Variable": "$.entered",
                                "TimestampGreaterThanEqualsPath": "$$.Execution.StartTime",
                            },
                            {"Variable": "$.late", "TimestampGreaterThanPath": "$$.State.EnteredTime"},
                        ],
                        "Next": "Yes",
                    }
                ],
                "Default": "No",
            },
            "Yes": {"Type": "Pass", "Result": "yes", "End": True},
            "No": {"Type": "Pass", "Result": "no", "End": True},
        },
    }
    assert output(run_execution(local_aws, role_arn, definition)) == "yes"


def test_intrinsic_functions(local_aws, role_arn):
    definition = {
        "StartAt": "X",
        "States": {
            "X": {
                "Type": "Pass",
                "Parameters": {
                    "f.$": "States.Format('run-{}-{}', $.a, $.b)",
                    "j.$": "States.StringToJson($.js)",
                    "n.$": "States.ArrayLength($.arr)",
                },
                "End": True,
            }
        },
    }
    payload = {"a": 1, "b": "x", "js": '{"k": [1, 2]}', "arr": [1, 2, 3]}
    assert output(run_execution(local_aws, role_arn, definition, payload)) == {
        "f": "run-1-x",
        "j": {"k": [1, 2]},
        "n": 3,
    }


def test_retry_backoff_and_waits_cost_what_they_say(local_aws, role_arn, task_fn):
    retry = {
        "StartAt": "T",
        "States": {
            "T": {
                **task(task_fn, {"fail": True}),
                "Retry": [
                    {"ErrorEquals": ["MyError"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 2}
                ],
                "End": True,
            }
        },
    }
    described = run_execution(local_aws, role_arn, retry)
    assert described["status"] == "FAILED" and described["error"] == "MyError"
    elapsed = (described["stopDate"] - described["startDate"]).total_seconds()
    assert 3.0 <= elapsed < 5.0  # waits of 1 s + 2 s, three quick invocations

    wait = {"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}}
    described = run_execution(local_aws, role_arn, wait, {"s": 1})
    assert 1.0 <= (described["stopDate"] - described["startDate"]).total_seconds() < 1.5


def test_task_timeout_fails_with_states_timeout(local_aws, role_arn, task_fn):
    described = run_execution(
        local_aws,
        role_arn,
        {"StartAt": "T", "States": {"T": {**task(task_fn, {"sleep": 3}), "TimeoutSeconds": 1, "End": True}}},
    )
    assert described["status"] == "FAILED" and described["error"] == "States.Timeout"


def test_execution_without_name_gets_a_uuid(local_aws, role_arn):
    described = run_execution(
        local_aws, role_arn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    assert described["name"] != "None" and len(described["name"]) == 36


def statuses(sqs, queue, ours, detail_of, timeout=20.0) -> dict:
    """Status -> message, for our executions only, until all four arrived (other tests' events ignored)."""
    found: dict = {}
    deadline = time.monotonic() + timeout
    while len(found) < 4 and time.monotonic() < deadline:
        for message in receive_all(sqs, queue, expected=1, timeout=1):
            detail = detail_of(message)
            if detail["executionArn"] in ours:
                found[detail["status"]] = {**message, "detail": detail}
    return found


STATUS_RULE = {
    "source": ["aws.states"],
    "detail-type": ["Step Functions Execution Status Change"],
    "detail": {"status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]},
}
FORWARDER = """
import json, os, boto3
def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE"], MessageBody=json.dumps(event))
"""


def test_status_change_events_reach_sqs_and_lambda_targets(local_aws, role_arn, make_function):
    sqs, events, sfn = local_aws.client("sqs"), local_aws.client("events"), local_aws.client("stepfunctions")
    direct = sqs.create_queue(QueueName="sfn-status")["QueueUrl"]
    via_lambda = sqs.create_queue(QueueName="sfn-status-via-lambda")["QueueUrl"]
    direct_arn = sqs.get_queue_attributes(QueueUrl=direct, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    forwarder = make_function(FORWARDER, Environment={"Variables": {"QUEUE": via_lambda}})
    events.put_rule(Name="sfn-status", EventPattern=json.dumps(STATUS_RULE))
    events.put_targets(
        Rule="sfn-status",
        Targets=[{"Id": "q", "Arn": direct_arn}, {"Id": "l", "Arn": forwarder, "InputPath": "$.detail"}],
    )
    definitions = {
        "SUCCEEDED": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "FAILED": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "why"}}},
        "TIMED_OUT": {
            "TimeoutSeconds": 1,
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}},
        },
        "ABORTED": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}},
    }
    executions = {}
    for status, definition in definitions.items():
        machine = sfn.create_state_machine(
            name=f"status-{status.lower()}", definition=json.dumps(definition), roleArn=role_arn
        )
        executions[status] = sfn.start_execution(
            stateMachineArn=machine["stateMachineArn"], name=status.lower(), input='{"run": 1}'
        )["executionArn"]
    time.sleep(0.3)
    sfn.stop_execution(executionArn=executions["ABORTED"], error="Manual", cause="test")
    for arn in executions.values():
        wait_execution(local_aws, arn)

    ours = set(executions.values())
    received = statuses(sqs, direct, ours, lambda e: e["detail"])
    assert set(received) == set(definitions)
    failed = received["FAILED"]
    assert failed["source"] == "aws.states"
    assert failed["detail-type"] == "Step Functions Execution Status Change"
    assert failed["resources"] == [executions["FAILED"]]
    assert failed["detail"]["executionArn"] == executions["FAILED"]
    assert failed["detail"]["error"] == "Boom" and failed["detail"]["cause"] == "why"
    assert failed["detail"]["input"] == '{"run":1}'
    assert received["SUCCEEDED"]["detail"]["output"] == '{"run":1}'
    # StopExecution's error and cause reach the rule (Cleanup tells the stack's teardown by them)
    assert (
        received["ABORTED"]["detail"]["error"] == "Manual"
        and received["ABORTED"]["detail"]["cause"] == "test"
    )
    forwarded = {k: v["detail"] for k, v in statuses(sqs, via_lambda, ours, lambda d: d).items()}
    assert set(forwarded) == set(definitions)  # InputPath: the lambda got the detail only
    assert forwarded["ABORTED"]["executionArn"] == executions["ABORTED"]


@pytest.mark.parametrize(
    ("error", "branch"),
    [
        ({"Error": "X"}, "NoCause"),
        (
            {"Error": "X", "Cause": "Rate exceeded (Service: SageMaker, Status Code: 400, Request ID: r)"},
            "Transient",
        ),
        ({"Error": "X", "Cause": "boom (Service: SageMaker, Status Code: 503, Request ID: r)"}, "Transient"),
        (
            {"Error": "X", "Cause": "1 validation error detected (Service: SageMaker, Status Code: 400)"},
            "Permanent",
        ),
    ],
)
def test_choices_test_an_optional_cause_without_a_runtime_error(local_aws, role_arn, error, branch):
    # A caught error may lack its Cause: the pipeline tests IsPresent before it reads or matches one.
    cause = "$.error.Cause"
    transient = [{"Variable": cause, "StringMatches": p} for p in ("*Rate exceeded*", "*Status Code: 5*")]
    definition = {
        "StartAt": "HasCause",
        "States": {
            "HasCause": {
                "Type": "Choice",
                "Choices": [{"Variable": cause, "IsPresent": False, "Next": "NoCause"}],
                "Default": "IsTransient",
            },
            "IsTransient": {
                "Type": "Choice",
                "Choices": [
                    {"And": [{"Variable": cause, "IsPresent": True}, {"Or": transient}], "Next": "Transient"}
                ],
                "Default": "Permanent",
            },
            **{
                name: {"Type": "Pass", "Result": name, "End": True}
                for name in ("NoCause", "Transient", "Permanent")
            },
        },
    }
    assert output(run_execution(local_aws, role_arn, definition, {"error": error})) == branch


def test_a_tasks_client_is_made_once_per_service_region_and_signer():
    # Given the state machine's role (tasks sign with a session of it) and the administrator
    from types import SimpleNamespace

    import boto3
    from moto import mock_aws

    from localaws.iam.principals import ADMIN_ACCESS_KEY
    from localaws.patches.sfn_task_credentials import boto_client_for

    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="sfn-clients", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        as_role = SimpleNamespace(role_arn=role)

        # When tasks ask for clients
        first = boto_client_for("us-east-1", "sagemaker", as_role)

        # Then the same signer gets the same client (making one cost each task tens of milliseconds),
        # signing as the role; another signer, region or service gets its own
        assert boto_client_for("us-east-1", "sagemaker", as_role) is first
        assert first._request_signer._credentials.access_key != ADMIN_ACCESS_KEY
        admin = boto_client_for("us-east-1", "sagemaker", None)
        assert admin is not first and admin._request_signer._credentials.access_key == ADMIN_ACCESS_KEY
        assert boto_client_for("eu-west-1", "sagemaker", as_role) is not first
        assert boto_client_for("us-east-1", "s3", as_role) is not first
