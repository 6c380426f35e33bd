"""Cleanup: stop jobs, delete endpoint → config → models by the execution's names; idempotent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from contracts.names import run_names
from handlers.cleanup.handler import clean_up, lambda_handler, wait_budget
from handlers.cleanup.request import parse_request, state_machine_of
from handlers.common import clients
from handlers.common.errors import STACK_DELETED, EndpointNotDeletable
from handlers.common.stack_resources import WaitBudget
from tests.handlers.conftest import ACCOUNT, ARTIFACTS_BUCKET, REGION, STATE_MACHINE, script_wire, throttling
from tests.handlers.runs import EXECUTION, NAMES, make_run

EXECUTION_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:MlStack-test-Pipeline:{EXECUTION}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlstack-sagemaker"


def machine_event(reason: str = "failed", state: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "state": state if state is not None else {"run": make_run()},
        "execution": {"name": EXECUTION, "id": EXECUTION_ARN, "state_machine": STATE_MACHINE},
        "reason": reason,
    }


def eventbridge_event(status: str = "ABORTED", error: str | None = None) -> dict[str, Any]:
    return {
        "version": "0",
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "region": REGION,
        "detail": {
            "executionArn": EXECUTION_ARN,
            "stateMachineArn": STATE_MACHINE,
            "name": EXECUTION,
            "status": status,
            "startDate": 1763787600000,
            "error": error,
        },
    }


def deploy_in_moto() -> None:
    """The run's two models, its endpoint config and endpoint, as the Deploy states create them."""
    sm = clients.sagemaker()
    for model in (NAMES.tuning_model, NAMES.autopilot_model):
        sm.create_model(
            ModelName=model,
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": "i", "ModelDataUrl": "s3://b/k"},
        )
    sm.create_endpoint_config(
        EndpointConfigName=NAMES.endpoint_config,
        ProductionVariants=[
            {"VariantName": v, "ModelName": m, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
            for v, m in (("Tuning", NAMES.tuning_model), ("Autopilot", NAMES.autopilot_model))
        ],
    )
    sm.create_endpoint(EndpointName=NAMES.endpoint, EndpointConfigName=NAMES.endpoint_config)


def serving() -> list[str]:
    return [
        f"endpoint:{NAMES.endpoint}",
        f"endpoint-config:{NAMES.endpoint_config}",
        f"model:{NAMES.tuning_model}",
        f"model:{NAMES.autopilot_model}",
    ]


def test_deletes_everything_and_a_second_run_finds_nothing(aws, context):
    # Given the run's endpoint, config and models exist
    deploy_in_moto()
    # When cleanup runs after a failure
    first = lambda_handler(machine_event("failed"), context)
    # Then all four are deleted in order; the (never created) jobs are simply not found
    assert first["deleted"] == serving()
    assert first["not_found"] == [f"tuning-job:{NAMES.tuning_job}", f"automl-job:{NAMES.automl_job}"]
    assert first["kept"] == [] and first["stopped"] == []
    sm = clients.sagemaker()
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_models()["Models"] == []
    # When it runs again (the EventBridge path after the state machine's own Cleanup)
    second = lambda_handler(eventbridge_event("FAILED"), context)
    # Then nothing is left to delete, and not-found is success
    assert second["deleted"] == []
    assert second["not_found"] == [
        f"tuning-job:{NAMES.tuning_job}",
        f"automl-job:{NAMES.automl_job}",
        *serving(),
    ]


def test_names_come_from_the_execution_not_from_the_state(aws, context):
    # Given a state whose run carries other names (e.g. validation never ran, or the state was altered)
    deploy_in_moto()
    state = {"run": make_run(names={k: "someone-else" for k in NAMES.as_dict()})}
    # When cleanup runs
    result = lambda_handler(machine_event("failed", state), context)
    # Then it deletes this execution's resources, by the names run_names derives
    assert result["deleted"] == serving()


def test_validation_failure_state_without_run_still_cleans_up(aws, context):
    deploy_in_moto()
    result = lambda_handler(machine_event("failed", state={"error": {"Error": "InvalidInput"}}), context)
    assert result["deleted"] == serving()


def test_keep_endpoint_keeps_serving_resources_on_success(context):
    # Given a completed run that asked to keep its endpoint
    run = make_run(endpoint={"instance_type": "ml.m5.large", "keep": True, "expires": "2026-11-22T09:00:00Z"})
    sm = clients.sagemaker()
    with Stubber(sm) as stub:
        _expect_describes(stub, automl="Completed")
        # When cleanup runs
        result = lambda_handler(machine_event("completed", {"run": run}), context)
        # Then nothing is deleted (the stub would reject any Delete call) and the result says so
        stub.assert_no_pending_responses()
    assert result["kept"] == serving()
    assert result["deleted"] == [] and result["stopped"] == []
    assert "mlstack:expires" in result["notes"][0]


def test_keep_endpoint_is_ignored_when_the_run_failed(aws, context):
    deploy_in_moto()
    run = make_run(endpoint={"instance_type": "ml.m5.large", "keep": True, "expires": "2026-11-22T09:00:00Z"})
    result = lambda_handler(machine_event("failed", {"run": run}), context)
    assert result["deleted"] == serving() and result["kept"] == []


def test_abort_event_saves_the_leaderboard_stops_running_jobs_and_deletes(s3, context):
    # Given an aborted execution whose tuning and AutoML jobs still run and whose endpoint is up
    sm = clients.sagemaker()
    with Stubber(sm) as stub:
        # (the event carries no state: the objectives are read back from the jobs)
        _expect_describes(stub, tuning="InProgress", automl="InProgress")
        stub.add_response(  # the leaderboard reads the tuning job's settings and why it ended
            "describe_hyper_parameter_tuning_job",
            _tuning_description("InProgress"),
            {"HyperParameterTuningJobName": NAMES.tuning_job},
        )
        stub.add_response(
            "list_training_jobs_for_hyper_parameter_tuning_job",
            {"TrainingJobSummaries": [_trial(f"{NAMES.tuning_job}-001", 0.91)]},
        )
        stub.add_response("list_candidates_for_auto_ml_job", {"Candidates": []})
        stub.add_response(
            "describe_hyper_parameter_tuning_job",
            _tuning_description("InProgress"),
            {"HyperParameterTuningJobName": NAMES.tuning_job},
        )
        stub.add_response(
            "stop_hyper_parameter_tuning_job", {}, {"HyperParameterTuningJobName": NAMES.tuning_job}
        )
        stub.add_response(
            "describe_auto_ml_job_v2", _automl_description("InProgress"), {"AutoMLJobName": NAMES.automl_job}
        )
        stub.add_response("stop_auto_ml_job", {}, {"AutoMLJobName": NAMES.automl_job})
        _expect_deletes(stub, ["InService"])
        # When EventBridge delivers the status change
        result = lambda_handler(eventbridge_event("ABORTED"), context)
        stub.assert_no_pending_responses()
    # Then the leaderboard was saved first, both jobs were stopped and everything deleted
    assert result["notes"][0].startswith("saved s3://"), result["notes"]
    board = json.loads(
        s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=f"reports/{NAMES.run_id}/leaderboard.json")["Body"].read()
    )
    assert board["tuning"]["objective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    assert board["tuning"]["best"] == f"{NAMES.tuning_job}-001"
    assert (board["tuning"]["strategy"], board["tuning"]["ended"]) == ("Bayesian", None)  # it was running
    assert board["autopilot"]["objective"] == {"MetricName": "AUC"}
    assert result["stopped"] == [f"tuning-job:{NAMES.tuning_job}", f"automl-job:{NAMES.automl_job}"]
    assert result["deleted"] == serving()


def test_creating_endpoint_is_waited_for_then_deleted():
    # Given an endpoint still Creating for two polls
    sm = clients.sagemaker()
    clock = FakeClock()
    with Stubber(sm) as stub:
        _expect_describes(stub)
        _expect_deletes(stub, ["Creating", "Creating", "InService"])
        # When it is torn down with a 10-minute budget
        out = clean_up(sm, NAMES, keep_endpoint=False, budget=clock.budget(600))
        stub.assert_no_pending_responses()
    # Then cleanup waited, polling more slowly each time, and deleted in order
    assert clock.sleeps == [2.0, 4.0]
    assert out.deleted == serving()


def test_delete_refused_as_in_progress_is_retried():
    # Given the endpoint starts an update between describe and delete
    sm = clients.sagemaker()
    clock = FakeClock()
    with Stubber(sm) as stub:
        _expect_describes(stub)
        stub.add_response("describe_endpoint", _endpoint("InService"), {"EndpointName": NAMES.endpoint})
        stub.add_client_error(
            "delete_endpoint",
            "ValidationException",
            f'Cannot delete in-progress endpoint "{NAMES.endpoint}".',
        )
        _expect_deletes(stub, ["InService"])
        out = clean_up(sm, NAMES, keep_endpoint=False, budget=clock.budget(600))
        stub.assert_no_pending_responses()
    assert clock.sleeps == [2.0]
    assert out.deleted == serving()


def test_endpoint_busy_beyond_the_budget_raises_and_keeps_the_rest():
    # Given an endpoint that stays Updating
    sm = clients.sagemaker()
    clock = FakeClock()
    with Stubber(sm) as stub:
        _expect_describes(stub)
        for _ in range(6):  # at 0, 2, 6, 14, 29 and 30 s
            stub.add_response("describe_endpoint", _endpoint("Updating"), {"EndpointName": NAMES.endpoint})
        # When the 30 s budget runs out, Then EndpointNotDeletable; config and models
        # stay for the retry (the stub has no Delete* responses: any such call would fail the test)
        with pytest.raises(EndpointNotDeletable, match=f"endpoint {NAMES.endpoint} is still Updating"):
            clean_up(sm, NAMES, keep_endpoint=False, budget=clock.budget(30))
        stub.assert_no_pending_responses()
    assert clock.sleeps == [2.0, 4.0, 8.0, 15.0, 1.0]


def test_throttled_describe_is_retried(aws, context):
    deploy_in_moto()
    script = script_wire(clients.sagemaker(), "DescribeEndpoint", [throttling(), throttling()])
    result = lambda_handler(machine_event("failed"), context)
    assert script.sent == 3
    assert result["deleted"] == serving()


def test_succeeded_event_is_left_to_the_state_machine(context):
    with Stubber(clients.sagemaker()):  # no responses: any SageMaker call would fail the test
        result = lambda_handler(eventbridge_event("SUCCEEDED"), context)
    assert result["deleted"] == [] and "succeeded" in result["notes"][0]


def test_invalid_names_mean_nothing_was_created(context, monkeypatch):
    monkeypatch.setenv("NAME_PREFIX", "a-very-long-stack-name-prefix")
    from handlers.common.settings import settings

    settings.cache_clear()
    with Stubber(clients.sagemaker()):
        result = lambda_handler(machine_event("failed"), context)
    assert result["deleted"] == [] and "nothing was created" in result["notes"][0]


def test_request_shapes():
    from_machine = parse_request(machine_event("completed"))
    assert (from_machine.execution_name, from_machine.state_machine_arn, from_machine.reason) == (
        EXECUTION,
        STATE_MACHINE,
        "completed",
    )
    without_machine = machine_event()
    del without_machine["execution"]["state_machine"]
    assert parse_request(without_machine).state_machine_arn == STATE_MACHINE
    assert state_machine_of(EXECUTION_ARN) == STATE_MACHINE
    aborted = parse_request(eventbridge_event("TIMED_OUT"))
    assert (aborted.reason, aborted.keep_endpoint, aborted.skip) == ("timed_out", False, None)
    assert run_names("mlstest", aborted.state_machine_arn, aborted.execution_name) == NAMES


def test_wait_budget_stays_inside_the_function_timeout():
    assert wait_budget(900_000).seconds == 600
    assert wait_budget(120_000).seconds == 90
    assert wait_budget(10_000).seconds == 0


class FakeClock:
    """A clock that advances only when cleanup sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def budget(self, seconds: float) -> WaitBudget:
        return WaitBudget(seconds=seconds, sleep=self.sleep, clock=lambda: self.now)


def _tuning_description(status: str) -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName": NAMES.tuning_job,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:hyper-parameter-tuning-job/x",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxParallelTrainingJobs": 2},
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
        },
        "HyperParameterTuningJobStatus": status,
        "CreationTime": "2026-11-22T05:00:00Z",
        "TrainingJobStatusCounters": {},
        "ObjectiveStatusCounters": {},
    }


def _automl_description(status: str) -> dict[str, Any]:
    return {
        "AutoMLJobName": NAMES.automl_job,
        "AutoMLJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:automl-job/x",
        "AutoMLJobInputDataConfig": [
            {
                "ChannelType": "training",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/"}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://b/out/"},
        "RoleArn": ROLE,
        "CreationTime": "2026-11-22T05:00:00Z",
        "LastModifiedTime": "2026-11-22T05:00:00Z",
        "AutoMLJobStatus": status,
        "AutoMLJobSecondaryStatus": "Starting",
        "AutoMLJobObjective": {"MetricName": "AUC"},
    }


def _endpoint(status: str) -> dict[str, Any]:
    return {
        "EndpointName": NAMES.endpoint,
        "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{NAMES.endpoint}",
        "EndpointStatus": status,
        "CreationTime": "2026-11-22T05:00:00Z",
        "LastModifiedTime": "2026-11-22T05:00:00Z",
    }


def _expect_describes(stub: Stubber, tuning: str = "Completed", automl: str = "Failed") -> None:
    """The tuning job's, then the AutoML job's description, in these states."""
    stub.add_response(
        "describe_hyper_parameter_tuning_job",
        _tuning_description(tuning),
        {"HyperParameterTuningJobName": NAMES.tuning_job},
    )
    stub.add_response(
        "describe_auto_ml_job_v2", _automl_description(automl), {"AutoMLJobName": NAMES.automl_job}
    )


def _expect_deletes(stub: Stubber, statuses: list[str]) -> None:
    for status in statuses:
        stub.add_response("describe_endpoint", _endpoint(status), {"EndpointName": NAMES.endpoint})
    stub.add_response("delete_endpoint", {}, {"EndpointName": NAMES.endpoint})
    stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": NAMES.endpoint_config})
    stub.add_response("delete_model", {}, {"ModelName": NAMES.tuning_model})
    stub.add_response("delete_model", {}, {"ModelName": NAMES.autopilot_model})


# --- notices for unclean ends, results saved before deletion ---------------------------------------


@pytest.fixture
def topic_queue(aws, monkeypatch):
    """The stack's topic (TOPIC_ARN) with a queue subscribed, to read what cleanup published."""
    import boto3

    from handlers.common.settings import settings

    topic = clients.sns().create_topic(Name="runs")["TopicArn"]
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="notices")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    clients.sns().subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    monkeypatch.setenv("TOPIC_ARN", topic)
    settings.cache_clear()

    def received() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return received


