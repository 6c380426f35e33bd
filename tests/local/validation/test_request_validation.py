"""The request validator refuses what AWS refuses, in AWS's words (model constraints and documented rules)."""

from __future__ import annotations

import copy
from typing import Any

import botocore.session
import pytest

from localaws.validation.java_regex import java_regex
from localaws.validation.model import java_double, refusal, validate, validation_message
from localaws.validation.semantic import error_code, semantic_errors
from training import tuning_ranges

TUNING = "CreateHyperParameterTuningJob"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")


def channel(name: str, uri: str) -> dict[str, Any]:
    """A File-mode S3 prefix channel, as the stack's tuning state sends it."""
    return {
        "ChannelName": name,
        "ContentType": "text/csv",
        "CompressionType": "None",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
    }


def tuning_request() -> dict[str, Any]:
    """A CreateHyperParameterTuningJob request shaped like the one the stack's state machine sends."""
    return {
        "HyperParameterTuningJobName": "mls-tune-20261122-abcdef",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 8, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": tuning_ranges.parameter_ranges(tuning_ranges.DEFAULT_RANGES),
            "TrainingJobEarlyStoppingType": "Auto",
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {
                "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                "TrainingInputMode": "File",
            },
            "RoleArn": "arn:aws:iam::123456789012:role/MlStack-SageMakerRole",
            "StaticHyperParameters": {
                "objective": "binary:logistic",
                "eval_metric": "auc",
                "early_stopping_rounds": "10",
            },
            "InputDataConfig": [
                channel("train", "s3://data-bucket/datasets/bank/train/"),
                channel("validation", "s3://data-bucket/datasets/bank/validation/"),
            ],
            "OutputDataConfig": {"S3OutputPath": "s3://artifacts-bucket/jobs/r1/tuning/", "KmsKeyId": KEY},
            "ResourceConfig": {
                "InstanceType": "ml.m5.xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 30,
                "VolumeKmsKeyId": KEY,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "EnableManagedSpotTraining": False,
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
        },
        "Tags": [
            {"Key": "mlstack:stack", "Value": "MlStack-test"},
            {"Key": "mlstack:expires", "Value": "2026-11-22T09:00:00Z"},
        ],
    }


def with_changes(**paths: Any) -> dict[str, Any]:
    """The stack's tuning request with `A__B__C=value` set (or removed when value is ...)."""
    request = copy.deepcopy(tuning_request())
    for path, value in paths.items():
        *parents, last = path.split("__")
        node = request
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return request


def enum_text(shape: str) -> str:
    return ", ".join(SAGEMAKER.shape_for(shape).enum)


# --- model constraints -----------------------------------------------------------------------------
def test_the_stacks_tuning_request_passes() -> None:
    # Given the tuning request the stack sends
    request = tuning_request()
    # When it is validated against the model and the documented rules
    errors = validate("sagemaker", TUNING, request) + semantic_errors("sagemaker", TUNING, request)
    # Then nothing refuses it
    assert errors == []
    assert refusal("sagemaker", TUNING, request) is None


def test_an_instance_type_outside_the_enum_is_refused_at_its_path() -> None:
    # Given a training instance type SageMaker does not train on
    request = with_changes(TrainingJobDefinition__ResourceConfig__InstanceType="ml.t2.medium")
    # When it is validated
    errors = validate("sagemaker", TUNING, request)
    # Then AWS's enum sentence names the member's lowerCamelCase path and the whole value set
    assert errors == [
        "Value 'ml.t2.medium' at 'trainingJobDefinition.resourceConfig.instanceType' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{enum_text('TrainingInstanceType')}]"
    ]
    assert refusal("sagemaker", TUNING, request) == ("ValidationException", validation_message(errors))


def test_a_33_character_tuning_job_name_is_too_long() -> None:
    # Given a tuning job name one character over the limit of 32
    name = "a" * 33
    # When it is validated
    errors = validate("sagemaker", TUNING, with_changes(HyperParameterTuningJobName=name))
    # Then it breaks the length and the pattern (whose {0,31} caps it too): two sentences, counted
    at = f"Value '{name}' at 'hyperParameterTuningJobName' failed to satisfy constraint: "
    assert errors == [
        at + "Member must have length less than or equal to 32",
        at + "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}",
    ]
    assert validation_message(errors) == "2 validation errors detected: " + "; ".join(errors)


