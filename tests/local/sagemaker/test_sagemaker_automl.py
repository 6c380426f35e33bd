"""AutoML V2 (tabular): a real AutoGluon search whose candidates are servable endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from localaws.sagemaker import automl_worker
from tests.local.sagemaker.conftest import BUCKET, ROLE, features_csv, wait_until
from tests.local.sagemaker.test_sagemaker_endpoints import wait_endpoint


def automl_request(name: str, prefix: str, **criteria: Any) -> dict[str, Any]:
    return {
        "AutoMLJobName": name,
        "AutoMLJobInputDataConfig": [
            {
                "ChannelType": "training",
                "ContentType": "text/csv;header=present",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{prefix}/autopilot/"}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/automl"},
        "AutoMLProblemTypeConfig": {
            "TabularJobConfig": {
                "TargetAttributeName": "y",
                "ProblemType": "BinaryClassification",
                "Mode": "ENSEMBLING",
                "CompletionCriteria": {"MaxCandidates": 4, "MaxAutoMLJobRuntimeInSeconds": 40, **criteria},
            }
        },
        "AutoMLJobObjective": {"MetricName": "AUC"},
        "RoleArn": ROLE,
    }


def wait_automl(sm: Any, name: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        d = sm.describe_auto_ml_job_v2(AutoMLJobName=name)
        return d if d["AutoMLJobStatus"] in ("Completed", "Failed", "Stopped") else None

    result: dict[str, Any] = wait_until(done, timeout=240, interval=0.5)
    return result


def test_automl_job_trains_candidates_that_serve_labels_and_probabilities(sm, runtime, dataset):
    sm.create_auto_ml_job_v2(**automl_request("automl-ok", dataset["prefix"]))
    seen = {sm.describe_auto_ml_job_v2(AutoMLJobName="automl-ok")["AutoMLJobSecondaryStatus"]}

    job = wait_automl(sm, "automl-ok")

    seen.add(job["AutoMLJobSecondaryStatus"])
    assert job["AutoMLJobStatus"] == "Completed", job.get("FailureReason")
    assert job["AutoMLJobSecondaryStatus"] in (
        "Completed",
        "MaxCandidatesReached",
        "MaxAutoMLJobRuntimeReached",
    )
    best = job["BestCandidate"]
    metric = best["FinalAutoMLJobObjectiveMetric"]
    assert metric["Type"] == "Maximize" and 0.5 < metric["Value"] <= 1.0
    candidates = sm.list_candidates_for_auto_ml_job(
        AutoMLJobName="automl-ok", SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["Candidates"]
    assert 2 <= len(candidates) <= 4
    values = [c["FinalAutoMLJobObjectiveMetric"]["Value"] for c in candidates]
    assert values == sorted(values, reverse=True)
    assert candidates[0]["FinalAutoMLJobObjectiveMetric"]["Value"] == metric["Value"]
    assert any(c["CandidateName"].startswith("WeightedEnsemble") for c in candidates)
    assert len({c["CandidateName"].split("-")[0] for c in candidates}) >= 2  # several model families
    container = best["InferenceContainers"][0]
    assert container["ModelDataUrl"].startswith(f"s3://{BUCKET}/automl/automl-ok/")

    sm.create_model(
        ModelName="automl-best",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            **container,
            "Environment": {
                **container["Environment"],
                "SAGEMAKER_INFERENCE_OUTPUT": "predicted_label,probability",
            },
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName="automl-best",
        ProductionVariants=[
            {
                "VariantName": "autopilot",
                "ModelName": "automl-best",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sm.create_endpoint(EndpointName="automl-best", EndpointConfigName="automl-best")
    assert wait_endpoint(sm, "automl-best")["EndpointStatus"] == "InService"
    out = runtime.invoke_endpoint(
        EndpointName="automl-best", Body=features_csv(dataset["x"][:4]), ContentType="text/csv"
    )
    rows = [line.split(",") for line in out["Body"].read().decode().strip().splitlines()]
    assert len(rows) == 4
    for label, probability in rows:
        assert label in ("0", "1")
        assert 0.5 <= float(probability) <= 1.0  # ensembling mode: the probability of the predicted label
    sm.delete_endpoint(EndpointName="automl-best")


def test_automl_missing_target_fails_with_a_client_error(sm, dataset):
    request = automl_request("automl-notarget", dataset["prefix"])
    request["AutoMLProblemTypeConfig"]["TabularJobConfig"]["TargetAttributeName"] = "nope"
    sm.create_auto_ml_job_v2(**request)

    job = wait_automl(sm, "automl-notarget")

    assert job["AutoMLJobStatus"] == "Failed"
    assert "'nope'" in job["FailureReason"]


def test_automl_refuses_fewer_rows_than_sagemakers_minimum(sm, dataset):
    # Given training data one row short of Autopilot's documented minimum
    sm.create_auto_ml_job_v2(**automl_request("automl-small", f"{dataset['prefix']}/small"))
    # When the job runs, Then it fails saying how many rows it had and needs
    job = wait_automl(sm, "automl-small")
    assert job["AutoMLJobStatus"] == "Failed"
    assert (
        job["FailureReason"] == "ClientError: The training data has 499 rows; Autopilot needs at least 500."
    )


def test_automl_stop_ends_stopped(sm, dataset):
    sm.create_auto_ml_job_v2(**automl_request("automl-stop", dataset["prefix"]))
    sm.stop_auto_ml_job(AutoMLJobName="automl-stop")

    job = wait_automl(sm, "automl-stop")

    assert job["AutoMLJobStatus"] == "Stopped"


def test_automl_names_and_duplicates(sm, dataset):
    with pytest.raises(ClientError) as err:
        sm.create_auto_ml_job_v2(**automl_request("a" * 33, dataset["prefix"]))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "less than or equal to 32" in err.value.response["Error"]["Message"]
    sm.create_auto_ml_job_v2(**automl_request("automl-dup", dataset["prefix"]))
    with pytest.raises(ClientError) as err:
        sm.create_auto_ml_job_v2(**automl_request("automl-dup", dataset["prefix"]))
    assert err.value.response["Error"]["Code"] == "ResourceInUse"
    sm.stop_auto_ml_job(AutoMLJobName="automl-dup")
    wait_automl(sm, "automl-dup")


def test_candidate_budget_maps_to_model_families():
    assert automl_worker.hyperparameters(1) == {"GBM": [{}]}
    four = automl_worker.hyperparameters(4)
    assert set(four) == {"GBM", "XGB", "RF"}
    assert (
        automl_worker.METRICS["AUC"] == "roc_auc"
        and automl_worker.METRICS["RMSE"] == "root_mean_squared_error"
    )
