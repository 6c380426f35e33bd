"""Training jobs: real XGBoost runs of training/train.py, as SageMaker reports them."""

from __future__ import annotations

import io
import tarfile

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.local.sagemaker.conftest import BUCKET, REGION, training_request, wait_training


def test_training_job_completes_with_metrics_and_model_in_s3(sm, dataset):
    arn = sm.create_training_job(**training_request("train-ok", dataset["prefix"]))["TrainingJobArn"]
    assert arn.endswith(":training-job/train-ok")
    assert sm.describe_training_job(TrainingJobName="train-ok")["TrainingJobStatus"] in (
        "InProgress",
        "Completed",
    )

    job = wait_training(sm, "train-ok")

    assert job["TrainingJobStatus"] == "Completed"
    assert job["SecondaryStatus"] == "Completed"
    steps = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert steps == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert 0.5 < metrics["validation:auc"] <= 1.0
    uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert uri == f"s3://{BUCKET}/output/train-ok/output/model.tar.gz"
    body = boto3.client("s3", region_name=REGION).get_object(
        Bucket=BUCKET, Key="output/train-ok/output/model.tar.gz"
    )
    with tarfile.open(fileobj=io.BytesIO(body["Body"].read())) as tar:
        assert "xgboost-model" in tar.getnames()
    listed = sm.list_training_jobs(NameContains="train-ok")["TrainingJobSummaries"]
    assert [j["TrainingJobName"] for j in listed] == ["train-ok"]


def test_empty_channel_fails_naming_the_channel(sm, dataset):
    request = training_request("train-empty", dataset["prefix"])
    request["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"] = f"{dataset['prefix']}/empty/"
    sm.create_training_job(**request)

    job = wait_training(sm, "train-empty")

    assert job["TrainingJobStatus"] == "Failed"
    assert "'validation'" in job["FailureReason"]
    assert job["FailureReason"].startswith("ClientError")


def test_algorithm_error_reports_the_failure_file(sm, dataset):
    request = training_request("train-badhp", dataset["prefix"])
    request["HyperParameters"]["max_depthh"] = "3"
    sm.create_training_job(**request)

    job = wait_training(sm, "train-badhp")

    assert job["TrainingJobStatus"] == "Failed"
    assert "max_depthh" in job["FailureReason"]


def test_other_images_fail_with_a_clear_reason(sm, dataset):
    request = training_request("train-custom", dataset["prefix"])
    request["AlgorithmSpecification"]["TrainingImage"] = "123.dkr.ecr.us-east-1.amazonaws.com/mine:latest"
    sm.create_training_job(**request)

    job = wait_training(sm, "train-custom")

    assert job["TrainingJobStatus"] == "Failed"
    assert "sagemaker-xgboost" in job["FailureReason"]


def test_stop_training_job_ends_stopped(sm, dataset):
    request = training_request("train-stop", dataset["prefix"])
    request["HyperParameters"]["num_round"] = "100000"
    sm.create_training_job(**request)

    sm.stop_training_job(TrainingJobName="train-stop")
    job = wait_training(sm, "train-stop")

    assert job["TrainingJobStatus"] == "Stopped"


def test_max_runtime_is_honoured(sm, dataset):
    request = training_request("train-slow", dataset["prefix"], StoppingCondition={"MaxRuntimeInSeconds": 2})
    request["HyperParameters"]["num_round"] = "1000000"
    sm.create_training_job(**request)

    job = wait_training(sm, "train-slow")

    assert job["TrainingJobStatus"] == "Stopped"
    assert job["SecondaryStatus"] == "MaxRuntimeExceeded"


def test_duplicate_name_is_resource_in_use(sm, dataset):
    sm.create_training_job(**training_request("train-dup", dataset["prefix"]))
    with pytest.raises(ClientError) as err:
        sm.create_training_job(**training_request("train-dup", dataset["prefix"]))
    assert err.value.response["Error"]["Code"] == "ResourceInUse"
    wait_training(sm, "train-dup")


def test_describe_unknown_job_is_validation_exception(sm):
    with pytest.raises(ClientError) as err:
        sm.describe_training_job(TrainingJobName="nope")
    assert err.value.response["Error"]["Code"] == "ValidationException"
