"""Lambda on the local AWS: handlers run for real in warm execution environments with Lambda's contract."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from localaws.lambda_runtime import environments
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


WARM = """
import os, time
INVOCATIONS = []  # module state: lives as long as the execution environment
def handler(event, context):
    INVOCATIONS.append(context.aws_request_id)
    print(f"invocation {len(INVOCATIONS)} of {os.getpid()}")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("exit"):
        os._exit(event["exit"])
    return {
        "pid": os.getpid(),
        "invocations": len(INVOCATIONS),
        "request_ids": INVOCATIONS,
        "mode": os.environ.get("MODE"),
    }
"""


def _invoke(local_aws, arn, event=None):
    response = local_aws.client("lambda").invoke(
        FunctionName=arn, Payload=json.dumps(event or {}), LogType="Tail"
    )
    logs = base64.b64decode(response["LogResult"]).decode()
    return json.loads(response["Payload"].read()), response.get("FunctionError"), logs


def test_an_environment_is_kept_warm_and_serves_the_next_invocation(local_aws, make_function):
    # Given a function that counts its invocations in module state
    arn = make_function(WARM)

    # When it is invoked twice in a row
    first, _, first_logs = _invoke(local_aws, arn)
    second, _, second_logs = _invoke(local_aws, arn)

    # Then the second ran in the same process, under its own request id, with only its own logs
    assert second["pid"] == first["pid"]
    assert (first["invocations"], second["invocations"]) == (1, 2)
    assert len(set(second["request_ids"])) == 2
    assert "invocation 1 of" in first_logs and "invocation 2 of" not in first_logs
    assert "invocation 2 of" in second_logs and "invocation 1 of" not in second_logs


def test_concurrent_invocations_each_get_an_environment(local_aws, make_function):
    # Given a function whose invocations take a while
    arn = make_function(WARM)

    # When two are invoked at the same time
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: _invoke(local_aws, arn, {"sleep": 1})[0], range(2)))

    # Then each ran in an environment of its own, as its first invocation
    assert results[0]["pid"] != results[1]["pid"]
    assert [r["invocations"] for r in results] == [1, 1]


@pytest.mark.parametrize(
    ("event", "error_type"), [({"sleep": 5}, "Sandbox.Timedout"), ({"exit": 3}, "Runtime.ExitError")]
)
def test_a_timeout_or_a_crash_ends_the_environment_and_the_next_invocation_starts_cold(
    local_aws, make_function, event, error_type
):
    # Given a warm environment of a function with a 1 s timeout
    arn = make_function(WARM, timeout=1)
    warm, _, _ = _invoke(local_aws, arn)

    # When an invocation times out or kills its process
    failed, error, logs = _invoke(local_aws, arn, event)

    # Then it fails as Lambda reports it, and the next invocation runs in a new environment
    assert (error, failed["errorType"]) == ("Unhandled", error_type)
    assert "invocation 2 of" in logs
    if error_type == "Runtime.ExitError":
        assert "exit status 3" in failed["errorMessage"]
    after, error, _ = _invoke(local_aws, arn)
    assert error is None
    assert after["pid"] != warm["pid"] and after["invocations"] == 1


def test_a_configuration_change_gets_a_new_environment(local_aws, make_function):
    # Given a warm environment of a function
    arn = make_function(WARM, Environment={"Variables": {"MODE": "first"}})
    before, _, _ = _invoke(local_aws, arn)

    # When its variables change
    local_aws.client("lambda").update_function_configuration(
        FunctionName=arn, Environment={"Variables": {"MODE": "second"}}
    )
    after, _, _ = _invoke(local_aws, arn)

    # Then the next invocation runs in a new environment that sees them
    assert (before["mode"], after["mode"]) == ("first", "second")
    assert after["pid"] != before["pid"] and after["invocations"] == 1


class _Idle:
    """An environment as the pool sees it: a key, whether its process lives, end()."""

    def __init__(self, key: str, alive: bool = True) -> None:
        self.key, self._alive, self.ended, self.idle_since = key, alive, False, 0.0

    def alive(self) -> bool:
        return self._alive and not self.ended

    def end(self) -> None:
        self.ended = True


def test_the_pool_ends_environments_idle_too_long_or_beyond_its_size(monkeypatch):
    # Given a pool of at most two idle environments, idle at most 60 s
    monkeypatch.setattr(environments, "MAX_IDLE", 2)
    monkeypatch.setattr(environments, "IDLE_S", 60.0)
    clock = [1000.0]
    monkeypatch.setattr(environments.time, "monotonic", lambda: clock[0])
    pool = environments.Pool()
    oldest, older, newest = _Idle("a"), _Idle("b"), _Idle("a")

    # When three are given back, and later a dead one
    for environment in (oldest, older, newest):
        pool.give_back(environment)
    dead = _Idle("c", alive=False)
    pool.give_back(dead)

    # Then the longest idle and the dead are ended; a take gets the newest of its key, once
    assert (oldest.ended, older.ended, newest.ended, dead.ended) == (True, False, False, True)
    assert pool.take("a") is newest
    assert pool.take("a") is None

    # And one idle past IDLE_S is ended instead of served
    clock[0] += 61.0
    assert pool.take("b") is None and older.ended