def test_aborted_run_is_cleaned_and_announced(topic_queue, context):
    # Given an aborted execution whose endpoint is up
    deploy_in_moto()
    # When EventBridge delivers the status change
    result = lambda_handler(eventbridge_event("ABORTED"), context)
    # Then the topic hears what was deleted
    (notice,) = topic_queue()
    assert notice["event"] == "aborted-and-cleaned"
    assert (
        notice["status"] == "ABORTED"
        and notice["execution"] == EXECUTION
        and notice["run_id"] == NAMES.run_id
    )
    assert notice["deleted"] == result["deleted"] == serving()


def test_timed_out_run_is_announced_even_with_nothing_left(topic_queue, s3, context):
    result = lambda_handler(eventbridge_event("TIMED_OUT"), context)
    (notice,) = topic_queue()
    assert notice["event"] == "timed-out-and-cleaned" and notice["deleted"] == []
    assert result["notes"] == ["no tuning or AutoML job was created: no leaderboard to save"]


def test_failed_run_already_cleaned_by_the_state_machine_is_not_announced_twice(topic_queue, context):
    lambda_handler(eventbridge_event("FAILED"), context)
    assert topic_queue() == []


def test_state_machine_path_never_publishes(topic_queue, context):
    deploy_in_moto()
    lambda_handler(machine_event("failed", {"error": {}}), context)
    assert topic_queue() == []


