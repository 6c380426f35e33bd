"""Fault injection: each failure ends the run cleanly, says what happened and leaves nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from contracts.dataset_layout import CHANNELS
from tests.e2e.conftest import describe, wait_no_leftovers, wait_status

pytestmark = pytest.mark.e2e

NOTHING = {"endpoints": [], "endpoint_configs": [], "models": []}
# Fault runs only need to reach their fault: the smallest budgets on the binary dataset the success
# tests prepare anyway (the bundled breast_cancer is below Autopilot's 500-row minimum).
SMALL = {"tuning_max_jobs": 2, "tuning_max_parallel_jobs": 2, "autopilot_max_candidates": 1}
FAST_DATASET = "bank"


def small(dataset: Any, **extra: Any) -> dict[str, Any]:
    return {"dataset": dataset(FAST_DATASET), **SMALL, **extra}


def assert_failed_with(execution: Any, error: str, *cause_parts: str) -> None:
    assert execution.status == "FAILED", (execution.status, execution.output)
    assert execution.error == error, (execution.error, execution.cause)
    for part in cause_parts:
        assert part in (execution.cause or ""), (part, execution.cause)


# --- bad input: fails in ValidateInput, before anything exists -------------------------------------


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"tuning_max_job": 4}, "unknown keys tuning_max_job"),
        ({"tuning_max_jobs": 0}, "tuning_max_jobs: expected an integer from 1 to 750, got 0"),
        ({"tuning_max_jobs": "4"}, "tuning_max_jobs: expected an integer"),
        ({"keep_endpoint": "yes"}, "keep_endpoint: expected true or false"),
        ({"tuning_strategy": "Genetic"}, "tuning_strategy: expected one of"),
        ({"tuning_max_jobs": 2, "tuning_max_parallel_jobs": 3}, "more than tuning_max_jobs"),
    ],
    ids=["unknown-key", "zero-budget", "budget-as-string", "flag-as-string", "bad-strategy", "parallel>jobs"],
)
def test_malformed_input_fails_in_validation_with_what_to_fix(extra, says, run, dataset, leftovers):
    # Given a valid dataset and one malformed field
    payload = {"dataset": dataset(FAST_DATASET), **extra}

    # When the run starts
    execution = run(payload)

    # Then it fails in ValidateInput with InvalidInput naming the field, and nothing was created
    assert_failed_with(execution, "InvalidInput", says)
    assert "CheckQuotas" not in execution.entered()
    assert leftovers() == NOTHING


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"tuning_max_jobs": 2}, "dataset: missing"),
        (None, "input: expected a JSON object"),
        (["s3://bucket/datasets/bank/"], "input: expected a JSON object"),
        ("s3://bucket/datasets/bank/", "input: expected a JSON object"),
    ],
    ids=["no-dataset", "null", "array", "string"],
)
def test_input_that_is_not_an_object_or_lacks_the_dataset_is_rejected(given, says, run, leftovers):
    # Given an input that is not an object, or has no dataset
    # When the run starts
    execution = run(given)

    # Then it fails with InvalidInput explaining what to give, through Cleanup and NotifyFailure
    assert_failed_with(execution, "InvalidInput", says)
    assert {"CleanupAfterFailure", "NotifyFailure"} <= set(execution.entered())
    assert leftovers() == NOTHING


@pytest.fixture(scope="module")
def channel_missing(dataset, stack, aws) -> str:
    """A copy of the prepared dataset without its train/ channel."""
    source = dataset(FAST_DATASET)
    s3, bucket = aws("s3"), stack["DataBucketName"]
    source_prefix = source.split(f"s3://{bucket}/", 1)[1]
    target_prefix = "datasets/no-train-channel/"
    for item in s3.list_objects_v2(Bucket=bucket, Prefix=source_prefix)["Contents"]:
        relative = item["Key"][len(source_prefix) :]
        if not relative.startswith(CHANNELS["train"]):
            s3.copy_object(
                Bucket=bucket, Key=target_prefix + relative, CopySource={"Bucket": bucket, "Key": item["Key"]}
            )
    return f"s3://{bucket}/{target_prefix}"


@pytest.mark.parametrize("case", ["outside-bucket", "missing-prefix", "empty-channel"])
def test_a_dataset_that_is_not_a_usable_prefix_of_the_data_bucket_is_rejected(
    case, run, stack, channel_missing, leftovers
):
    # Given a dataset URI that is outside the bucket, absent, or lacks a channel
    bucket = stack["DataBucketName"]
    uri, says = {
        "outside-bucket": ("s3://someone-elses-bucket/datasets/bank/", "outside the data bucket"),
        "missing-prefix": (f"s3://{bucket}/datasets/never-uploaded/", "no manifest.json"),
        "empty-channel": (channel_missing, "channel 'train'"),
    }[case]

    # When the run starts
    execution = run({"dataset": uri, **SMALL})

    # Then it fails with InvalidInput saying what is wrong with the dataset, and nothing was created
    assert_failed_with(execution, "InvalidInput", says)
    assert leftovers() == NOTHING


# --- one candidate fails: the other still wins ------------------------------------------------------


@pytest.mark.parametrize(("broken", "survivor"), [("tuning", "Autopilot"), ("automl", "Tuning")])
def test_when_one_training_path_fails_the_other_wins_alone(broken, survivor, faults, run, dataset, report):
    # Given the tuning (or AutoML) job fails
    faults.add(fail=broken, reason=f"Injected: the {broken} job ran out of luck.")

    # When a run starts
    execution = run(small(dataset))

    # Then it succeeds with the other candidate as the only variant and winner
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    evaluation = execution.output["evaluation"]
    assert list(evaluation["metrics"]) == [survivor]
    assert evaluation["winner"] == survivor
    assert evaluation["metrics"][survivor]["auc"] > 0.75  # the success tests' floor for bank

    # And the report says the failed path failed and why
    failed_branch = "TuningFailed" if broken == "tuning" else "AutopilotFailed"
    assert execution.state_output(failed_branch) is not None
    assert "ran out of luck" in json.dumps(execution.state_output(failed_branch))
    assert {"evaluation.json", "leaderboard.json", "report.html"} <= set(report(execution.output["run_id"]))


def test_when_both_training_paths_fail_the_run_fails_with_no_finalist(faults, run, dataset, leftovers):
    # Given both the tuning and the AutoML job fail
    faults.add(fail="tuning", reason="Injected tuning failure.")
    faults.add(fail="automl", reason="Injected AutoML failure.")

    # When a run starts
    execution = run(small(dataset))

    # Then it fails with NoFinalist, giving both reasons; cleanup ran and nothing is left
    assert_failed_with(execution, "NoFinalist", "Injected tuning failure", "Injected AutoML failure")
    assert "CleanupAfterFailure" in execution.entered()
    assert "CreateEndpoint" not in execution.entered()
    assert leftovers() == NOTHING


# --- deployment and evaluation failures -------------------------------------------------------------


def test_a_failed_endpoint_fails_the_run_after_cleanup(faults, run, dataset, report, leftovers):
    # Given endpoint creation fails
    faults.add(fail="endpoint", reason="Injected: the model container did not pass the ping health check.")

    # When a run starts
    execution = run(small(dataset))

    # Then it fails with EndpointCreationFailed and SageMaker's reason; cleanup removed the models and config
    assert_failed_with(execution, "EndpointCreationFailed", "did not pass the ping health check")
    assert "CleanupAfterFailure" in execution.entered()
    cleanup = execution.state_output("CleanupAfterFailure")["cleanup"]
    assert cleanup["deleted"], cleanup
    assert leftovers() == NOTHING
    # And the run's results are kept as far as it got: the leaderboard of both jobs, but no evaluation
    files = report(execution.run_id)
    assert set(files) == {"leaderboard.json"}, set(files)
    board = json.loads(files["leaderboard.json"])
    assert board["tuning"]["trials"] and board["autopilot"]["candidates"]


def test_when_no_variant_can_be_scored_evaluation_fails_and_keeps_its_report(
    faults, run, dataset, report, leftovers
):
    # Given every InvokeEndpoint call fails with a ModelError (a model failing at inference)
    faults.add(fail="invocation", reason="Injected: the model crashed while predicting.")

    # When a run starts
    execution = run(small(dataset))

    # Then Evaluate raises EvaluationFailed naming the variants' errors, cleanup ran, nothing is left
    assert_failed_with(
        execution, "EvaluationFailed", "no variant could be evaluated", "crashed while predicting"
    )
    assert "CleanupAfterFailure" in execution.entered()
    assert leftovers() == NOTHING
    # And the report written before the failure is kept
    files = report(execution.run_id)
    assert {"evaluation.json", "leaderboard.json", "report.html"} <= set(files)
    assert json.loads(files["evaluation.json"])["winner"] is None


def test_a_throttled_create_endpoint_is_tried_again_and_the_run_succeeds(faults, run, dataset, local_aws):
    # Given CreateEndpoint is throttled twice
    faults.add(throttle="CreateEndpoint", count=2)

    # When a run starts
    execution = run(small(dataset))

    # Then the run succeeds: the throttle's Cause led to CreateEndpointAgain, whose retry met the second
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert faults.active()["errors"] == {"CreateEndpoint": {"code": "ThrottlingException", "count": 0}}
    assert "CreateEndpointAgain" in execution.entered()
    throttled = [e for e in execution.events if "Rate exceeded" in json.dumps(e, default=str)]
    assert len(throttled) >= 2, "the throttled attempts are not in the history"


@pytest.mark.parametrize(
    ("code", "action", "error"),
    [
        ("ValidationException", "CreateEndpointConfig", "SageMaker.SageMakerException"),
        ("AccessDeniedException", "CreateEndpoint", "SageMaker.SageMakerException"),
        ("ResourceLimitExceeded", "CreateEndpoint", "SageMaker.ResourceLimitExceededException"),
        ("ResourceInUse", "CreateEndpointConfig", "SageMaker.ResourceInUseException"),
    ],
    ids=["validation", "access-denied", "quota", "name-in-use"],
)
def test_a_permanent_error_is_never_tried_again(code, action, error, faults, run, dataset, leftovers):
    # Given the action answers a permanent error three times (a retry would consume a second one)
    faults.add(error=code, action=action, count=3)

    # When a run starts
    execution = run(small(dataset))

    # Then it fails at once with AWS's name for that error, after one attempt, and leaves nothing behind
    assert_failed_with(execution, error, "injected by a test")
    assert faults.active()["errors"][action] == {"code": code, "count": 2}
    assert f"{action}Again" not in execution.entered()
    assert leftovers() == NOTHING


def test_a_quota_too_low_fails_fast_naming_the_quota(faults, run, dataset, leftovers):
    # Given the applied quota of training instances is 1 while tuning runs 2 jobs at once
    quota = "ml.m5.xlarge for training job usage"
    faults.set_quota(quota, 1)

    # When a run starts
    execution = run(small(dataset))

    # Then it fails in CheckQuotas with QuotaExceeded: the quota, needed vs applied, how to raise it
    assert_failed_with(execution, "QuotaExceeded", quota, "needed 2", "applied 1", "request an increase")
    assert "TrainCandidates" not in execution.entered()
    assert leftovers() == NOTHING


# --- executions that end without their Catch: aborted ----------------------------------------------


def wait_for(predicate: Any, timeout: float = 180.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def endpoint_status(sm: Any, prefix: str) -> str | None:
    endpoints = sm.list_endpoints(NameContains=prefix)["Endpoints"]
    return endpoints[0]["EndpointStatus"] if endpoints else None


@pytest.mark.parametrize("when", ["Creating", "InService"])
def test_an_aborted_run_is_cleaned_up_by_the_event_rule(
    when, faults, start, dataset, stack, aws, leftovers, report
):
    # Given a run whose endpoint stays Creating for a while (or has just become InService)
    sm, sfn = aws("sagemaker"), aws("stepfunctions")
    if when == "Creating":
        faults.add(delay_endpoint_s=6)
    arn = start(small(dataset))
    wait_for(lambda: endpoint_status(sm, stack["NamePrefix"]) == when)

    # When the execution is stopped at that moment
    sfn.stop_execution(executionArn=arn, error="UserAbort", cause="stopped by the e2e test")

    # Then it ends ABORTED (not after its own Cleanup), and the EventBridge rule's cleanup removes everything
    assert wait_status(sfn, arn, timeout=30) == "ABORTED"
    aborted = describe(sfn, arn)
    assert "Cleanup" not in aborted.entered()
    assert wait_no_leftovers(leftovers) == NOTHING
    # And it saved, first, the leaderboard of both finished jobs
    board = json.loads(report(aborted.run_id)["leaderboard.json"])
    assert board["tuning"]["trials"] and board["autopilot"]["candidates"], board
