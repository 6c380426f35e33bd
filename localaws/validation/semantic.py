"""Documented rules across members that botocore's models cannot express, refused in AWS's words.

AWS checks these after its model constraints (Step Functions answers a too-long execution name with
a ValidationException before it looks for the state machine, and an invalid one with InvalidName only
after), so callers run `model.validate` first and these rules on requests the model accepts.

Wording: rules whose refusal shows in public answers keep AWS's text (`Invalid MaxWaitTimeInSeconds.
It is only supported when EnableManagedSpotTraining is set to true`, SageMaker; `Invalid Name: 'a b'`,
Step Functions, error code InvalidName). No public answer shows SageMaker's text for the others, so
their message takes that `Invalid <member>. It ...` form with the API reference's words for the rule.

The pages cited: https://docs.aws.amazon.com/sagemaker/latest/APIReference/<page>.html and
https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html.

Out of reach here: Autopilot's documented minimum of 500 rows in the training dataset (CreateAutoMLJob
and CreateAutoMLJobV2 input data) is a property of the S3 data, not of the request; AutoML job names
of more than 32 characters are refused by the model (`AutoMLJobName`, max 32).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from contracts import completion
from contracts.instance_types import has_local_storage

Rule = Callable[[Mapping[str, Any]], list[str]]

_NAME_FORBIDDEN = frozenset(' <>{}[]?*"#%\\^|~`$&,;:/')
_NAME_FORBIDDEN_RANGES = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0xD800, 0xDFFF),
    (0xFFFE, 0xFFFF),
    (0x10FFFF, 0x10FFFF),
)


def _mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is an object, else an empty one (the model check reports the type)."""
    return value if isinstance(value, Mapping) else {}


