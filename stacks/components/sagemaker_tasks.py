"""Step Functions tasks that call SageMaker, with the retry policy and security flags in one place."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from contracts.dataset_layout import RAW_CONTENT_TYPE
from contracts.run import run_path

ERROR_PATH = "$.error"
# SageMaker's service model declares only ConflictException, ResourceAlreadyExists, ResourceInUse,
# ResourceLimitExceeded and ResourceNotFound. The aws-sdk integration names every other error
# SageMaker.SageMakerException: a throttle or an internal error, but also a validation error or an access
# denial. A Retry cannot tell them apart; the Cause can ("<message> (Service: SageMaker, Status Code: …)").
UNMODELLED_ERROR = "SageMaker.SageMakerException"
TRANSIENT_CAUSES = ("*Rate exceeded*", "*Throttl*", "*Status Code: 5*")


def _transient(cause_path: str) -> sfn.Condition:
    return sfn.Condition.and_(
        sfn.Condition.is_present(cause_path),
        sfn.Condition.or_(*(sfn.Condition.string_matches(cause_path, p) for p in TRANSIENT_CAUSES)),
    )


def sdk_call(
    scope: Construct,
    id: str,
    action: str,
    *,
    parameters: dict[str, Any],
    resources: list[str],
    failure: sfn.IChainable,
    result_selector: dict[str, Any] | None = None,
    result_path: str | None = sfn.JsonPath.DISCARD,
) -> sfn.Chain:
    """One aws-sdk:sagemaker call, IAM-scoped to `resources`; only a transient error is tried again.

    A permanent error (validation, access, quota, a name in use) goes to `failure` at once. A throttle or an
    internal error leads to `<id>Again`, which retries with backoff: the same request met a transient error,
    so a permanent one cannot follow, and a create that had succeeded meets ResourceInUse, never a second job.
    """

    def call(name: str) -> tasks.CallAwsService:
        return tasks.CallAwsService(
            scope,
            name,
            service="sagemaker",
            action=action,
            parameters=parameters,
            iam_resources=resources,
            iam_action=f"sagemaker:{action[0].upper()}{action[1:]}",
            result_selector=result_selector,
            result_path=result_path,
        )

    first, again = call(id), call(f"{id}Again")
    again.add_retry(errors=[UNMODELLED_ERROR], interval=Duration.seconds(5), backoff_rate=2, max_attempts=4)
    again.add_catch(failure, result_path=ERROR_PATH)
    pause = sfn.Wait(scope, f"Before{id}Again", time=sfn.WaitTime.duration(Duration.seconds(2)))
    transient = sfn.Choice(scope, f"Is{id}ErrorTransient")
    transient.when(_transient(f"{ERROR_PATH}.Cause"), pause.next(again)).otherwise(failure)
    first.add_catch(transient, errors=[UNMODELLED_ERROR], result_path=ERROR_PATH)
    first.add_catch(failure, result_path=ERROR_PATH)
    return sfn.Chain.custom(first, [first, again], again)


def tuning_job_state(
    *, role_arn: str, key_arn: str, timeout: Duration, warm_start: bool = False
) -> dict[str, Any]:
    """The createHyperParameterTuningJob.sync state (CDK has no task class for it).

    What a run may change comes from the run's `tuning`: ranges, budget, strategy, instance type, spot, and
    what it trains (ValidateInput picks the image, built-in XGBoost's or a script's framework's, from the
    stack's and the SageMaker SDK's tables; the channels; MetricDefinitions). What security depends on
    (role, KMS, network isolation, encryption) is fixed here. A warm start's state also passes the run's
    WarmStartConfig: a path to it in a cold start's state would fail the execution (States.Runtime), so the
    two starts are two states built here alike.
    """
    warm = {"WarmStartConfig.$": run_path("tuning", "warm_start")} if warm_start else {}
    return {
        "Type": "Task",
        "Resource": f"arn:{Aws.PARTITION}:states:::sagemaker:createHyperParameterTuningJob.sync",
        "TimeoutSeconds": int(timeout.to_seconds()),
        "Parameters": {
            "HyperParameterTuningJobName.$": run_path("names", "tuning_job"),
            **warm,
            "HyperParameterTuningJobConfig.$": run_path("tuning", "config"),
            "TrainingJobDefinition": {
                "AlgorithmSpecification.$": run_path("tuning", "algorithm"),
                "RoleArn": role_arn,
                "StaticHyperParameters.$": run_path("tuning", "static_hyperparameters"),
                "InputDataConfig.$": run_path("tuning", "input_data_config"),
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