def test_a_missing_required_member_must_not_be_null() -> None:
    # Given a training job definition without its role
    request = with_changes(TrainingJobDefinition__RoleArn=...)
    # When it is validated
    errors = validate("sagemaker", TUNING, request)
    # Then AWS reports a null at the member's path
    assert errors == [
        "Value null at 'trainingJobDefinition.roleArn' failed to satisfy constraint: Member must not be null"
    ]


@pytest.mark.parametrize(
    ("member", "value", "constraint"),
    [
        ("MaxParallelTrainingJobs", 0, "Member must have value greater than or equal to 1"),
        ("MaxRuntimeInSeconds", 15768001, "Member must have value less than or equal to 15768000"),
    ],
)
def test_a_number_out_of_range(member: str, value: int, constraint: str) -> None:
    # Given a resource limit outside its documented range
    request = with_changes(**{f"HyperParameterTuningJobConfig__ResourceLimits__{member}": value})
    # When it is validated
    errors = validate("sagemaker", TUNING, request)
    # Then the value is quoted as Java prints it, with the range sentence
    camel = member[0].lower() + member[1:]
    assert errors == [
        f"Value '{value}' at 'hyperParameterTuningJobConfig.resourceLimits.{camel}' failed to satisfy "
        f"constraint: {constraint}"
    ]


def test_a_name_breaking_the_pattern() -> None:
    # Given a tuning job name with an underscore, which the name pattern does not allow
    errors = validate("sagemaker", TUNING, with_changes(HyperParameterTuningJobName="tune_job"))
    # Then the pattern is printed as the model (and AWS) spells it
    assert errors == [
        "Value 'tune_job' at 'hyperParameterTuningJobName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}"
    ]


def test_list_members_are_counted_from_one() -> None:
    # Given a second channel whose name has a space and an unknown input mode
    request = with_changes(TrainingJobDefinition__InputDataConfig__1__ChannelName="valid ation")
    request["TrainingJobDefinition"]["InputDataConfig"][1]["InputMode"] = "fastfile"
    # When it is validated
    errors = validate("sagemaker", TUNING, request)
    # Then both sentences name `inputDataConfig.2.member`, as SageMaker does
    assert errors == [
        "Value 'valid ation' at 'trainingJobDefinition.inputDataConfig.2.member.channelName' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9\\.\\-_]+",
        "Value 'fastfile' at 'trainingJobDefinition.inputDataConfig.2.member.inputMode' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{enum_text('TrainingInputMode')}]",
    ]


def test_java_unicode_classes_in_tag_patterns() -> None:
    # Given one tag key with accented letters and one with a character outside the tag alphabet
    tags = [{"Key": "équipe", "Value": "données 1"}, {"Key": "team!", "Value": "x"}]
    # When the request is validated
    errors = validate("sagemaker", TUNING, with_changes(Tags=tags))
    # Then \p{L} accepts the letters and only the second key is refused
    assert errors == [
        "Value 'team!' at 'tags.2.member.key' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: ([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)"
    ]


def test_map_values_are_reported_once_on_the_map() -> None:
    # Given a static hyperparameter value longer than 2500 characters
    long_value = "x" * 2501
    request = with_changes(TrainingJobDefinition__StaticHyperParameters={"objective": long_value})
    # When it is validated
    errors = validate("sagemaker", TUNING, request)
    # Then the whole map is printed as Java prints a map, with every constraint of its values
    assert errors == [
        f"Value '{{objective={long_value}}}' at 'trainingJobDefinition.staticHyperParameters' failed to "
        "satisfy constraint: Map value must satisfy constraint: [Member must have length less than or "
        "equal to 2500, Member must have length greater than or equal to 0, Member must satisfy regular "
        "expression pattern: .*]"
    ]