def _definitions(request: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The training job definitions of a tuning request, or a CreateTrainingJob request itself."""
    if "TrainingJobDefinition" in request or "TrainingJobDefinitions" in request:
        yield _mapping(request.get("TrainingJobDefinition"))
        for definition in request.get("TrainingJobDefinitions") or []:
            yield _mapping(definition)
    else:
        yield request


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# --- CreateHyperParameterTuningJob -------------------------------------------------------------
def parallel_within_total(request: Mapping[str, Any]) -> list[str]:
    """Parallel jobs within the total (SageMaker API Reference, API_ResourceLimits)."""
    limits = _mapping(_mapping(request.get("HyperParameterTuningJobConfig")).get("ResourceLimits"))
    parallel = _number(limits.get("MaxParallelTrainingJobs"))
    total = _number(limits.get("MaxNumberOfTrainingJobs"))
    if parallel is None or total is None or parallel <= total:
        return []
    return [
        f"Invalid MaxParallelTrainingJobs {int(parallel)}. "
        f"It must be less than or equal to MaxNumberOfTrainingJobs {int(total)}."
    ]


def hyperband_without_early_stopping(request: Mapping[str, Any]) -> list[str]:
    """Hyperband stops trials itself (SageMaker API Reference, API_HyperParameterTuningJobConfig)."""
    config = _mapping(request.get("HyperParameterTuningJobConfig"))
    stopping = config.get("TrainingJobEarlyStoppingType") or "Off"
    if config.get("Strategy") != "Hyperband" or stopping == "Off":
        return []
    return [f"Invalid TrainingJobEarlyStoppingType {stopping}. It must be OFF to use Hyperband."]


def completion_criteria_fit_strategy(request: Mapping[str, Any]) -> list[str]:
    """Criteria that stop on no progress only with a sequential search (contracts.completion.STRATEGIES)."""
    config = _mapping(request.get("HyperParameterTuningJobConfig"))
    strategy = config.get("Strategy")
    given = config.get("TuningJobCompletionCriteria")
    if not isinstance(strategy, str) or not isinstance(given, Mapping):
        return []
    return [
        f"Invalid {name}. It is supported only with the "
        f"{' and '.join(completion.STRATEGIES[name])} strategies, not {strategy}."
        for name in completion.not_allowed(strategy, given)
    ]


def scaling_fits_range(request: Mapping[str, Any]) -> list[str]:
    """Each ScalingType only where it works (API_ContinuousParameterRange, API_IntegerParameterRange)."""
    found: list[str] = []
    config = _mapping(request.get("HyperParameterTuningJobConfig"))
    ranges = [_mapping(config.get("ParameterRanges"))]
    ranges += [
        _mapping(_mapping(d).get("HyperParameterRanges")) for d in request.get("TrainingJobDefinitions") or []
    ]
    for block in ranges:
        for kind in ("ContinuousParameterRanges", "IntegerParameterRanges"):
            for entry in block.get(kind) or []:
                found += _scaling_problem(kind, _mapping(entry))
    return found


def _scaling_problem(kind: str, entry: Mapping[str, Any]) -> list[str]:
    scaling, name = entry.get("ScalingType"), entry.get("Name")
    low, high = _decimal(entry.get("MinValue")), _decimal(entry.get("MaxValue"))
    if scaling == "Logarithmic" and low is not None and low <= 0:
        return [
            f"Invalid ScalingType Logarithmic for hyperparameter {name}. "
            "It works only for ranges that have only values greater than 0."
        ]
    if scaling != "ReverseLogarithmic":
        return []
    if kind == "IntegerParameterRanges":
        return [
            f"Invalid ScalingType ReverseLogarithmic for hyperparameter {name}. "
            "It is supported only for continuous hyperparameters."
        ]
    if (low is not None and low < 0) or (high is not None and high >= 1):
        return [
            f"Invalid ScalingType ReverseLogarithmic for hyperparameter {name}. "
            "It works only for ranges that are entirely within the range 0<=x<1.0."
        ]
    return []


def _decimal(value: Any) -> float | None:
    """A range bound (SageMaker takes them as strings), or None if it is not a number."""
    try:
        return float(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    except ValueError:
        return None


# Images whose algorithm defines its own metrics (SageMaker's built-in XGBoost, also its script mode's).
BUILT_IN_METRICS = ("sagemaker-xgboost",)


def objective_has_a_metric_definition(request: Mapping[str, Any]) -> list[str]:
    """The objective of a job that is no built-in algorithm must be one of its MetricDefinitions, whose regex
    finds it in the job's output (SageMaker's words, as users of the SDK's HyperparameterTuner report them
    when their estimator's metric_definitions lack the objective)."""
    config = _mapping(request.get("HyperParameterTuningJobConfig"))
    found: list[str] = []
    for definition in _definitions(request):
        objective = _mapping(
            definition.get("TuningObjective") or config.get("HyperParameterTuningJobObjective")
        )
        algorithm = _mapping(definition.get("AlgorithmSpecification"))
        image = algorithm.get("TrainingImage")
        if not isinstance(image, str) or not objective or any(mark in image for mark in BUILT_IN_METRICS):
            continue
        names = {_mapping(m).get("Name") for m in algorithm.get("MetricDefinitions") or []}
        if objective.get("MetricName") not in names:
            found.append(
                "A metric is required for this hyperparameter tuning job objective. "
                "Provide a metric in the metric definitions."
            )
    return found[:1]


def spot_wait_covers_runtime(request: Mapping[str, Any]) -> list[str]:
    """Spot waits cover the runtime (SageMaker API Reference, API_StoppingCondition)."""
    return [message for definition in _definitions(request) for message in _spot_wait(definition)]


def _spot_wait(definition: Mapping[str, Any]) -> list[str]:
    stopping = _mapping(definition.get("StoppingCondition"))
    wait = _number(stopping.get("MaxWaitTimeInSeconds"))
    if definition.get("EnableManagedSpotTraining") is not True:
        if wait is None:
            return []
        return [
            "Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining is set to true"
        ]
    runtime = _number(stopping.get("MaxRuntimeInSeconds"))
    if wait is not None and (runtime is None or wait >= runtime):
        return []
    return ["Invalid MaxWaitTimeInSeconds. It must be equal to or greater than MaxRuntimeInSeconds"]


def volume_key_without_local_storage(request: Mapping[str, Any]) -> list[str]:
    """No volume key on local instance storage (SageMaker API Reference, API_ResourceConfig)."""
    found: list[str] = []
    for definition in _definitions(request):
        for key, instance_type in _volume_keys(definition):
            found += _local_storage_key("VolumeKmsKeyId", key, instance_type)
    return found


def _volume_keys(definition: Mapping[str, Any]) -> Iterator[tuple[Any, Any]]:
    """(volume KMS key, instance type) pairs a training definition asks for."""
    resources = _mapping(definition.get("ResourceConfig"))
    key = resources.get("VolumeKmsKeyId")
    yield key, resources.get("InstanceType")
    for group in resources.get("InstanceGroups") or []:
        yield key, _mapping(group).get("InstanceType")
    tuning = _mapping(definition.get("HyperParameterTuningResourceConfig"))
    for config in tuning.get("InstanceConfigs") or []:
        yield tuning.get("VolumeKmsKeyId"), _mapping(config).get("InstanceType")


def _local_storage_key(member: str, key: Any, instance_type: Any) -> list[str]:
    if not key or not isinstance(instance_type, str) or not has_local_storage(instance_type):
        return []
    return [
        f"Invalid {member}. You can't request a {member} when using an instance type with local storage"
        f" ({instance_type})"
    ]


# --- CreateEndpointConfig ------------------------------------------------------------------------
# The API reference said the call fails with a KmsKeyId and a local-storage variant; botocore's current
# text only says the key does not encrypt local storage. The stack never sends that pair either way.
def endpoint_key_without_local_storage(request: Mapping[str, Any]) -> list[str]:
    """No volume key on local instance storage (SageMaker API Reference, API_CreateEndpointConfig)."""
    key = request.get("KmsKeyId")
    found: list[str] = []
    for variant in request.get("ProductionVariants") or []:
        for message in _local_storage_key("KmsKeyId", key, _mapping(variant).get("InstanceType")):
            if message not in found:
                found.append(message)
    return found


# --- Step Functions StartExecution ---------------------------------------------------------------
def execution_name_characters(request: Mapping[str, Any]) -> list[str]:
    """Characters execution names must not contain (Step Functions API Reference, API_StartExecution)."""
    name = request.get("name")
    if not isinstance(name, str) or not any(_forbidden_in_name(char) for char in name):
        return []
    return [f"Invalid Name: '{name}'"]


def _forbidden_in_name(char: str) -> bool:
    """White space, brackets, wildcards, special, control and surrogate characters, and U+10FFFF."""
    code = ord(char)
    return (
        char in _NAME_FORBIDDEN
        or char.isspace()
        or any(low <= code <= high for low, high in _NAME_FORBIDDEN_RANGES)
    )


_TRAINING_RULES: tuple[Rule, ...] = (spot_wait_covers_runtime, volume_key_without_local_storage)
RULES: dict[tuple[str, str], tuple[Rule, ...]] = {
    ("sagemaker", "CreateHyperParameterTuningJob"): (
        parallel_within_total,
        hyperband_without_early_stopping,
        scaling_fits_range,
        completion_criteria_fit_strategy,
        objective_has_a_metric_definition,
        *_TRAINING_RULES,
    ),
    ("sagemaker", "CreateTrainingJob"): _TRAINING_RULES,
    ("sagemaker", "CreateEndpointConfig"): (endpoint_key_without_local_storage,),
    ("stepfunctions", "StartExecution"): (execution_name_characters,),
}
# The error code AWS answers each operation's semantic refusals with, when not ValidationException.
ERROR_CODES: dict[tuple[str, str], str] = {("stepfunctions", "StartExecution"): "InvalidName"}


def semantic_errors(service: str, operation: str, params: Mapping[str, Any]) -> list[str]:
    """Every documented cross-member rule `params` breaks, in AWS's words, in the rules' order."""
    return [message for rule in RULES.get((service, operation), ()) for message in rule(params)]


def error_code(service: str, operation: str) -> str:
    """The error code for `semantic_errors` of this operation (ValidationException unless noted)."""
    return ERROR_CODES.get((service, operation), "ValidationException")
