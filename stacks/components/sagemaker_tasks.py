"""Step Functions tasks that call SageMaker, with the retry policy and security flags in one place."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from contracts.dataset_layout import NUMERIC_CONTENT_TYPE, RAW_CONTENT_TYPE
from contracts.run import run_path

# aws-sdk integrations name errors after the service's exceptions; unmodelled ones (throttling)
# arrive as SageMaker.SageMakerException. Quota (ResourceLimitExceeded) and name collisions
# (ResourceInUse) are modelled and deliberately absent: retrying them cannot help.
SDK_TRANSIENT_ERRORS = [
    "SageMaker.SageMakerException",
    "SageMaker.ThrottlingException",
    "SageMaker.InternalFailureException",
    "SageMaker.ServiceUnavailableException",
]


def with_retry(task: sfn.TaskStateBase, errors: list[str]) -> None:
    """Retry transient errors with backoff (as AWS's own tests: 5 s, doubling, 5 attempts)."""
    task.add_retry(errors=errors, interval=Duration.seconds(5), backoff_rate=2, max_attempts=5)


def sdk_call(
    scope: Construct,
    id: str,
    action: str,
    *,
    parameters: dict[str, Any],
    resources: list[str],
    result_selector: dict[str, Any] | None = None,
    result_path: str | None = sfn.JsonPath.DISCARD,
) -> tasks.CallAwsService:
    """One aws-sdk:sagemaker call, IAM-scoped to `resources`, retried on transient errors."""
    task = tasks.CallAwsService(
        scope,
        id,
        service="sagemaker",
        action=action,
        parameters=parameters,
        iam_resources=resources,
        iam_action=f"sagemaker:{action[0].upper()}{action[1:]}",
        result_selector=result_selector,
        result_path=result_path,
    )
    with_retry(task, SDK_TRANSIENT_ERRORS)
    return task


def training_channel(name: str) -> dict[str, Any]:
    """A File-mode training channel: the dataset's channel of that name, numeric CSV."""
    return {
        "ChannelName": name,
        "ContentType": NUMERIC_CONTENT_TYPE,
        "CompressionType": "None",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri.$": run_path("dataset", name),
                "S3DataDistributionType": "FullyReplicated",
            }
        },
    }


def tuning_job_state(*, image: str, role_arn: str, key_arn: str, timeout: Duration) -> dict[str, Any]:
    """The createHyperParameterTuningJob.sync state (CDK has no task class for it).

    What a run may change (ranges, budget, strategy, instance type, spot) comes from the run's `tuning`;
    what security depends on (image, role, KMS, isolation, encryption) is fixed here.
    """
    return {
        "Type": "Task",
        "Resource": f"arn:{Aws.PARTITION}:states:::sagemaker:createHyperParameterTuningJob.sync",
        "TimeoutSeconds": int(timeout.to_seconds()),
        "Parameters": {
            "HyperParameterTuningJobName.$": run_path("names", "tuning_job"),
            "HyperParameterTuningJobConfig.$": run_path("tuning", "config"),
            "TrainingJobDefinition": {
                "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
                "RoleArn": role_arn,
                "StaticHyperParameters.$": run_path("tuning", "static_hyperparameters"),
                "InputDataConfig": [training_channel("train"), training_channel("validation")],
                "OutputDataConfig": {
                    "S3OutputPath.$": run_path("tuning", "output_path"),
                    "KmsKeyId": key_arn,
                },
                "ResourceConfig": {
                    "InstanceType.$": run_path("tuning", "resource_config", "InstanceType"),
                    "InstanceCount": 1,
                    "VolumeSizeInGB.$": run_path("tuning", "resource_config", "VolumeSizeInGB"),
                    "VolumeKmsKeyId": key_arn,
                },
                "StoppingCondition.$": run_path("tuning", "stopping_condition"),
                "EnableManagedSpotTraining.$": run_path("tuning", "use_spot"),
                "EnableNetworkIsolation": True,
                "EnableInterContainerTrafficEncryption": True,
            },
            "Tags.$": run_path("tags"),
        },
        "ResultSelector": {
            "job.$": "$.HyperParameterTuningJobName",
            "best_training_job.$": "$.BestTrainingJob.TrainingJobName",
            "objective.$": "$.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric",
            "hyperparameters.$": "$.BestTrainingJob.TunedHyperParameters",
            "counters.$": "$.TrainingJobStatusCounters",
        },
        "ResultPath": "$.tuning",
    }


def automl_job_parameters(*, role_arn: str, key_arn: str) -> dict[str, Any]:
    """createAutoMLJobV2 request: tabular, our KMS key and encryption, never its own deployment."""
    return {
        "AutoMLJobName": sfn.JsonPath.string_at(run_path("names", "automl_job")),
        "AutoMLJobInputDataConfig": [
            {
                "ChannelType": "training",
                "ContentType": RAW_CONTENT_TYPE,
                "CompressionType": "None",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": sfn.JsonPath.string_at(run_path("dataset", "autopilot")),
                    }
                },
            }
        ],
        "OutputDataConfig": {
            "S3OutputPath": sfn.JsonPath.string_at(run_path("autopilot", "output_path")),
            "KmsKeyId": key_arn,
        },
        "AutoMLProblemTypeConfig": sfn.JsonPath.object_at(run_path("autopilot", "problem_type_config")),
        "AutoMLJobObjective": sfn.JsonPath.object_at(run_path("autopilot", "objective")),
        "RoleArn": role_arn,
        "SecurityConfig": {"VolumeKmsKeyId": key_arn, "EnableInterContainerTrafficEncryption": True},
        "Tags": sfn.JsonPath.list_at(run_path("tags")),
    }
