"""AutoML V2 (tabular): a real AutoGluon search whose candidates are servable endpoints."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from contracts.reports import (
    EXPLAINABILITY_FILE,
    MODEL_INSIGHTS_FILE,
    CandidateExplainability,
    CandidateInsights,
)
from localaws.sagemaker import automl, automl_worker
from tests.local.sagemaker.conftest import BUCKET, REGION, ROLE, features_csv, wait_until
from tests.local.sagemaker.test_sagemaker_endpoints import wait_endpoint
from tests.shapes import mismatches


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


def test_every_candidate_gets_a_model_configuration_of_its_own():
    # Given more candidates than there are model families
    for problem in ("binary", "multiclass", "regression"):
        for max_candidates in (1, 4, 10, 60):
            # When the search is planned
            models = automl_worker.base_models(max_candidates, problem)
            grouped = automl_worker.hyperparameters(models)

            # Then there is one configuration per candidate but the ensemble, each under its own name
            assert len(models) == max(1, max_candidates - 1)
            names = [(family, config.get("ag_args", {}).get("name_suffix", "")) for family, config in models]
            assert len(set(names)) == len(names)
            assert sum(len(configs) for configs in grouped.values()) == len(models)
            assert all(problem in c.get("ag_args", {}).get("problem_types", [problem]) for _, c in models)
    assert automl_worker.base_models(4, "binary") == automl_worker.FAMILIES[:3]
    assert automl_worker.METRICS["AUC"] == "roc_auc"
    assert automl_worker.METRICS["RMSE"] == "root_mean_squared_error"


def test_the_budget_is_shared_equally_and_capped_per_training_job():
    assert automl_worker.share_per_model(100.0, 9, None) == pytest.approx(10.0)
    assert automl_worker.share_per_model(100.0, 9, 4) == 4


def test_the_secondary_status_says_why_the_job_has_the_candidates_it_has():
    statuses = boto3.client("sagemaker", region_name=REGION).meta.service_model.shape_for(
        "AutoMLJobSecondaryStatus"
    )
    cases = {(10, 10, True), (7, 10, True), (7, 10, False)}
    said = {case: automl.completion_status(*case) for case in cases}
    assert said == {
        (10, 10, True): "MaxCandidatesReached",
        (7, 10, True): "MaxAutoMLJobRuntimeReached",
        (7, 10, False): "Completed",
    }
    assert set(said.values()) <= set(statuses.enum)


def test_ten_candidates_are_all_trained_each_with_its_training_time(sm, dataset):
    # Given an AutoML job asking for more candidates than there are model families
    sm.create_auto_ml_job_v2(
        **automl_request("automl-ten", dataset["prefix"], MaxCandidates=10, MaxAutoMLJobRuntimeInSeconds=300)
    )

    # When it completes
    job = wait_automl(sm, "automl-ten")

    # Then every candidate was trained, and each tells when its training began and ended
    assert (job["AutoMLJobStatus"], job["AutoMLJobSecondaryStatus"]) == ("Completed", "MaxCandidatesReached")
    candidates = sm.list_candidates_for_auto_ml_job(AutoMLJobName="automl-ten")["Candidates"]
    assert len(candidates) == 10
    assert all(job["CreationTime"] <= c["CreationTime"] <= c["EndTime"] <= job["EndTime"] for c in candidates)
    ensemble = next(c for c in candidates if c["CandidateName"].startswith("WeightedEnsemble"))
    assert all(c["EndTime"] <= ensemble["CreationTime"] for c in candidates if c is not ensemble)
    # And each artifact holds what serving it needs: its models, no copy of the dataset
    for candidate in candidates:
        models = artifact_models(candidate["InferenceContainers"][0]["ModelDataUrl"])
        assert len(models) >= 2 if candidate is ensemble else len(models) == 1


def artifact_models(url: str) -> set[str]:
    """The AutoGluon model directories in a candidate's model.tar.gz (which must hold no cached data)."""
    bucket, key = url.removeprefix("s3://").split("/", 1)
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        names = tar.getnames()
    assert not [n for n in names if n.startswith("predictor/utils")]
    return {n.split("/")[2] for n in names if n.startswith("predictor/models/") and n.count("/") >= 3}


