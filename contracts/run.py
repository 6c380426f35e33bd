"""The run object: what ValidateInput returns, the state machine keeps at $.run and every later step reads.

`Run` is its one definition. ValidateInput builds it through these types (mypy checks every key);
the state machine reads it only through `run_path`, which refuses at synth a field `Run` does not have.
Blocks named after SageMaker API shapes keep SageMaker's key spelling: the state machine passes them on.
"""

from __future__ import annotations

from typing import Any, TypedDict, get_type_hints, is_typeddict

from contracts.dataset_layout import Channels
from contracts.names import RunNamesDict

# Where the state machine keeps the run object (ValidateInput's ResultPath).
RUN_PATH = "$.run"


class RunDataset(Channels):
    """The dataset as s3:// URIs: its root, each channel's prefix (per the manifest) and the manifest."""

    uri: str
    manifest: str


class ResourceLimits(TypedDict):
    MaxNumberOfTrainingJobs: int
    MaxParallelTrainingJobs: int


class _TuningConfig(TypedDict):
    Strategy: str
    HyperParameterTuningJobObjective: dict[str, str]  # {Type, MetricName}
    ResourceLimits: ResourceLimits
    ParameterRanges: dict[str, Any]
    TrainingJobEarlyStoppingType: str


# Optional through total=False: at run time, Python 3.11 loses NotRequired under postponed annotations.
class TuningConfig(_TuningConfig, total=False):
    """HyperParameterTuningJobConfig, passed to SageMaker whole."""

    TuningJobCompletionCriteria: dict[str, Any]  # contracts.completion.criteria; absent when none is set


class ResourceConfig(TypedDict):
    InstanceType: str
    InstanceCount: int
    VolumeSizeInGB: int


class _Runtime(TypedDict):
    MaxRuntimeInSeconds: int


# Optional through total=False: at run time, Python 3.11 loses NotRequired under postponed annotations.
class StoppingCondition(_Runtime, total=False):
    MaxWaitTimeInSeconds: int  # spot training only


class ParentTuningJob(TypedDict):
    HyperParameterTuningJobName: str


class WarmStartConfig(TypedDict):
    """HyperParameterTuningJobWarmStartConfig, passed to SageMaker whole."""

    ParentHyperParameterTuningJobs: list[ParentTuningJob]
    WarmStartType: str  # contracts.warm_start.TYPES


class MetricDefinition(TypedDict):
    Name: str
    Regex: str  # its one capturing group is the value (contracts.script_mode)


class _AlgorithmSpecification(TypedDict):
    TrainingImage: str
    TrainingInputMode: str


class AlgorithmSpecification(_AlgorithmSpecification, total=False):
    """The training job definition's AlgorithmSpecification, passed to SageMaker whole."""

    MetricDefinitions: list[MetricDefinition]  # a script's; built-in XGBoost defines its own


class Script(TypedDict):
    """A run that tunes its own training script (contracts.script_mode): what serving it needs too."""

    entry_point: str  # the script, relative to the source directory
    source: str  # s3:// URI of its sourcedir.tar.gz
    framework: str  # contracts.script_mode.FRAMEWORKS
    framework_version: str
    image: str  # the framework's training and serving image in the run's region


class _Tuning(TypedDict):
    config: TuningConfig
    algorithm: AlgorithmSpecification
    input_data_config: list[dict[str, Any]]  # InputDataConfig: the dataset's channels (and a script's code)
    static_hyperparameters: dict[str, str]
    resource_config: ResourceConfig
    stopping_condition: StoppingCondition
    use_spot: bool
    output_path: str


class Tuning(_Tuning, total=False):
    """The tuning job: its config and the training job definition's run-dependent parts."""

    # Absent for a cold start: the state machine chooses its warm Tune state only when it is present.
    warm_start: WarmStartConfig
    # Absent when the run tunes built-in XGBoost.
    script: Script


class Autopilot(TypedDict):
    """The AutoML job's run-dependent parts."""

    problem_type_config: dict[str, Any]  # AutoMLProblemTypeConfig, passed to SageMaker whole
    objective: dict[str, str]  # AutoMLJobObjective: {MetricName}
    output_path: str


class Endpoint(TypedDict):
    instance_type: str
    keep: bool  # keep the endpoint after a successful run
    expires: str  # ISO 8601 UTC, also the expiry tag: when the sweeper may delete it


class Limits(TypedDict):
    """Poll budgets of the state machine's bounded waits."""

    autopilot_max_polls: int
    endpoint_max_polls: int


class RunCost(TypedDict):
    """What the run can cost at most (contracts.costs.estimate) and its budget, planned by ValidateInput."""

    region: str
    max_cost_usd: float | None
    inputs: dict[str, Any]  # contracts.costs.CostInputs, field by field
    estimate: dict[str, Any]


class Tag(TypedDict):
    Key: str
    Value: str


class Run(TypedDict):
    """Every name, budget and SageMaker config one execution uses."""

    run_id: str
    execution_name: str
    problem_type: str
    target: str
    classes: list[str]
    dataset: RunDataset
    names: RunNamesDict
    tuning: Tuning
    autopilot: Autopilot
    endpoint: Endpoint
    poll_seconds: int
    limits: Limits
    tags: list[Tag]
    report_prefix: str
    cost: RunCost


def fields_of(shape: Any) -> dict[str, Any]:
    """The fields of a TypedDict, by name with their types; {} for anything else (a leaf)."""
    return get_type_hints(shape) if is_typeddict(shape) else {}


def run_path(*fields: str) -> str:
    """The JSONPath of a field of the run object: run_path("names", "endpoint") is "$.run.names.endpoint".

    Raises ValueError, at synth, for a field `Run` does not have.
    """
    shape: Any = Run
    for depth, name in enumerate(fields):
        known = fields_of(shape)
        if name not in known:
            where = ".".join(["run", *fields[:depth]])
            has = f"it has {', '.join(known)}" if known else "it has no fields"
            raise ValueError(f"{where} has no field {name!r}: {has} (contracts.run.Run)")
        shape = known[name]
    return ".".join([RUN_PATH, *fields])
