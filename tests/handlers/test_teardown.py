"""Teardown custom resource: answers CloudFormation exactly; on Delete leaves nothing running or blocking."""

from __future__ import annotations

import json
import threading
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from botocore.stub import Stubber

from handlers.common import clients
from handlers.common.stack_resources import WaitBudget
from handlers.teardown import destroy as destroy_module
from handlers.teardown.destroy import Services, destroy
from handlers.teardown.handler import handle, lambda_handler, services
from handlers.teardown.request import FAILED_CREATE_PREFIX, parse_request
from handlers.teardown.response import MAX_BODY_BYTES, response_body, send
from tests.handlers.conftest import ACCOUNT, ARTIFACTS_BUCKET, DATA_BUCKET, REGION, STATE_MACHINE

LOG_BUCKET = "mlstack-logs-test"
STACK_ID = (
    f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/MlStack-test/1f2e3d4c-0000-1111-2222-333344445555"
)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlstack-sagemaker"
# A pre-signed S3 URL's query, with escapes that must reach the server unchanged.
SIGNED_QUERY = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261122%2Fus-east-1&X-Amz-Signature=ab12"
)


@dataclass
class Received:
    """What the fake pre-signed URL endpoint received."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def body(self) -> dict[str, Any]:
        (request,) = self.requests
        return dict(json.loads(request["body"]))


@pytest.fixture
def response_url() -> Iterator[tuple[str, Received]]:
    """A local HTTP server on 127.0.0.1 standing in for CloudFormation's pre-signed S3 URL."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers["Content-Length"])
            received.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/cfn-response/teardown?{SIGNED_QUERY}", received
    finally:
        server.shutdown()
        server.server_close()


def request(url: str, request_type: str = "Delete", **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:teardown",
        "ResponseURL": url,
        "StackId": STACK_ID,
        "RequestId": "5c1d2e3f-aaaa-bbbb-cccc-ddddeeeeffff",
        "LogicalResourceId": "LifecycleStackTeardown617E300E",
        "ResourceType": "Custom::MlStackTeardown",
        "ResourceProperties": {
            "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:teardown",
            "NamePrefix": "mlstest",
            "StackName": "MlStack-test",
            "StateMachineArn": STATE_MACHINE,
            "Buckets": [DATA_BUCKET, ARTIFACTS_BUCKET, LOG_BUCKET],
            "EmptyBuckets": "true",
        },
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "MlStack-test-teardown"
    event.update(changes)
    return event


def tags(stack: str = "MlStack-test") -> list[dict[str, str]]:
    return [
        {"Key": "mlstack:stack", "Value": stack},
        {"Key": "mlstack:expires", "Value": "2999-01-01T00:00:00Z"},
    ]


def deploy(name: str, stack: str = "MlStack-test") -> None:
    sm = clients.sagemaker()
    sm.create_model(
        ModelName=f"{name}-xgb",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "i", "ModelDataUrl": "s3://b/k"},
        Tags=tags(stack),
    )
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "A",
                "ModelName": f"{name}-xgb",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        Tags=tags(stack),
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags(stack))


def versioned_buckets() -> Any:
    """The three buckets, versioned, each with several versions of one key and a delete marker."""
    s3 = clients.s3()
    for bucket in (DATA_BUCKET, ARTIFACTS_BUCKET, LOG_BUCKET):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        for version in range(3):
            s3.put_object(Bucket=bucket, Key="reports/r/leaderboard.json", Body=f"v{version}".encode())
        s3.put_object(Bucket=bucket, Key="gone.txt", Body=b"x")
        s3.delete_object(Bucket=bucket, Key="gone.txt")
    return s3


def running_execution(name: str = "nightly") -> None:
    sfn = clients.stepfunctions()
    sfn.create_state_machine(
        name=STATE_MACHINE.rsplit(":", 1)[1],
        definition=json.dumps({"StartAt": "W", "States": {"W": {"Type": "Pass", "End": True}}}),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
    )
    sfn.start_execution(stateMachineArn=STATE_MACHINE, name=name)


