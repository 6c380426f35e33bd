"""Step Functions' SageMaker integrations against the local SageMaker (moto's ASL interpreter)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.local.sagemaker.conftest import REGION, ROLE, XGB_IMAGE, training_request, wait_until
from tests.local.sagemaker.test_sagemaker_tuning import tuning_request

SFN_ROLE = "arn:aws:iam::123456789012:role/sfn"


def run_machine(definition: dict[str, Any], payload: dict[str, Any], name: str) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=SFN_ROLE)
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps(payload))

    def finished() -> dict[str, Any] | None:
        d: dict[str, Any] = dict(sfn.describe_execution(executionArn=execution["executionArn"]))
        return d if d["status"] != "RUNNING" else None

    result: dict[str, Any] = wait_until(finished, timeout=240, interval=0.3)
    return result


def caught(resource: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A one-task machine whose Catch puts the error into the output."""
    return {
        "StartAt": "Task",
        "States": {
            "Task": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": parameters,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught", "ResultPath": "$.error"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def test_create_training_job_sync_waits_and_returns_the_description(aws, dataset):
    request = training_request("sfn-train", dataset["prefix"])
    definition = {
        "StartAt": "Train",
        "States": {
            "Train": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                "Parameters": request,
                "ResultSelector": {
                    "status.$": "$.TrainingJobStatus",
                    "model.$": "$.ModelArtifacts.S3ModelArtifacts",
                    "created.$": "$.CreationTime",
                },
                "End": True,
            }
        },
    }

    execution = run_machine(definition, {}, "sfn-train")

    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["status"] == "Completed"
    assert output["model"].endswith("/sfn-train/output/model.tar.gz")
    assert isinstance(output["created"], int)  # epoch millis, as Step Functions renders SageMaker times


def test_failed_tuning_job_sync_is_states_task_failed_with_the_description(aws, dataset):
    request = tuning_request(
        "sfn-tune-fail",
        dataset["prefix"],
        ResourceLimits={"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1},
    )
    request["TrainingJobDefinition"]["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"] = (
        f"{dataset['prefix']}/empty/"
    )
    definition = caught("arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync", request)

    execution = run_machine(definition, {}, "sfn-tune-fail")

    error = json.loads(execution["output"])["error"]
    assert error["Error"] == "States.TaskFailed"
    cause = json.loads(error["Cause"])
    assert cause["HyperParameterTuningJobStatus"] == "Failed"
    assert "No training job succeeded" in cause["FailureReason"]


def test_request_response_tasks_create_model_config_and_endpoint(aws, dataset):
    sm = boto3.client("sagemaker", region_name=REGION)
    sm.create_training_job(**training_request("sfn-model-src", dataset["prefix"]))
    model_url = wait_until(
        lambda: (
            (d := sm.describe_training_job(TrainingJobName="sfn-model-src"))["TrainingJobStatus"]
            == "Completed"
            and d["ModelArtifacts"]["S3ModelArtifacts"]
        )
    )
    definition = {
        "StartAt": "Model",
        "States": {
            "Model": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createModel",
                "Parameters": {
                    "ModelName": "sfn-model",
                    "ExecutionRoleArn": ROLE,
                    "PrimaryContainer": {"Image": XGB_IMAGE, "ModelDataUrl.$": "$.url"},
                },
                "ResultPath": "$.model",
                "Next": "Config",
            },
            "Config": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createEndpointConfig",
                "Parameters": {
                    "EndpointConfigName": "sfn-config",
                    "ProductionVariants": [
                        {
                            "VariantName": "tuned",
                            "ModelName": "sfn-model",
                            "InitialInstanceCount": 1,
                            "InstanceType": "ml.m5.large",
                        }
                    ],
                },
                "ResultPath": "$.config",
                "Next": "Endpoint",
            },
            "Endpoint": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createEndpoint",
                "Parameters": {"EndpointName": "sfn-endpoint", "EndpointConfigName": "sfn-config"},
                "ResultPath": "$.endpoint",
                "Next": "Describe",
            },
            "Describe": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
                "Parameters": {"EndpointName": "sfn-endpoint"},
                "ResultSelector": {"status.$": "$.EndpointStatus"},
                "ResultPath": "$.described",
                "End": True,
            },
        },
    }

    execution = run_machine(definition, {"url": model_url}, "sfn-deploy")

    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["model"]["ModelArn"].endswith(":model/sfn-model")
    assert output["endpoint"]["EndpointArn"].endswith(":endpoint/sfn-endpoint")
    assert output["described"]["status"] in ("Creating", "InService")
    wait_until(lambda: sm.describe_endpoint(EndpointName="sfn-endpoint")["EndpointStatus"] == "InService")
    sm.delete_endpoint(EndpointName="sfn-endpoint")


def test_optimized_integration_errors_are_amazon_sagemaker_exception(aws):
    bad = {"ModelName": "x" * 64, "ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": XGB_IMAGE}}

    execution = run_machine(caught("arn:aws:states:::sagemaker:createModel", bad), {}, "sfn-bad-model")

    error = json.loads(execution["output"])["error"]
    assert error["Error"] == "SageMaker.AmazonSageMakerException"
    assert "Member must have length less than or equal to 63" in error["Cause"]


@pytest.mark.parametrize(
    ("action", "parameters", "expected"),
    [
        # ValidationException is not in SageMaker's model: the SDK's generic class names it.
        ("describeTrainingJob", {"TrainingJobName": "missing"}, "SageMaker.SageMakerException"),
        ("describeAutoMLJobV2", {"AutoMLJobName": "missing"}, "SageMaker.ResourceNotFoundException"),
    ],
)
def test_aws_sdk_errors_are_sagemaker_named_exceptions(aws, action, parameters, expected):
    definition = caught(f"arn:aws:states:::aws-sdk:sagemaker:{action}", parameters)

    execution = run_machine(definition, {}, f"sfn-sdk-{action}")

    assert json.loads(execution["output"])["error"]["Error"] == expected
