"""`cdk destroy` while a run's endpoint is InService and another run's tuning job trains: nothing survives."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import STACK_NAME
from tests.e2e.test_faults import endpoint_status, small, wait_for

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
    start({**small(dataset), "tuning_max_jobs": 40, "tuning_max_parallel_jobs": 1})
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