def test_delete_tears_everything_down_and_answers_success(aws, context, response_url):
    # Given a running execution, this stack's endpoint/config/model, another stack's, and full buckets
    url, received = response_url
    running_execution()
    deploy("mlstest-run-1")
    deploy("mlstest-foreign", stack="MlStack-other")
    s3 = versioned_buckets()
    # When CloudFormation sends Delete
    lambda_handler(request(url), context)
    # Then the execution was stopped and only this stack's serving resources are gone
    sm = clients.sagemaker()
    assert [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]] == ["mlstest-foreign"]
    assert [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]] == [
        "mlstest-foreign"
    ]
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == ["mlstest-foreign-xgb"]
    (execution,) = clients.stepfunctions().list_executions(stateMachineArn=STATE_MACHINE)["executions"]
    assert execution["status"] == "ABORTED"
    # And every version and delete marker of all three buckets is deleted
    for bucket in (DATA_BUCKET, ARTIFACTS_BUCKET, LOG_BUCKET):
        page = s3.list_object_versions(Bucket=bucket)
        assert page.get("Versions", []) == [] and page.get("DeleteMarkers", []) == []
    # And the answer went to the pre-signed URL as is, as CloudFormation expects it
    (sent,) = received.requests
    assert sent["path"] == f"/cfn-response/teardown?{SIGNED_QUERY}"
    assert sent["headers"].get("Content-Type", "") == ""
    body = received.body
    assert set(body) == {
        "Status",
        "Reason",
        "PhysicalResourceId",
        "StackId",
        "RequestId",
        "LogicalResourceId",
        "Data",
    }
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "MlStack-test-teardown"
    assert (body["StackId"], body["RequestId"], body["LogicalResourceId"]) == (
        STACK_ID,
        "5c1d2e3f-aaaa-bbbb-cccc-ddddeeeeffff",
        "LifecycleStackTeardown617E300E",
    )
    assert body["Data"] == {"Stopped": "1", "Deleted": "3", "ObjectVersionsDeleted": "15", "Failures": ""}
    assert "deleted 15 object version(s) in 3 bucket(s)" in body["Reason"]


def test_a_second_delete_finds_nothing_and_still_succeeds(aws, context, response_url):
    url, received = response_url
    deploy("mlstest-run-1")
    versioned_buckets()
    lambda_handler(request(url), context)
    lambda_handler(request(url), context)
    second = json.loads(received.requests[1]["body"])
    assert second["Status"] == "SUCCESS"
    assert second["Data"] == {"Stopped": "0", "Deleted": "0", "ObjectVersionsDeleted": "0", "Failures": ""}


def test_retaining_stage_keeps_bucket_contents(aws, context, response_url):
    url, received = response_url
    s3 = versioned_buckets()
    event = request(url)
    event["ResourceProperties"]["EmptyBuckets"] = "false"
    lambda_handler(event, context)
    assert received.body["Status"] == "SUCCESS"
    assert len(s3.list_object_versions(Bucket=DATA_BUCKET)["Versions"]) == 4


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_only_answer(context, response_url, request_type):
    url, received = response_url
    with Stubber(clients.sagemaker()), Stubber(clients.s3()):  # no answers: any AWS call fails the test
        lambda_handler(request(url, request_type), context)
    body = received.body
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == "MlStack-test-teardown"
    assert body["Data"] == {}


def test_malformed_properties_answer_failed(context, response_url):
    url, received = response_url
    event = request(url, "Create")
    del event["ResourceProperties"]["NamePrefix"]
    lambda_handler(event, context)
    body = received.body
    assert body["Status"] == "FAILED"
    assert "ResourceProperties.NamePrefix" in body["Reason"]
    assert body["PhysicalResourceId"] == f"{FAILED_CREATE_PREFIX}{event['RequestId']}"


def test_unknown_request_type_answers_failed(context, response_url):
    url, received = response_url
    lambda_handler(request(url, "Replace"), context)
    assert received.body["Status"] == "FAILED" and "RequestType" in received.body["Reason"]


def test_rollback_delete_after_a_failed_create_succeeds(context, response_url):
    url, received = response_url
    event = request(url, PhysicalResourceId=f"{FAILED_CREATE_PREFIX}abc")
    event["ResourceProperties"] = {}
    lambda_handler(event, context)
    assert received.body["Status"] == "SUCCESS"


def test_without_a_response_url_it_cannot_answer_and_raises(context):
    event = request("")
    with pytest.raises(Exception, match="ResponseURL"):
        lambda_handler(event, context)


def test_failures_are_reported_but_the_answer_is_success(aws):
    # Given SageMaker refuses every listing
    versioned_buckets()
    sm = clients.sagemaker()
    aws_services = Services(sm, clients.stepfunctions(), clients.s3(), clients.cloudformation())
    parsed = parse_request(request("https://example.invalid/x"))
    with Stubber(sm) as stub:
        for operation in (
            "list_hyper_parameter_tuning_jobs",
            "list_endpoints",
            "list_hyper_parameter_tuning_jobs",
        ):
            stub.add_client_error(operation, "AccessDeniedException", "not allowed")
        # When teardown runs
        status, reason, data = handle(parsed, aws_services, lambda: 600.0)
    # Then it still answers SUCCESS, the failures named in Reason and Data, and the buckets were emptied
    assert status == "SUCCESS"
    assert "3 failure(s)" in reason and "AccessDeniedException" in reason
    assert "jobs: ClientError" in data["Failures"] and "serving resources: ClientError" in data["Failures"]
    assert "jobs ending: ClientError" in data["Failures"]
    assert data["ObjectVersionsDeleted"] == "15"