def test_failed_cleanup_is_announced_and_raised_for_retry(topic_queue, context):
    sm = clients.sagemaker()
    with Stubber(sm) as stub:
        stub.add_client_error("describe_hyper_parameter_tuning_job", "AccessDeniedException", "no")
        with pytest.raises(Exception, match="AccessDenied"):
            lambda_handler(eventbridge_event("ABORTED"), context)
    (notice,) = topic_queue()
    assert notice["event"] == "cleanup-failed" and "AccessDeniedException" in notice["error"]


def _trial(name: str, value: float) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{name}",
        "CreationTime": "2026-11-22T05:00:00Z",
        "TrainingJobStatus": "Completed",
        "TunedHyperParameters": {"eta": "0.1"},
        "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": "validation:auc", "Value": value},
    }


def test_failed_run_saves_its_leaderboard_first(s3):
    from handlers.cleanup.results import save_leaderboard
    from tests.handlers.conftest import KEY_ARN

    # Given a tuning job with two finished trials and an AutoML job that listed nothing yet
    sm = clients.sagemaker()
    with Stubber(sm) as stub:
        stub.add_response(
            "list_training_jobs_for_hyper_parameter_tuning_job",
            {
                "TrainingJobSummaries": [
                    _trial(f"{NAMES.tuning_job}-001", 0.91),
                    _trial(f"{NAMES.tuning_job}-002", 0.93),
                ]
            },
        )
        stub.add_response("list_candidates_for_auto_ml_job", {"Candidates": []})
        # When cleanup saves the results of the failed run
        note = save_leaderboard(sm, s3, run=make_run(), names=NAMES, bucket=ARTIFACTS_BUCKET, key_arn=KEY_ARN)
    # Then leaderboard.json is where Evaluate would have written it, with the best trial
    body = s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=f"reports/{NAMES.run_id}/leaderboard.json")[
        "Body"
    ].read()
    board = json.loads(body)
    assert board["tuning"]["best"] == f"{NAMES.tuning_job}-002" and len(board["tuning"]["trials"]) == 2
    assert note.startswith("saved s3://") and "2 trial(s)" in note


