"""`cdk destroy` while a run's endpoint is InService or its jobs train: it succeeds, nothing survives."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import DATASET_ROWS, STACK_NAME, execution_name
from tests.e2e.test_faults import FAST_DATASET, endpoint_status, small, wait_for
from training.prepare_data import prepare

pytestmark = [pytest.mark.e2e, pytest.mark.destroys_stack]
MISSING_TEARDOWN = (
    "the teardown custom resource (stacks/components/lifecycle.py + handlers/teardown/) is not in the "
    "stack yet: without it destroy fails on the non-empty buckets and leaves endpoints and jobs running"
)


def test_destroy_stops_jobs_deletes_endpoints_and_removes_the_stack(
    deployment, run, start, dataset, stack, aws, leftovers
):
    sm = aws("sagemaker")
    prefix = stack["NamePrefix"]
    # Given a finished run whose endpoint was kept InService
    kept = run(small(dataset, keep_endpoint=True))
    assert kept.status == "SUCCEEDED", (kept.error, kept.cause)
    assert endpoint_status(sm, prefix) == "InService"
    # And another run whose tuning job is still training (a budget far larger than the test waits for)
    start({**small(dataset), "tuning_max_jobs": 500, "tuning_max_parallel_jobs": 1})
    tuning = wait_for(
        lambda: [
            j["HyperParameterTuningJobName"]
            for j in sm.list_hyper_parameter_tuning_jobs(NameContains=prefix, StatusEquals="InProgress")[
                "HyperParameterTuningJobSummaries"
            ]
        ]
    )

    # When the stack is destroyed
    has_teardown = deployment.has_teardown(aws("cloudformation"))
    result = deployment.destroy()
    if not has_teardown and result.returncode != 0:
        # xfail only while the teardown is absent (a marker would also swallow session teardown errors)
        pytest.xfail(MISSING_TEARDOWN)

    # Then destroy succeeds, the running jobs are stopped and no endpoint, config or model is left
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name in tuning:
        status = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
            "HyperParameterTuningJobStatus"
        ]
        assert status in ("Stopping", "Stopped"), (name, status)
    assert leftovers() == {"endpoints": [], "endpoint_configs": [], "models": []}
    # And the stack and its buckets are gone
    with pytest.raises(ClientError):
        aws("cloudformation").describe_stacks(StackName=STACK_NAME)
    for key in ("DataBucketName", "ArtifactsBucketName"):
        with pytest.raises(ClientError):
            aws("s3").head_bucket(Bucket=stack[key])


# Each round deploys the stack again (the session's was destroyed above or by the first round).
DESTROY_ROUNDS = 2
BOTH_BRANCHES_BUSY = {"tuning_max_jobs": 500, "tuning_max_parallel_jobs": 2, "autopilot_max_candidates": 10}


def both_branches_training(sm: Any, prefix: str) -> list[str]:
    """The training AutoML jobs' names, once a tuning job trains too."""
    tuning = sm.list_hyper_parameter_tuning_jobs(NameContains=prefix, StatusEquals="InProgress")
    automl = sm.list_auto_ml_jobs(NameContains=prefix, StatusEquals="InProgress")["AutoMLJobSummaries"]
    return [job["AutoMLJobName"] for job in automl] if tuning["HyperParameterTuningJobSummaries"] else []


def test_destroy_while_both_branches_train_succeeds_every_time(deployment, aws, tmp_path_factory):
    for round_ in range(DESTROY_ROUNDS):
        # Given a freshly deployed stack (the session's, then a new one) and its dataset
        if deployment.gone:
            deployment.destroyed = None
            deployment.deploy()
        outputs, sm = deployment.outputs, aws("sagemaker")
        target = f"s3://{outputs['DataBucketName']}/datasets/{FAST_DATASET}/"
        out = tmp_path_factory.mktemp(f"destroy-round-{round_}")
        prepare(FAST_DATASET, out, rows=DATASET_ROWS[FAST_DATASET], upload=target, s3_client=aws("s3"))
        # And a run whose tuning job and AutoML job are both training
        aws("stepfunctions").start_execution(
            stateMachineArn=outputs["StateMachineArn"],
            name=execution_name("destroy"),
            input=json.dumps({"dataset": target, **BOTH_BRANCHES_BUSY}),
        )
        training = wait_for(functools.partial(both_branches_training, sm, outputs["NamePrefix"]))

        # When the stack is destroyed in the middle of training
        result = deployment.destroy()

        # Then destroy succeeds the first time: the jobs ended before the buckets were emptied
        assert result.returncode == 0, (round_, result.stdout[-3000:] + result.stderr[-3000:])
        for name in training:
            status = sm.describe_auto_ml_job_v2(AutoMLJobName=name)["AutoMLJobStatus"]
            assert status == "Stopped", (name, status)
        with pytest.raises(ClientError):
            aws("cloudformation").describe_stacks(StackName=STACK_NAME)
        for key in ("DataBucketName", "ArtifactsBucketName"):
            with pytest.raises(ClientError):
                aws("s3").head_bucket(Bucket=outputs[key])