def test_a_replacement_during_an_update_tears_nothing_down():
    cfn = clients.cloudformation()
    parsed = parse_request(request("https://example.invalid/x"))
    stack = {"StackName": "MlStack-test", "StackId": STACK_ID, "CreationTime": "2026-11-22T05:00:00Z"}
    with Stubber(cfn) as stub, Stubber(clients.sagemaker()), Stubber(clients.s3()):
        stub.add_response(
            "describe_stacks",
            {"Stacks": [{**stack, "StackStatus": "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"}]},
            {"StackName": STACK_ID},
        )
        status, reason, _ = handle(parsed, services(), lambda: 600.0)
    assert status == "SUCCESS" and "nothing is torn down" in reason


def test_running_jobs_of_this_stack_are_stopped_others_are_not(aws):
    sm = clients.sagemaker()
    target = parse_request(request("https://example.invalid/x")).target
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
    created = {"CreationTime": "2026-11-22T05:00:00Z"}
    with Stubber(sm) as stub:
        stub.add_response(
            "list_hyper_parameter_tuning_jobs",
            {
                "HyperParameterTuningJobSummaries": [
                    {
                        "HyperParameterTuningJobName": "mlstest-run-1-hpo",
                        "HyperParameterTuningJobArn": f"{arn}:hyper-parameter-tuning-job/mlstest-run-1-hpo",
                        "HyperParameterTuningJobStatus": "InProgress",
                        "Strategy": "Bayesian",
                        "TrainingJobStatusCounters": {},
                        "ObjectiveStatusCounters": {},
                        **created,
                    }
                ]
            },
            {"NameContains": "mlstest-", "StatusEquals": "InProgress"},
        )
        stub.add_response(
            "list_tags",
            {"Tags": tags()},
            {"ResourceArn": f"{arn}:hyper-parameter-tuning-job/mlstest-run-1-hpo"},
        )
        stub.add_response(
            "stop_hyper_parameter_tuning_job", {}, {"HyperParameterTuningJobName": "mlstest-run-1-hpo"}
        )
        stub.add_response(
            "list_auto_ml_jobs",
            {
                "AutoMLJobSummaries": [
                    {
                        "AutoMLJobName": "mlstest-run-2-apl",
                        "AutoMLJobArn": f"{arn}:automl-job/mlstest-run-2-apl",
                        "AutoMLJobStatus": "InProgress",
                        "AutoMLJobSecondaryStatus": "Starting",
                        "LastModifiedTime": "2026-11-22T05:00:00Z",
                        **created,
                    }
                ]
            },
            {"NameContains": "mlstest-", "StatusEquals": "InProgress"},
        )
        stub.add_response(
            "list_tags",
            {"Tags": tags("MlStack-other")},
            {"ResourceArn": f"{arn}:automl-job/mlstest-run-2-apl"},
        )
        stub.add_response(
            "list_training_jobs",
            {"TrainingJobSummaries": []},
            {"NameContains": "mlstest-", "StatusEquals": "InProgress"},
        )
        for operation, key in (
            ("list_endpoints", "Endpoints"),
            ("list_endpoint_configs", "EndpointConfigs"),
            ("list_models", "Models"),
        ):
            stub.add_response(operation, {key: []}, {"NameContains": "mlstest-"})
        report = destroy(
            Services(sm, clients.stepfunctions(), clients.s3(), clients.cloudformation()),
            target,
            remaining=lambda: 600.0,
            wait=WaitBudget(seconds=0.0),
        )
        stub.assert_no_pending_responses()
    assert report.outcome.stopped == ["tuning-job:mlstest-run-1-hpo"]


def test_out_of_time_skips_and_says_so(aws):
    versioned_buckets()
    target = parse_request(request("https://example.invalid/x")).target
    report = destroy(services(), target, remaining=lambda: 0.0, wait=WaitBudget(seconds=0.0))
    assert all("out of time" in failure for failure in report.failures)
    assert len(clients.s3().list_object_versions(Bucket=DATA_BUCKET)["Versions"]) == 4


def test_the_body_stays_under_cloudformations_limit():
    envelope = parse_request(request("https://example.invalid/x")).envelope
    failures = " | ".join(f"endpoint:mlstest-{i}: ValidationException: " + "x" * 200 for i in range(100))
    body = response_body(envelope, "SUCCESS", "teardown: " + failures, "id", {"Failures": failures})
    assert len(body) <= MAX_BODY_BYTES
    assert json.loads(body)["Reason"].endswith("...")


