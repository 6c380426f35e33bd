"""Executions that outlive the state machine's timeout end TIMED_OUT; the event rule cleans up after them.

A second copy of the local stage, whose executions time out after one minute, is deployed beside the
session's stack (the state machine's timeout is fixed at deploy time, not per execution).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.conftest import (
    CDK,
    DATASET_ROWS,
    Deployment,
    cdk_env,
    describe,
    execution_name,
    find_leftovers,
    read_report,
    stage_variant,
    wait_no_leftovers,
    wait_status,
)
from tests.e2e.test_faults import FAST_DATASET, NOTHING, SMALL, endpoint_status, wait_for
from training.prepare_data import prepare

pytestmark = pytest.mark.e2e
TIMEOUT_MINUTES = 1
SHORT_STAGE = {
    "stack_name": "MlStack-timeout",
    "name_prefix": "mlstmo",
    "execution_timeout_minutes": TIMEOUT_MINUTES,
}


@pytest.fixture(scope="module")
def short_stack(
    local_aws: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The local stage with a one-minute execution timeout, deployed as its own stack; destroyed after."""
    if not CDK.exists():
        pytest.skip("the CDK CLI is not installed (npm ci)")
    deployed = Deployment(
        env=cdk_env(local_aws),
        out_dir=tmp_path_factory.mktemp("timeout-cdk"),
        stack_name=SHORT_STAGE["stack_name"],
        project_dir=stage_variant(tmp_path_factory.mktemp("timeout-project"), **SHORT_STAGE),
    )
    deployed.deploy()
    yield deployed.outputs
    result = deployed.destroy()
    assert result.returncode == 0, f"cdk destroy failed:\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"


@pytest.fixture
def notices(short_stack: dict[str, str], aws: Callable[[str], Any]) -> Callable[[], list[dict[str, Any]]]:
    """`notices()`: what the stack's topic published, read through a subscribed queue."""
    sns, sqs = aws("sns"), aws("sqs")
    queue = sqs.create_queue(QueueName="timeout-notices")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=short_stack["TopicArn"],
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )

    seen: list[dict[str, Any]] = []

    def received() -> list[dict[str, Any]]:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return list(seen)

    return received


def test_runs_that_outlive_the_timeout_end_timed_out_and_leave_nothing(
    short_stack, aws, faults, notices, tmp_path
):
    sm, sfn, s3 = aws("sagemaker"), aws("stepfunctions"), aws("s3")
    prefix = short_stack["NamePrefix"]
    dataset = f"s3://{short_stack['DataBucketName']}/datasets/{FAST_DATASET}/"
    prepare(FAST_DATASET, tmp_path, rows=DATASET_ROWS[FAST_DATASET], upload=dataset, s3_client=s3)
    # Given endpoints that take longer to come up than an execution may last
    faults.add(delay_endpoint_s=TIMEOUT_MINUTES * 60)

    # When one run is still tuning (a budget far beyond the timeout) and another is creating its endpoint
    def start(payload: dict[str, Any]) -> str:
        arn: str = sfn.start_execution(
            stateMachineArn=short_stack["StateMachineArn"],
            name=execution_name("timeout"),
            input=json.dumps(payload),
        )["executionArn"]
        return arn

    tuning = start({"dataset": dataset, **SMALL, "tuning_max_jobs": 750, "tuning_max_parallel_jobs": 1})
    serving = start({"dataset": dataset, **SMALL})
    wait_for(lambda: endpoint_status(sm, prefix) == "Creating", timeout=TIMEOUT_MINUTES * 60)

    # Then both end TIMED_OUT, without reaching a Cleanup state of their own
    for arn in (tuning, serving):
        assert wait_status(sfn, arn, timeout=TIMEOUT_MINUTES * 60 + 60) == "TIMED_OUT"
        assert not {"Cleanup", "CleanupAfterFailure"} & set(describe(sfn, arn).entered())

    # And the event rule's cleanup deleted the endpoint, its config and models, and stopped the tuning job
    assert wait_no_leftovers(lambda: find_leftovers(sm, prefix)) == NOTHING
    tuning_runs, serving_runs = describe(sfn, tuning), describe(sfn, serving)
    status = sm.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_runs.state_output("ValidateInput")["run"]["names"]["tuning_job"]
    )["HyperParameterTuningJobStatus"]
    assert status in ("Stopping", "Stopped"), status

    # And each run's leaderboard was saved before anything was deleted
    for execution, needs_candidates in ((tuning_runs, False), (serving_runs, True)):
        files = read_report(s3, short_stack["ArtifactsBucketName"], str(execution.run_id))
        board = json.loads(files["leaderboard.json"])
        assert board["tuning"]["trials"], board
        assert bool(board["autopilot"]["candidates"]) or not needs_candidates, board

    # And the topic said each run timed out and was cleaned; no cleanup event went to the dead-letter queue
    said = wait_for(lambda: len(notices()) >= 2, timeout=30) and notices()
    assert {(n["event"], n["execution"]) for n in said} == {
        ("timed-out-and-cleaned", tuning_runs.name),
        ("timed-out-and-cleaned", serving_runs.name),
    }
    dead = aws("sqs").get_queue_attributes(
        QueueUrl=short_stack["DeadLetterQueueUrl"], AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert dead["Attributes"]["ApproximateNumberOfMessages"] == "0"
