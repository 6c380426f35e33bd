"""Evaluate's bill: each training job's billable time and the endpoint's time InService, per finalist."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from contracts.run import Endpoint
from handlers.common import clients
from handlers.evaluate.billing import autopilot_duration, in_service, run_usage
from handlers.evaluate.handler import Services, run_evaluation
from tests.handlers.conftest import ARTIFACTS_BUCKET, DATA_BUCKET, KEY_ARN
from tests.handlers.runs import NAMES, make_run

T0 = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
PRICE = 0.257  # ml.m5.xlarge in eu-west-1, training and hosting alike, in the shipped table
AUTOPILOT_JOB = f"{NAMES.automl_job}-c1-train"


def training_job(name: str, billable: int, count: int = 1) -> dict[str, Any]:
    """A DescribeTrainingJob answer with what botocore's model requires."""
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:eu-west-1:123456789012:training-job/{name}",
        "ModelArtifacts": {"S3ModelArtifacts": f"s3://{ARTIFACTS_BUCKET}/jobs/{name}/model.tar.gz"},
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "xgboost"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": count, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": T0,
        "BillableTimeInSeconds": billable,
    }


def billing_stubs(stub: Stubber, in_service_for: timedelta, steps: bool = True) -> None:
    """Three trials (60, 90, 2 x 30 s), one Autopilot training step (120 s), an endpoint of two variants."""
    trials = [
        (f"{NAMES.tuning_job}-001", 60, 1),
        (f"{NAMES.tuning_job}-002", 90, 1),
        (f"{NAMES.tuning_job}-003", 30, 2),
    ]
    stub.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {
            "TrainingJobSummaries": [
                {
                    "TrainingJobName": name,
                    "TrainingJobArn": f"arn:aws:sagemaker:eu-west-1:123456789012:training-job/{name}",
                    "CreationTime": T0,
                    "TrainingJobStatus": "Completed",
                    "TunedHyperParameters": {},
                }
                for name, _, _ in trials
            ]
        },
        {"HyperParameterTuningJobName": NAMES.tuning_job},
    )
    for name, billable, count in trials:
        stub.add_response(
            "describe_training_job", training_job(name, billable, count), {"TrainingJobName": name}
        )
    step = {
        "CandidateStepType": "AWS::SageMaker::TrainingJob",
        "CandidateStepArn": f"arn:aws:sagemaker:eu-west-1:123456789012:training-job/{AUTOPILOT_JOB}",
        "CandidateStepName": AUTOPILOT_JOB,
    }
    candidate = {
        "CandidateName": "WeightedEnsemble-L2",
        "ObjectiveStatus": "Succeeded",
        "CandidateSteps": [step] if steps else [],
        "CandidateStatus": "Completed",
        "CreationTime": T0,
        "LastModifiedTime": T0,
    }
    stub.add_response(
        "list_candidates_for_auto_ml_job", {"Candidates": [candidate]}, {"AutoMLJobName": NAMES.automl_job}
    )
    if steps:
        stub.add_response(
            "describe_training_job", training_job(AUTOPILOT_JOB, 120), {"TrainingJobName": AUTOPILOT_JOB}
        )
    else:
        stub.add_response(
            "describe_auto_ml_job_v2",
            {
                "AutoMLJobName": NAMES.automl_job,
                "AutoMLJobArn": f"arn:aws:sagemaker:eu-west-1:123456789012:automl-job/{NAMES.automl_job}",
                "AutoMLJobInputDataConfig": [
                    {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://d/"}}}
                ],
                "OutputDataConfig": {"S3OutputPath": f"s3://{ARTIFACTS_BUCKET}/jobs/"},
                "RoleArn": "arn:aws:iam::123456789012:role/mlstack-sagemaker",
                "CreationTime": T0,
                "EndTime": T0 + timedelta(seconds=300),
                "LastModifiedTime": T0,
                "AutoMLJobStatus": "Completed",
                "AutoMLJobSecondaryStatus": "Completed",
            },
            {"AutoMLJobName": NAMES.automl_job},
        )
    stub.add_response(
        "describe_endpoint",
        {
            "EndpointName": NAMES.endpoint,
            "EndpointArn": f"arn:aws:sagemaker:eu-west-1:123456789012:endpoint/{NAMES.endpoint}",
            "EndpointConfigName": NAMES.endpoint_config,
            "ProductionVariants": [
                {"VariantName": "Tuning", "CurrentInstanceCount": 1},
                {"VariantName": "Autopilot", "CurrentInstanceCount": 1},
            ],
            "EndpointStatus": "InService",
            "CreationTime": datetime.now(UTC) - in_service_for - timedelta(minutes=5),
            "LastModifiedTime": datetime.now(UTC) - in_service_for,
        },
        {"EndpointName": NAMES.endpoint},
    )


def test_training_jobs_are_billed_by_billable_seconds_times_instances():
    run = make_run(
        endpoint=Endpoint(instance_type="ml.m5.xlarge", keep=False, expires="2026-11-22T09:00:00Z")
    )
    with Stubber(clients.sagemaker()) as stub:
        billing_stubs(stub, timedelta(minutes=10))
        usage = run_usage(clients.sagemaker(), run)
        stub.assert_no_pending_responses()
    assert [(j.name[-3:], j.kind, j.billable_s, j.instance_count) for j in usage.jobs] == [
        ("001", "tuning", 60, 1),
        ("002", "tuning", 90, 1),
        ("003", "tuning", 30, 2),
        ("ain", "autopilot", 120, 1),
    ]
    assert usage.endpoint is not None and usage.endpoint.instances == {"Tuning": 1, "Autopilot": 1}
    assert 600 <= usage.endpoint.seconds < 660 and usage.endpoint.final is False
    assert usage.notes == ()


def test_without_listed_autopilot_jobs_the_automl_jobs_duration_is_priced_and_said_so():
    with Stubber(clients.sagemaker()) as stub:
        billing_stubs(stub, timedelta(minutes=1), steps=False)
        usage = run_usage(clients.sagemaker(), make_run())
    autopilot = [j for j in usage.jobs if j.kind == "autopilot"]
    assert [(j.billable_s, j.instance_type, j.basis) for j in autopilot] == [
        (300.0, "ml.m5.xlarge", "AutoML job duration")
    ]
    assert any("listed no training jobs" in note for note in usage.notes)


def test_an_endpoint_not_in_service_has_no_time_to_bill():
    described = {"EndpointStatus": "Creating", "LastModifiedTime": T0, "ProductionVariants": []}
    assert in_service(described, "ml.m5.xlarge", T0 + timedelta(hours=1), final=False) is None


def test_a_job_that_cannot_be_read_is_a_note_not_a_failure():
    notes: list[str] = []
    with Stubber(clients.sagemaker()) as stub:
        stub.add_client_error("describe_auto_ml_job_v2", "AccessDeniedException", "no")
        assert autopilot_duration(clients.sagemaker(), NAMES.automl_job, "ml.m5.xlarge", notes) is None
    assert notes == [f"AutoML job {NAMES.automl_job}: not priced (AccessDeniedException)"]


def test_evaluation_json_holds_the_bound_beside_the_bill_per_finalist(s3):
    # Given a binary test set both variants score, on an endpoint InService for 10 minutes
    numeric = "".join(f"{i % 2},{i}\n" for i in range(20))
    raw = "x,y\n" + "".join(f"{i},{'yes' if i % 2 else 'no'}\n" for i in range(20))
    s3.put_object(Bucket=DATA_BUCKET, Key="datasets/bank/test/test.csv", Body=numeric.encode())
    s3.put_object(Bucket=DATA_BUCKET, Key="datasets/bank/test-raw/test.csv", Body=raw.encode())
    run = make_run(
        "regression",
        endpoint=Endpoint(instance_type="ml.m5.xlarge", keep=False, expires="2026-11-22T09:00:00Z"),
    )
    sm = clients.sagemaker()
    finalists = [
        {"kind": "tuning", "variant": "Tuning", "model_name": NAMES.tuning_model, "job": NAMES.tuning_job},
        {
            "kind": "autopilot",
            "variant": "Autopilot",
            "model_name": NAMES.autopilot_model,
            "job": NAMES.automl_job,
        },
    ]

    def endpoint(variant: str, body: bytes) -> bytes:
        return "".join(
            f"{int(line.split(',')[0]) % 2}\n" for line in body.decode().splitlines() if line
        ).encode()

    with Stubber(sm) as stub:
        stub.add_client_error("list_training_jobs_for_hyper_parameter_tuning_job", "ResourceNotFound", "x")
        stub.add_response("list_candidates_for_auto_ml_job", {"Candidates": []})
        billing_stubs(stub, timedelta(minutes=10))
        # When evaluated
        summary = run_evaluation(
            {"run": run, "deployment": {"finalists": finalists}},
            Services(s3=s3, sagemaker=sm, invoke=endpoint, key_arn=KEY_ARN, usage=lambda r: run_usage(sm, r)),
        )
        stub.assert_no_pending_responses()

    # Then evaluation.json prices every second billed: (60 + 90 + 2 x 30) s of trials, 120 s of Autopilot
    key = f"reports/{NAMES.run_id}/evaluation.json"
    cost = json.loads(s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=key)["Body"].read())["cost"]
    actual = cost["actual"]
    assert actual["tuning"]["usd"] == pytest.approx(210 / 3600 * PRICE, abs=1e-6)
    assert actual["autopilot"]["usd"] == pytest.approx(120 / 3600 * PRICE, abs=1e-6)
    endpoint_usd = actual["endpoint"]["usd"]
    assert 2 * 600 / 3600 * PRICE <= endpoint_usd < 2 * 660 / 3600 * PRICE
    per = actual["per_finalist"]
    assert per["Tuning"]["usd"] == pytest.approx(210 / 3600 * PRICE + endpoint_usd / 2, rel=1e-4)
    assert per["Autopilot"]["usd"] == pytest.approx(120 / 3600 * PRICE + endpoint_usd / 2, rel=1e-4)
    assert actual["total_usd"] == pytest.approx(330 / 3600 * PRICE + endpoint_usd, rel=1e-4)
    assert actual["complete"] is True and cost["offline"] is False
    # beside the bound ValidateInput planned, which it stays under
    assert cost["estimate"] == run["cost"]["estimate"]
    assert "Cleanup deletes it next" in cost["endpoint_span"]
    # And the state machine's summary (so the notification) carries the totals and each finalist
    assert summary["cost"]["actual"]["total_usd"] == actual["total_usd"]
    assert set(summary["cost"]["actual"]["per_finalist"]) == {"Tuning", "Autopilot"}
    html = s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=f"reports/{NAMES.run_id}/report.html")["Body"].read()
    assert b"What this run cost" in html