def test_send_retries_server_errors_then_succeeds():
    calls: list[Any] = []

    class Answer:
        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *args: Any) -> None:
            pass

        def read(self) -> bytes:
            return b""

    def opener(req: Any, timeout: float) -> Answer:
        calls.append(req)
        if len(calls) < 3:
            raise urllib.error.HTTPError(req.full_url, 503, "Slow Down", {}, None)  # type: ignore[arg-type]
        return Answer()

    send(
        "https://bucket.s3.amazonaws.com/x?X-Amz-Signature=a%2Fb", b"{}", opener=opener, sleep=lambda s: None
    )
    assert len(calls) == 3
    assert calls[0].full_url == "https://bucket.s3.amazonaws.com/x?X-Amz-Signature=a%2Fb"
    assert calls[0].get_method() == "PUT"


class StoppingJobs:
    """Just enough of SageMaker for teardown: one AutoML job of the stack, its status moved on by `tick`."""

    KEYS: ClassVar[dict[str, str]] = {
        "list_hyper_parameter_tuning_jobs": "HyperParameterTuningJobSummaries",
        "list_auto_ml_jobs": "AutoMLJobSummaries",
        "list_training_jobs": "TrainingJobSummaries",
        "list_endpoints": "Endpoints",
        "list_endpoint_configs": "EndpointConfigs",
        "list_models": "Models",
    }
    NAME = "mlstest-run-1-apl"

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
        self.seen: list[str] = []

    @property
    def status(self) -> str:
        return self.statuses[0]

    def tick(self, _seconds: float) -> None:
        # Teardown sleeps while the job is still stopping: the bucket must not have been emptied yet.
        assert clients.s3().list_object_versions(Bucket=DATA_BUCKET).get("Versions"), "emptied too early"
        if len(self.statuses) > 1:
            self.statuses.pop(0)

    def get_paginator(self, operation: str) -> Any:
        def paginate(**params: Any) -> Iterator[dict[str, Any]]:
            if operation == "list_tags":
                yield {"Tags": tags()}
                return
            items = []
            if operation == "list_auto_ml_jobs" and params.get("StatusEquals") == self.status:
                self.seen.append(self.status)
                arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:automl-job/{self.NAME}"
                items = [{"AutoMLJobName": self.NAME, "AutoMLJobArn": arn, "AutoMLJobStatus": self.status}]
            yield {self.KEYS[operation]: items}

        return SimpleNamespace(paginate=paginate)


def teardown_with(sm: StoppingJobs, remaining: Any) -> tuple[str, str, dict[str, str]]:
    aws_services = Services(sm, clients.stepfunctions(), clients.s3(), clients.cloudformation())  # type: ignore[arg-type]
    wait = WaitBudget(seconds=0.0, first_interval=1.0, sleep=sm.tick)
    return handle(parse_request(request("https://example.invalid/x")), aws_services, remaining, wait)


def test_buckets_are_emptied_only_once_every_stopped_job_has_ended(aws):
    # Given a job of the stack that is still Stopping (on AWS it may still write its output)
    versioned_buckets()
    sm = StoppingJobs(["Stopping", "Stopping", "Stopped"])

    # When the stack is deleted
    status, reason, _ = teardown_with(sm, lambda: 600.0)

    # Then teardown waited for it to end before emptying the buckets, and answered SUCCESS
    assert status == "SUCCESS", reason
    assert sm.seen == ["Stopping", "Stopping"]
    assert "Versions" not in clients.s3().list_object_versions(Bucket=DATA_BUCKET)


def test_a_job_that_never_ends_fails_the_delete_so_a_second_destroy_runs_teardown_again(aws):
    # Given a job that stays Stopping past the teardown's time
    versioned_buckets()
    sm = StoppingJobs(["Stopping"])
    budget = iter([600.0] * 12 + [0.0] * 100)

    # When the stack is deleted
    status, reason, _ = teardown_with(sm, lambda: next(budget))

    # Then the answer is FAILED, naming the job and what to do: CloudFormation keeps the teardown,
    # and the next cdk destroy runs it again
    assert status == "FAILED"
    assert f"jobs still stopping: automl-job:{sm.NAME}" in reason
    assert "run cdk destroy again" in reason


def test_a_bucket_left_with_objects_fails_the_delete(aws, monkeypatch):
    # Given S3 refuses to delete the data bucket's objects
    versioned_buckets()
    real = destroy_module.empty_bucket

    def refusing(s3: Any, bucket: str, has_time: Any) -> int:
        if bucket == DATA_BUCKET:
            raise RuntimeError(f"bucket {bucket}: 4 version(s) not deleted (AccessDenied)")
        return real(s3, bucket, has_time)

    monkeypatch.setattr(destroy_module, "empty_bucket", refusing)

    # When the stack is deleted
    status, reason, _ = teardown_with(StoppingJobs(["Stopped"]), lambda: 600.0)

    # Then the delete fails naming the bucket, rather than CloudFormation failing on it with no teardown left
    assert status == "FAILED"
    assert f"bucket:{DATA_BUCKET} is not empty" in reason and "run cdk destroy again" in reason