def test_a_list_of_structures_over_its_length() -> None:
    # Given 51 tags, one over the limit
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    # When the request is validated
    errors = validate("sagemaker", TUNING, with_changes(Tags=tags))
    # Then the list prints each structure as Shape(member=value)
    shown = ", ".join(f"Tag(key=k{i}, value=v)" for i in range(51))
    assert errors == [
        f"Value '[{shown}]' at 'tags' failed to satisfy constraint: "
        "Member must have length less than or equal to 50"
    ]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "HyperParameterTuningJobConfig__ResourceLimits__MaxParallelTrainingJobs",
            "2",
            "STRING_VALUE can not be converted to an Integer",
        ),
        (
            "HyperParameterTuningJobConfig__ResourceLimits__MaxParallelTrainingJobs",
            True,
            "TRUE_VALUE can not be converted to an Integer",
        ),
        ("HyperParameterTuningJobName", 7, "NUMBER_VALUE can not be converted to a String"),
        (
            "TrainingJobDefinition__EnableNetworkIsolation",
            "true",
            "STRING_VALUE can not be converted to an Boolean",
        ),
        ("TrainingJobDefinition__ResourceConfig", [], "Start of list found where not expected"),
        ("TrainingJobDefinition__InputDataConfig", {}, "Start of structure or map found where not expected."),
        ("TrainingJobDefinition__InputDataConfig", "train", "Expected list or null"),
        ("TrainingJobDefinition__StaticHyperParameters", "x", "Expected map or null"),
        ("TrainingJobDefinition__StoppingCondition", 3600, "Expected null"),
    ],
)
def test_a_wrong_type_is_a_serialization_error(path: str, value: Any, message: str) -> None:
    # Given a member of the wrong JSON type
    request = with_changes(**{path: value})
    # When it is validated
    errors = validate("sagemaker", TUNING, request)
    # Then the message is Coral's deserialization message, answered as a SerializationException
    assert errors == [message]
    assert refusal("sagemaker", TUNING, request) == ("SerializationException", message)


def test_an_unknown_member_is_named_as_botocore_names_it_and_ignored_by_refusal() -> None:
    # Given a member ResourceConfig does not have
    request = with_changes(TrainingJobDefinition__ResourceConfig__InstanceSize="large")
    # When it is validated
    errors = validate("sagemaker", TUNING, request)
    # Then it is reported with the members the model knows, but AWS (which ignores it) would accept it
    names = ", ".join(SAGEMAKER.shape_for("ResourceConfig").members)
    assert errors == [
        f'Unknown parameter in TrainingJobDefinition.ResourceConfig: "InstanceSize", must be one of: {names}'
    ]
    assert refusal("sagemaker", TUNING, request) is None


def test_two_errors_are_joined() -> None:
    # Given a name breaking the pattern and a parallel limit below 1
    request = with_changes(
        HyperParameterTuningJobName="tune_job",
        HyperParameterTuningJobConfig__ResourceLimits__MaxParallelTrainingJobs=0,
    )
    # When its message is built
    message = validation_message(validate("sagemaker", TUNING, request))
    # Then both sentences follow AWS's count, in the model's order, joined by "; "
    assert message == (
        "2 validation errors detected: "
        "Value 'tune_job' at 'hyperParameterTuningJobName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}; "
        "Value '0' at 'hyperParameterTuningJobConfig.resourceLimits.maxParallelTrainingJobs' failed to "
        "satisfy constraint: Member must have value greater than or equal to 1"
    )
    assert validation_message([]) is None


