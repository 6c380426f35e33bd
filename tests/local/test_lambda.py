"""Lambda on the local AWS: handlers run for real in a subprocess with Lambda's contract."""

from __future__ import annotations

import base64
import json
import time

from tests.local.conftest import receive_all

HANDLER = """
import os, time, boto3
class QuotaExceeded(Exception):
    pass
def handler(event, context):
    if event.get("fail"):
        raise QuotaExceeded("need 2, have 0")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("queue"):
        boto3.client("sqs").send_message(QueueUrl=event["queue"], MessageBody="from-lambda")
    print("log line")
    return {
        "env": os.environ["GREETING"],
        "endpoint": os.environ["AWS_ENDPOINT_URL"],
        "region": os.environ["AWS_REGION"],
        "name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "buckets": len(boto3.client("s3").list_buckets()["Buckets"]),
    }
"""


def test_sync_invoke_runs_the_handler_with_env_endpoint_and_context(local_aws, make_function):
    arn = make_function(HANDLER, Environment={"Variables": {"GREETING": "hi"}})
    response = local_aws.client("lambda").invoke(FunctionName=arn, Payload=b"{}", LogType="Tail")
    assert "FunctionError" not in response
    body = json.loads(response["Payload"].read())
    assert body["env"] == "hi"
    assert body["endpoint"] == f"http://localhost:{local_aws.port}"
    assert body["region"] == "us-east-1"
    assert body["name"] == arn.split(":")[-1]
    assert 0 < body["remaining_ms"] <= 10_000
    assert "log line" in base64.b64decode(response["LogResult"]).decode()


def test_unhandled_error_is_reported_like_lambda(local_aws, make_function):
    arn = make_function(HANDLER, Environment={"Variables": {"GREETING": "hi"}})
    response = local_aws.client("lambda").invoke(FunctionName=arn, Payload=json.dumps({"fail": True}))
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"].read())
    assert body["errorType"] == "QuotaExceeded"
    assert body["errorMessage"] == "need 2, have 0"
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]


def test_timeout_kills_the_handler(local_aws, make_function):
    arn = make_function(HANDLER, timeout=1, Environment={"Variables": {"GREETING": "hi"}})
    response = local_aws.client("lambda").invoke(FunctionName=arn, Payload=json.dumps({"sleep": 5}))
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"].read())
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1" in body["errorMessage"]


def test_bad_handler_string_is_an_import_error(local_aws, make_function):
    arn = make_function(HANDLER, handler="missing.handler")
    response = local_aws.client("lambda").invoke(FunctionName=arn, Payload=b"{}")
    assert json.loads(response["Payload"].read())["errorType"] == "Runtime.ImportModuleError"


def test_async_invoke_runs_in_background(local_aws, make_function):
    sqs = local_aws.client("sqs")
    queue = sqs.create_queue(QueueName="async-target")["QueueUrl"]
    arn = make_function(HANDLER, Environment={"Variables": {"GREETING": "hi"}})
    response = local_aws.client("lambda").invoke(
        FunctionName=arn, InvocationType="Event", Payload=json.dumps({"queue": queue})
    )
    assert response["StatusCode"] == 202
    assert _received(sqs, queue) == ["from-lambda"]


def _received(sqs, queue, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=queue).get("Messages", [])
        if got:
            return [m["Body"] for m in got]
        time.sleep(0.1)
    return []


def test_async_failure_retries_then_goes_to_on_failure_destination(local_aws, make_function):
    sqs = local_aws.client("sqs")
    queue = sqs.create_queue(QueueName="async-on-failure")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    arn = make_function(HANDLER)
    lam = local_aws.client("lambda")
    lam.put_function_event_invoke_config(
        FunctionName=arn,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    lam.invoke(FunctionName=arn, InvocationType="Event", Payload=json.dumps({"fail": True}))
    [record] = receive_all(sqs, queue, expected=1)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"] == {"fail": True}
    assert record["responsePayload"]["errorType"] == "QuotaExceeded"
