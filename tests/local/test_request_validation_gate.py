"""The local AWS refuses, with AWS's error code and wording, requests moto alone would accept."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.local.validation.test_request_validation import tuning_request


def _refusal(call, **params) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_an_endpoint_only_training_instance_type_is_refused_at_its_path(local_aws) -> None:
    # Given a tuning request like the stack's, but with an endpoint-only instance type for training
    request = tuning_request()
    request["TrainingJobDefinition"]["ResourceConfig"]["InstanceType"] = "ml.t2.medium"
    # When it reaches the local AWS, Then SageMaker's ValidationException names the member path
    code, message = _refusal(local_aws.client("sagemaker").create_hyper_parameter_tuning_job, **request)
    assert code == "ValidationException"
    assert message.startswith(
        "1 validation error detected: Value 'ml.t2.medium' at "
        "'trainingJobDefinition.resourceConfig.instanceType' failed to satisfy constraint: "
        "Member must satisfy enum value set: ["
    )
    # And nothing was created
    names = local_aws.client("sagemaker").list_hyper_parameter_tuning_jobs()[
        "HyperParameterTuningJobSummaries"
    ]
    assert request["HyperParameterTuningJobName"] not in [n["HyperParameterTuningJobName"] for n in names]


def test_a_local_storage_instance_with_a_volume_key_is_refused(local_aws) -> None:
    request = tuning_request()
    request["TrainingJobDefinition"]["ResourceConfig"]["InstanceType"] = "ml.g4dn.xlarge"
    code, message = _refusal(local_aws.client("sagemaker").create_hyper_parameter_tuning_job, **request)
    assert code == "ValidationException"
    assert "VolumeKmsKeyId" in message


def test_an_execution_name_over_80_characters_is_refused(local_aws) -> None:
    # Given any state machine ARN (the name is checked before the machine is looked up)
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:none"
    code, message = _refusal(
        local_aws.client("stepfunctions").start_execution, stateMachineArn=arn, name="n" * 81
    )
    assert code == "ValidationException"
    assert (
        "at 'name' failed to satisfy constraint: Member must have length less than or equal to 80" in message
    )


def test_a_valid_request_still_reaches_the_service(local_aws) -> None:
    # A name the model accepts gets the service's own answer (no such machine), not a validation error
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:none"
    code, _ = _refusal(local_aws.client("stepfunctions").start_execution, stateMachineArn=arn, name="ok")
    assert code == "StateMachineDoesNotExist"