def test_an_automl_job_name_over_32_characters() -> None:
    # Given a CreateAutoMLJobV2 request whose name has 33 characters
    name = "c" * 33
    request = {
        "AutoMLJobName": name,
        "AutoMLJobInputDataConfig": [
            {
                "ChannelType": "training",
                "ContentType": "text/csv;header=present",
                "CompressionType": "None",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data/autopilot/"}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://artifacts/autopilot/", "KmsKeyId": KEY},
        "AutoMLProblemTypeConfig": {"TabularJobConfig": {"TargetAttributeName": "y"}},
        "RoleArn": "arn:aws:iam::123456789012:role/MlStack-SageMakerRole",
    }
    # When it is validated
    errors = validate("sagemaker", "CreateAutoMLJobV2", request)
    # Then the model's limit of 32 refuses it (and the name pattern, which allows 32 at most)
    at = f"Value '{name}' at 'autoMLJobName' failed to satisfy constraint: "
    assert errors == [
        at + "Member must have length less than or equal to 32",
        at + "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}",
    ]


# --- Step Functions --------------------------------------------------------------------------------
ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:MlStack"


def test_an_execution_name_of_81_characters() -> None:
    # Given execution names of 80 and 81 characters
    at_limit, over = "n" * 80, "n" * 81
    # When they are validated
    accepted = validate("stepfunctions", "StartExecution", {"stateMachineArn": ARN, "name": at_limit})
    refused = validate("stepfunctions", "StartExecution", {"stateMachineArn": ARN, "name": over})
    # Then only the longer one is refused, with the model's limit
    assert accepted == []
    assert refused == [
        f"Value '{over}' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 80"
    ]


def test_an_oversized_execution_input_is_measured_in_utf8_bytes_and_not_printed() -> None:
    # Given an input of 262144 UTF-8 bytes plus one (131072 two-byte characters and one more)
    payload = "é" * 131072 + "x"
    # When it is validated
    errors = validate("stepfunctions", "StartExecution", {"stateMachineArn": ARN, "input": payload})
    # Then AWS's sentence speaks of size in bytes and hides the sensitive value
    assert errors == [
        "Value at 'input' failed to satisfy constraint: Member must have size less than or equal to 262144 "
        "bytes in UTF-8 encoding"
    ]


@pytest.mark.parametrize("name", ["a b", "run/1", "x\u0085", "tab\there", "q?", "braces{}"])
def test_an_execution_name_with_a_forbidden_character(name: str) -> None:
    # Given a name the model accepts but the documentation forbids
    request = {"stateMachineArn": ARN, "name": name}
    assert validate("stepfunctions", "StartExecution", request) == []
    # When the documented rules run
    errors = semantic_errors("stepfunctions", "StartExecution", request)
    # Then Step Functions answers InvalidName
    assert errors == [f"Invalid Name: '{name}'"]
    assert error_code("stepfunctions", "StartExecution") == "InvalidName"


def test_an_allowed_execution_name() -> None:
    # Given a name of letters, digits, dashes, dots and underscores
    request = {"stateMachineArn": ARN, "name": "nightly-2026-11-22_run.1"}
    # Then neither the model nor the rules refuse it
    assert validate("stepfunctions", "StartExecution", request) == []
    assert semantic_errors("stepfunctions", "StartExecution", request) == []


# --- documented SageMaker rules --------------------------------------------------------------------
def test_more_parallel_than_total_training_jobs() -> None:
    # Given 10 parallel jobs out of 8
    request = with_changes(HyperParameterTuningJobConfig__ResourceLimits__MaxParallelTrainingJobs=10)
    # When the documented rules run
    errors = semantic_errors("sagemaker", TUNING, request)
    # Then the parallel limit is refused
    assert errors == [
        "Invalid MaxParallelTrainingJobs 10. It must be less than or equal to MaxNumberOfTrainingJobs 8."
    ]
    assert error_code("sagemaker", TUNING) == "ValidationException"


@pytest.mark.parametrize(("early_stopping", "refused"), [("Auto", True), ("Off", False), (..., False)])
def test_hyperband_needs_early_stopping_off(early_stopping: Any, refused: bool) -> None:
    # Given a Hyperband tuning job with early stopping Auto, Off or absent
    request = with_changes(
        HyperParameterTuningJobConfig__Strategy="Hyperband",
        HyperParameterTuningJobConfig__TrainingJobEarlyStoppingType=early_stopping,
    )
    # When the documented rules run
    errors = semantic_errors("sagemaker", TUNING, request)
    # Then only Auto is refused
    expected = ["Invalid TrainingJobEarlyStoppingType Auto. It must be OFF to use Hyperband."]
    assert errors == (expected if refused else [])


@pytest.mark.parametrize(
    ("stopping", "refused"),
    [
        ({"MaxRuntimeInSeconds": 3600}, True),
        ({"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 1800}, True),
        ({"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 3600}, False),
        ({"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}, False),
    ],
)
def test_managed_spot_needs_a_wait_at_least_the_runtime(stopping: dict[str, int], refused: bool) -> None:
    # Given managed spot training with a stopping condition
    request = with_changes(
        TrainingJobDefinition__EnableManagedSpotTraining=True,
        TrainingJobDefinition__StoppingCondition=stopping,
    )
    # When the documented rules run
    errors = semantic_errors("sagemaker", TUNING, request)
    # Then a wait that is missing or shorter than the runtime is refused
    expected = ["Invalid MaxWaitTimeInSeconds. It must be equal to or greater than MaxRuntimeInSeconds"]
    assert errors == (expected if refused else [])


def test_a_wait_time_without_managed_spot() -> None:
    # Given a wait time on a definition that does not use managed spot
    request = with_changes(
        TrainingJobDefinition__StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    )
    # When the documented rules run
    errors = semantic_errors("sagemaker", TUNING, request)
    # Then SageMaker's own sentence refuses it
    assert errors == [
        "Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining is set to true"
    ]


@pytest.mark.parametrize(("instance_type", "refused"), [("ml.g5.xlarge", True), ("ml.m5.xlarge", False)])
def test_a_volume_key_with_local_instance_storage(instance_type: str, refused: bool) -> None:
    # Given a volume KMS key on an instance type with (g5) or without (m5) local NVMe storage
    request = with_changes(TrainingJobDefinition__ResourceConfig__InstanceType=instance_type)
    # When the model and the documented rules run
    assert validate("sagemaker", TUNING, request) == []
    errors = semantic_errors("sagemaker", TUNING, request)
    # Then only the type with local storage is refused
    expected = [
        "Invalid VolumeKmsKeyId. You can't request a VolumeKmsKeyId when using an instance type with local "
        "storage (ml.g5.xlarge)"
    ]
    assert errors == (expected if refused else [])


def test_a_volume_key_is_fine_without_a_key() -> None:
    # Given a local-storage instance type and no volume key
    request = with_changes(
        TrainingJobDefinition__ResourceConfig__InstanceType="ml.g5.xlarge",
        TrainingJobDefinition__ResourceConfig__VolumeKmsKeyId=...,
    )
    # Then the documented rules accept it
    assert semantic_errors("sagemaker", TUNING, request) == []


@pytest.mark.parametrize(("instance_type", "refused"), [("ml.g5.xlarge", True), ("ml.m5.large", False)])
def test_an_endpoint_key_with_local_instance_storage(instance_type: str, refused: bool) -> None:
    # Given an endpoint configuration with a KMS key and one production variant
    request = {
        "EndpointConfigName": "mls-endpoint-config",
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": "mls-model",
                "InitialInstanceCount": 1,
                "InstanceType": instance_type,
            }
        ],
        "KmsKeyId": KEY,
    }
    # When the model and the documented rules run
    assert validate("sagemaker", "CreateEndpointConfig", request) == []
    errors = semantic_errors("sagemaker", "CreateEndpointConfig", request)
    # Then only the variant type with local storage is refused
    expected = [
        f"Invalid KmsKeyId. You can't request a KmsKeyId when using an instance type with local storage "
        f"({instance_type})"
    ]
    assert errors == (expected if refused else [])


# --- helpers the messages rely on ------------------------------------------------------------------
@pytest.mark.parametrize("service", ["sagemaker", "stepfunctions", "service-quotas"])
def test_every_pattern_of_the_stacks_services_compiles(service: str) -> None:
    # Given every pattern constraint in the service's model
    model = botocore.session.get_session().get_service_model(service)
    patterns = {model.shape_for(name).metadata.get("pattern") for name in model.shape_names} - {None}
    # When each is translated from Java's syntax and compiled
    failures = []
    for pattern in sorted(p for p in patterns if p is not None):
        try:
            java_regex(pattern)
        except ValueError as error:
            failures.append(str(error))
    # Then none needs a construct Python cannot express
    assert patterns
    assert failures == []


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*", "a\U0001f600b", True),
        ("[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*", "a\x01", False),
        ("([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)${1,128}", "abc", True),
        ("\\p{ASCII}*", "é", False),
        (".*", "line\rbreak", False),
        ("\\d+", "\u0661", False),
        ("a*+a", "aaa", False),
        ("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}", "abc-", False),
    ],
)
def test_java_pattern_semantics(pattern: str, value: str, matches: bool) -> None:
    # Given a Java pattern and a value (surrogate pairs, \p classes, quantified anchors, Java's `.`)
    # When the value is matched whole
    result = java_regex(pattern).fullmatch(value) is not None
    # Then the result is Java's
    assert result is matches


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1.0, "1.0"),
        (0.25, "0.25"),
        (1e-5, "1.0E-5"),
        (1.5e7, "1.5E7"),
        (0.001, "0.001"),
        (-2.5e10, "-2.5E10"),
    ],
)
def test_doubles_print_as_java_prints_them(number: float, text: str) -> None:
    assert java_double(number) == text