def test_an_existing_leaderboard_is_kept_and_deletion_goes_on(s3, context):
    key = f"reports/{NAMES.run_id}/leaderboard.json"
    s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=key, Body=b'{"from": "evaluate"}')
    deploy_in_moto()
    result = lambda_handler(machine_event("failed"), context)
    assert "already saved" in result["notes"][0]
    assert s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=key)["Body"].read() == b'{"from": "evaluate"}'
    assert result["deleted"] == serving()


def test_a_leaderboard_that_cannot_be_saved_never_blocks_deletion(aws, context):
    # Given no artifacts bucket at all (the write must fail)
    deploy_in_moto()
    result = lambda_handler(machine_event("failed"), context)
    assert "leaderboard not saved" in result["notes"][0]
    assert result["deleted"] == serving()


def test_a_run_stopped_by_the_stack_teardown_writes_nothing_to_the_emptied_buckets(s3, context):
    # Given a run that `cdk destroy` stopped while its endpoint was up (the teardown empties the buckets)
    deploy_in_moto()
    # When the event rule's cleanup runs for it
    result = lambda_handler(eventbridge_event("ABORTED", error=STACK_DELETED), context)
    # Then it writes no leaderboard (the bucket would refill and fail the destroy), and still deletes
    assert result["notes"] == ["the stack is being deleted: no leaderboard saved"]
    assert s3.list_objects_v2(Bucket=ARTIFACTS_BUCKET).get("KeyCount") == 0
    assert result["deleted"] == serving()


