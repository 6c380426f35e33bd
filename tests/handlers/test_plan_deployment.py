"""PlanDeployment: one model and one production variant per successful candidate."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from handlers.common import clients
from handlers.common.errors import InvalidInput, NoFinalist
from handlers.plan_deployment.handler import lambda_handler
from handlers.plan_deployment.plan import with_inference_output
from tests.handlers.conftest import ARTIFACTS_BUCKET, ENV
from tests.handlers.runs import NAMES, make_run

TUNING_OK = {
    "kind": "tuning",
    "status": "Succeeded",
    "job": NAMES.tuning_job,
    "best_training_job": f"{NAMES.tuning_job}-007-abcd1234",
    "objective": {"MetricName": "validation:auc", "Value": 0.91, "Type": "Maximize"},
    "hyperparameters": {"eta": "0.1"},
    "model_data": "s3://artifacts/jobs/x/tuning/best/output/model.tar.gz",
    "image": "training-image-not-used-for-serving",
}
AUTOPILOT_OK: dict[str, Any] = {
    "kind": "autopilot",
    "status": "Succeeded",
    "job": NAMES.automl_job,
    "candidate": "WeightedEnsemble-L2",
    "objective": {"MetricName": "AUC", "Value": 0.93},
    "containers": [
        {
            "Image": "autogluon-image",
            "ModelDataUrl": "s3://artifacts/jobs/x/autopilot/model.tar.gz",
            "Environment": {
                "SAGEMAKER_INFERENCE_OUTPUT": "predicted_label",
                "SAGEMAKER_INFERENCE_SUPPORTED": "predicted_label,probability,probabilities,labels",
                "MODEL_NAME": "WeightedEnsemble",
            },
        }
    ],
}
TUNING_FAILED = {
    "kind": "tuning",
    "status": "Failed",
    "error": "SageMaker.AmazonSageMakerException",
    "cause": "quota",
}
AUTOPILOT_FAILED = {"kind": "autopilot", "status": "Failed", "error": "States.Timeout", "cause": "too slow"}


def test_both_finalists_get_a_model_and_a_variant(context):
    # Given both jobs succeeded on a binary problem
    event = {"run": make_run("binary"), "candidates": [TUNING_OK, AUTOPILOT_OK]}
    # When the deployment is planned
    plan = lambda_handler(event, context)
    # Then the tuning model serves with the stack's XGBoost image, Autopilot with its own containers
    tuning_model, autopilot_model = plan["models"]
    assert tuning_model == {
        "ModelName": NAMES.tuning_model,
        "Containers": [{"Image": ENV["XGBOOST_IMAGE"], "ModelDataUrl": TUNING_OK["model_data"]}],
        "Tags": make_run()["tags"],
    }
    env = autopilot_model["Containers"][0]["Environment"]
    assert env["SAGEMAKER_INFERENCE_OUTPUT"] == "predicted_label,probability"
    assert env["MODEL_NAME"] == "WeightedEnsemble"  # existing keys are kept
    assert AUTOPILOT_OK["containers"][0]["Environment"]["SAGEMAKER_INFERENCE_OUTPUT"] == "predicted_label"
    assert plan["production_variants"] == [
        {
            "VariantName": "Tuning",
            "ModelName": NAMES.tuning_model,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": 1.0,
        },
        {
            "VariantName": "Autopilot",
            "ModelName": NAMES.autopilot_model,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": 1.0,
        },
    ]
    assert [(f["kind"], f["variant"], f["model_name"], f["job"]) for f in plan["finalists"]] == [
        ("tuning", "Tuning", NAMES.tuning_model, NAMES.tuning_job),
        ("autopilot", "Autopilot", NAMES.autopilot_model, NAMES.automl_job),
    ]
    assert plan["finalists"][1]["objective"] == {"MetricName": "AUC", "Value": 0.93}


@pytest.mark.parametrize(
    ("problem_type", "output"),
    [("multiclass", "predicted_label,probabilities"), ("regression", "predicted_label")],
)
def test_inference_output_fits_the_problem_type(context, problem_type, output):
    plan = lambda_handler({"run": make_run(problem_type), "candidates": [AUTOPILOT_OK]}, context)
    assert plan["models"][0]["Containers"][0]["Environment"]["SAGEMAKER_INFERENCE_OUTPUT"] == output


def test_one_failed_candidate_leaves_the_other_as_the_only_finalist(context):
    plan = lambda_handler({"run": make_run(), "candidates": [TUNING_FAILED, AUTOPILOT_OK]}, context)
    assert [v["VariantName"] for v in plan["production_variants"]] == ["Autopilot"]
    assert [m["ModelName"] for m in plan["models"]] == [NAMES.autopilot_model]


def test_both_failed_raises_no_finalist_with_both_causes(context):
    with pytest.raises(NoFinalist) as raised:
        lambda_handler({"run": make_run(), "candidates": [TUNING_FAILED, AUTOPILOT_FAILED]}, context)
    message = str(raised.value)
    assert "tuning failed: SageMaker.AmazonSageMakerException: quota" in message
    assert "autopilot failed: States.Timeout: too slow" in message


def test_a_success_without_a_model_is_invalid(context):
    broken = {k: v for k, v in TUNING_OK.items() if k != "model_data"}
    with pytest.raises(InvalidInput, match="lacks model_data"):
        lambda_handler({"run": make_run(), "candidates": [broken]}, context)


def test_pipeline_containers_chain_inputs_and_outputs_as_the_sdk_does():
    # Given an inference pipeline: feature transform, algorithm, inverse label transform
    containers = [
        {"Image": "fe", "Environment": {"SAGEMAKER_INFERENCE_SUPPORTED": "predicted_label"}},
        {"Image": "algo", "Environment": {"SAGEMAKER_INFERENCE_SUPPORTED": "predicted_label,probability"}},
        {
            "Image": "inverse",
            "Environment": {"SAGEMAKER_INFERENCE_SUPPORTED": "predicted_label,probability,labels"},
        },
    ]
    # When binary output is wanted
    out = with_inference_output(containers, "predicted_label,probability")
    # Then each container emits what it supports and reads what the previous one emits
    assert out[0]["Environment"]["SAGEMAKER_INFERENCE_OUTPUT"] == "predicted_label"
    assert "SAGEMAKER_INFERENCE_INPUT" not in out[0]["Environment"]
    assert out[1]["Environment"]["SAGEMAKER_INFERENCE_INPUT"] == "predicted_label"
    assert out[1]["Environment"]["SAGEMAKER_INFERENCE_OUTPUT"] == "predicted_label,probability"
    assert out[2]["Environment"]["SAGEMAKER_INFERENCE_INPUT"] == "predicted_label,probability"
    assert out[2]["Environment"]["SAGEMAKER_INFERENCE_OUTPUT"] == "predicted_label,probability"
    assert "SAGEMAKER_INFERENCE_OUTPUT" not in containers[0]["Environment"]  # the input is not mutated


def test_containers_without_a_declaration_get_the_output_on_the_last():
    out = with_inference_output(
        [{"Image": "a"}, {"Image": "b", "Environment": {"X": "1"}}], "predicted_label"
    )
    assert out[0]["Environment"] == {}
    assert out[1]["Environment"] == {"X": "1", "SAGEMAKER_INFERENCE_OUTPUT": "predicted_label"}


# --- a script's model: served by its framework's container, repacked with its code ------------------

SOURCE_KEY = "code/" + "ab" * 32 + "/sourcedir.tar.gz"


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _trials(*summaries: tuple[str, str, str]) -> None:
    """ListTrainingJobsForHyperParameterTuningJob (which moto lacks) answers these trials: (name,
    status, objective status)."""
    listed = [
        {
            "TrainingJobName": name,
            "TrainingJobArn": f"arn:aws:sagemaker:eu-west-1:123456789012:training-job/{name}",
            "CreationTime": datetime(2026, 11, 22, tzinfo=UTC),
            "TrainingJobStatus": status,
            "TunedHyperParameters": {},
            "ObjectiveStatus": objective,
        }
        for name, status, objective in summaries
    ]
    stubber = Stubber(clients.sagemaker())
    stubber.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {"TrainingJobSummaries": listed},
        {"HyperParameterTuningJobName": NAMES.tuning_job},
    )
    stubber.activate()


def _script_run() -> dict[str, Any]:
    run = make_run("binary")
    image = "683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    run["tuning"]["script"] = {
        "entry_point": "train.py",
        "source": f"s3://{ARTIFACTS_BUCKET}/{SOURCE_KEY}",
        "framework": "sklearn",
        "framework_version": "1.9-0",
        "image": image,
    }
    return dict(run)


def test_a_scripts_model_is_served_with_its_code_by_its_frameworks_container(context, s3):
    # Given a script run whose best trial saved a model (and, stale, a code folder of its own)
    run = _script_run()
    model_key = f"jobs/{NAMES.run_id}/tuning/best-007/output/model.tar.gz"
    s3.put_object(
        Bucket=ARTIFACTS_BUCKET,
        Key=model_key,
        Body=_tar({"model.joblib": b"weights", "code/old.py": b"stale"}),
    )
    s3.put_object(
        Bucket=ARTIFACTS_BUCKET,
        Key=SOURCE_KEY,
        Body=_tar({"train.py": b"def model_fn(d): ...", "lib/u.py": b""}),
    )
    tuned = {
        **TUNING_OK,
        "best_training_job": "best-007",
        "model_data": f"s3://{ARTIFACTS_BUCKET}/{model_key}",
    }
    _trials(("best-007", "Completed", "Succeeded"))

    plan = lambda_handler({"run": run, "candidates": [tuned, AUTOPILOT_OK]}, context)

    # Then its model runs the framework's image with the script as SAGEMAKER_PROGRAM, the code in the model
    (container,) = plan["models"][0]["Containers"]
    repacked = f"jobs/{NAMES.run_id}/tuning/best-007/deploy/model.tar.gz"
    assert container == {
        "Image": run["tuning"]["script"]["image"],
        "ModelDataUrl": f"s3://{ARTIFACTS_BUCKET}/{repacked}",
        "Environment": {
            "SAGEMAKER_PROGRAM": "train.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
            "SAGEMAKER_REGION": "eu-west-1",
            "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
        },
    }
    put = s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=repacked)
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == ENV["KEY_ARN"]
    with tarfile.open(fileobj=io.BytesIO(put["Body"].read())) as tar:
        assert sorted(tar.getnames()) == ["code/lib/u.py", "code/train.py", "model.joblib"]
    # And the report learns what the tuning finalist is, with nothing to say about its trials
    assert plan["finalists"][0]["script"] == {
        "entry_point": "train.py",
        "framework": "sklearn",
        "framework_version": "1.9-0",
    }
    assert "notes" not in plan


def test_a_failed_script_tuning_repacks_nothing_and_says_which_regex_matched_nothing_where(context, s3):
    # Given a script run whose trials completed without printing what the objective's regex matches
    run = _script_run()
    run["tuning"]["algorithm"]["MetricDefinitions"] = [{"Name": "validation:auc", "Regex": "auc=([0-9.]+)"}]
    _trials(("t-001", "Completed", "Failed"), ("t-002", "Failed", "Failed"), ("t-003", "Completed", "Failed"))

    plan = lambda_handler({"run": run, "candidates": [TUNING_FAILED, AUTOPILOT_OK]}, context)

    # Then Autopilot is the only finalist, nothing was repacked, and the plan says why tuning had nothing
    assert [f["variant"] for f in plan["finalists"]] == ["Autopilot"]
    assert "Contents" not in s3.list_objects_v2(Bucket=ARTIFACTS_BUCKET, Prefix="jobs/")
    assert plan["notes"] == [
        "the objective validation:auc's regex 'auc=([0-9.]+)' matched nothing in the output of 2 completed "
        "trial(s): t-001, t-003; make the script print a line it matches (its one group the value), or fix "
        "the regex"
    ]


def test_when_nothing_can_be_deployed_the_failure_says_which_regex_matched_nothing(context, s3):
    _trials(("t-001", "Completed", "Failed"))
    with pytest.raises(NoFinalist, match=r"tuning failed: .*; the objective validation:auc's regex"):
        lambda_handler({"run": _script_run(), "candidates": [TUNING_FAILED, AUTOPILOT_FAILED]}, context)