@pytest.mark.parametrize(
    ("kind", "entry", "message"),
    [
        (
            "ContinuousParameterRanges",
            {"Name": "alpha", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"},
            "Invalid ScalingType Logarithmic for hyperparameter alpha. "
            "It works only for ranges that have only values greater than 0.",
        ),
        (
            "IntegerParameterRanges",
            {"Name": "max_depth", "MinValue": "0", "MaxValue": "9", "ScalingType": "Logarithmic"},
            "Invalid ScalingType Logarithmic for hyperparameter max_depth. "
            "It works only for ranges that have only values greater than 0.",
        ),
        (
            "ContinuousParameterRanges",
            {"Name": "subsample", "MinValue": "0.5", "MaxValue": "1", "ScalingType": "ReverseLogarithmic"},
            "Invalid ScalingType ReverseLogarithmic for hyperparameter subsample. "
            "It works only for ranges that are entirely within the range 0<=x<1.0.",
        ),
        (
            "IntegerParameterRanges",
            {"Name": "max_depth", "MinValue": "1", "MaxValue": "9", "ScalingType": "ReverseLogarithmic"},
            "Invalid ScalingType ReverseLogarithmic for hyperparameter max_depth. "
            "It is supported only for continuous hyperparameters.",
        ),
    ],
)
def test_a_scaling_type_outside_the_ranges_it_works_for(
    kind: str, entry: dict[str, str], message: str
) -> None:
    # Given a range whose scaling type does not work for its bounds or its kind
    request = with_changes(HyperParameterTuningJobConfig__ParameterRanges={kind: [entry]})
    # When the documented rules run
    errors = semantic_errors("sagemaker", TUNING, request)
    # Then the API reference's rule refuses it, naming the hyperparameter
    assert errors == [message]


@pytest.mark.parametrize(
    ("kind", "entry"),
    [
        (
            "ContinuousParameterRanges",
            {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"},
        ),
        (
            "ContinuousParameterRanges",
            {"Name": "subsample", "MinValue": "0", "MaxValue": "0.99", "ScalingType": "ReverseLogarithmic"},
        ),
        (
            "IntegerParameterRanges",
            {"Name": "num_round", "MinValue": "10", "MaxValue": "500", "ScalingType": "Logarithmic"},
        ),
        (
            "ContinuousParameterRanges",
            {"Name": "alpha", "MinValue": "0", "MaxValue": "1", "ScalingType": "Auto"},
        ),
    ],
)
def test_scaling_types_within_their_ranges_pass(kind: str, entry: dict[str, str]) -> None:
    request = with_changes(HyperParameterTuningJobConfig__ParameterRanges={kind: [entry]})
    assert semantic_errors("sagemaker", TUNING, request) == []


@pytest.mark.parametrize(
    ("strategy", "criteria", "refused"),
    [
        ("Bayesian", {"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}}, []),
        ("Random", {"ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}}, []),
        ("Grid", {"TargetObjectiveMetricValue": 0.9}, []),
        ("Hyperband", {"ConvergenceDetected": {"CompleteOnConvergence": "Disabled"}}, []),
        (
            "Grid",
            {"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}},
            [
                "Invalid BestObjectiveNotImproving. "
                "It is supported only with the Bayesian and Random strategies, not Grid."
            ],
        ),
        (
            "Hyperband",
            {"ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}},
            [
                "Invalid ConvergenceDetected. "
                "It is supported only with the Bayesian and Random strategies, not Hyperband."
            ],
        ),
    ],
)
def test_completion_criteria_only_with_the_strategies_that_take_them(
    strategy: str, criteria: dict[str, Any], refused: list[str]
) -> None:
    # Given a tuning job with a completion criterion
    request = with_changes(
        HyperParameterTuningJobConfig__Strategy=strategy,
        HyperParameterTuningJobConfig__TrainingJobEarlyStoppingType="Off",
        HyperParameterTuningJobConfig__TuningJobCompletionCriteria=criteria,
    )
    # When the model and the rules run, Then only a stop on no progress outside Bayesian/Random fails
    assert validate("sagemaker", TUNING, request) == []
    assert semantic_errors("sagemaker", TUNING, request) == refused