def test_a_budget_too_small_for_its_candidates_ends_the_job_saying_so(sm, dataset):
    # Given far more candidates than the shortest budget can train
    sm.create_auto_ml_job_v2(
        **automl_request("automl-short", dataset["prefix"], MaxCandidates=200, MaxAutoMLJobRuntimeInSeconds=5)
    )

    # When it ends
    job = wait_automl(sm, "automl-short")

    # Then it completed with what it could train, and says the runtime budget is why there are not more
    candidates = sm.list_candidates_for_auto_ml_job(AutoMLJobName="automl-short", MaxResults=100)[
        "Candidates"
    ]
    assert (job["AutoMLJobStatus"], job["AutoMLJobSecondaryStatus"]) == (
        "Completed",
        "MaxAutoMLJobRuntimeReached",
    )
    assert 1 <= len(candidates) < 200


def test_each_candidate_lists_its_training_job_and_points_to_its_definition_and_explainability(sm, dataset):
    # Given a completed AutoML job
    sm.create_auto_ml_job_v2(**automl_request("automl-white", dataset["prefix"], MaxCandidates=3))
    job = wait_automl(sm, "automl-white")
    assert job["AutoMLJobStatus"] == "Completed", job.get("FailureReason")
    candidates = sm.list_candidates_for_auto_ml_job(AutoMLJobName="automl-white")["Candidates"]
    s3 = boto3.client("s3", region_name=REGION)
    for candidate in candidates:
        # Then its one step is a training job, named after the job, that SageMaker describes as completed
        (step,) = candidate["CandidateSteps"]
        assert step["CandidateStepType"] == "AWS::SageMaker::TrainingJob"
        assert step["CandidateStepName"].startswith("automl-white-t") and len(step["CandidateStepName"]) <= 63
        assert step["CandidateStepArn"] == (
            f"arn:aws:sagemaker:{REGION}:123456789012:training-job/{step['CandidateStepName'].lower()}"
        )
        training = sm.describe_training_job(TrainingJobName=step["CandidateStepName"])
        assert training["TrainingJobStatus"] == "Completed"
        assert training["BillableTimeInSeconds"] >= 1
        assert training["ResourceConfig"]["InstanceType"] == automl.CANDIDATE_INSTANCE_TYPE
        assert (
            training["ModelArtifacts"]["S3ModelArtifacts"]
            == candidate["InferenceContainers"][0]["ModelDataUrl"]
        )
        # And its properties: metrics measured on the validation rows, and where its reports are
        properties = candidate["CandidateProperties"]
        metrics = {m["StandardMetricName"]: m for m in properties["CandidateMetrics"]}
        assert {"AUC", "Accuracy", "F1", "LogLoss"} <= set(metrics)
        assert metrics["AUC"]["Value"] == pytest.approx(candidate["FinalAutoMLJobObjectiveMetric"]["Value"])
        assert all(m["Set"] == "Validation" for m in metrics.values())
        assert "MetricName" not in metrics["LogLoss"]  # not a name MetricName takes
        locations = properties["CandidateArtifactLocations"]
        insights = read_json(s3, locations["ModelInsights"] + MODEL_INSIGHTS_FILE)
        explained = read_json(s3, locations["Explainability"] + EXPLAINABILITY_FILE)
        assert mismatches(insights, CandidateInsights) == []
        assert mismatches(explained, CandidateExplainability) == []
        assert insights["candidate"] == explained["candidate"] == candidate["CandidateName"]
        definition = insights["definition"]
        # Its definition: the algorithm it is, the hyperparameters its training job was given
        assert definition["hyperparameters"] == training.get("HyperParameters", {})
        if candidate["CandidateName"].startswith("WeightedEnsemble"):
            assert definition["model_type"] == "WeightedEnsembleModel"
            assert sum(definition["ensemble"].values()) == pytest.approx(1.0, abs=1e-3)
            assert definition["preprocessing"] == []
        else:
            assert definition["ensemble"] is None
            assert definition["preprocessing"][0]["columns"]  # every feature goes through the generator
            assert any(k.endswith("(fitted)") for k in definition["hyperparameters"])
        # And which features it relies on: f0 and f1 drive the label, f4 and f5 are noise
        ranked = [f["feature"] for f in explained["features"]]
        assert set(ranked[:2]) == {"f0", "f1"}, explained
    assert job["BestCandidate"]["CandidateSteps"] == next(
        c["CandidateSteps"] for c in candidates if c["CandidateName"] == job["BestCandidate"]["CandidateName"]
    )


def read_json(s3: Any, uri: str) -> Any:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_a_step_name_stays_within_sagemakers_limit_and_keeps_the_trial():
    name = automl.step_name("a" * 32, 712, "RandomForestEntr-t712")
    assert len(name) <= 63 and name.startswith("a" * 32 + "-t712-")
    assert automl.step_name("job", 3, "WeightedEnsemble-L2-t3") == "job-t3-WeightedEnsemble-L2"