def test_completed_runs_do_not_write_a_leaderboard(s3, context):
    deploy_in_moto()
    result = lambda_handler(machine_event("completed"), context)
    assert result["notes"] == [] and result["deleted"] == serving()


def test_a_completed_runs_endpoint_is_priced_until_its_deletion(aws, context):
    # Given a completed run whose endpoint (two variants of ml.m5.xlarge, priced in eu-west-1) is up
    deploy_in_moto()
    run = make_run(
        endpoint={"instance_type": "ml.m5.xlarge", "keep": False, "expires": "2026-11-22T09:00:00Z"}
    )
    # When the state machine's Cleanup deletes it
    result = lambda_handler(machine_event("completed", {"run": run}), context)
    # Then its result (so the notification) holds the endpoint's instances from InService to deletion, priced
    assert result["deleted"] == serving()
    cost = result["endpoint_cost"]
    assert cost["instances"] == {"Tuning": 1, "Autopilot": 1} and cost["region"] == "eu-west-1"
    assert cost["seconds"] >= 0 and cost["since"] <= cost["until"]
    assert cost["usd"] == pytest.approx(cost["instance_hours"] * 0.257, abs=1e-6)


def test_a_failed_runs_cleanup_does_not_price_the_endpoint(aws, context):
    deploy_in_moto()
    result = lambda_handler(machine_event("failed"), context)
    assert "endpoint_cost" not in result
