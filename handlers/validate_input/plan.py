"""The run object: every name, budget and SageMaker config one execution uses (pure)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import completion, script_mode
from contracts.costs import CostInputs, estimate
from contracts.dataset_layout import NUMERIC_CONTENT_TYPE
from contracts.names import RunNames
from contracts.prices import load as load_prices
from contracts.reports import report_key
from contracts.run import (
    AlgorithmSpecification,
    Autopilot,
    Endpoint,
    Limits,
    ResourceConfig,
    ResourceLimits,
    Run,
    RunCost,
    Script,
    StoppingCondition,
    Tag,
    Tuning,
    TuningConfig,
)
from contracts.run_options import MAX_TRAINING_RUNTIME_S
from contracts.tags import EXPIRES_TAG, RUN_TAG, STACK_TAG
from handlers.common.errors import InvalidInput
from handlers.common.json_types import JsonDict
from handlers.validate_input.dataset import Dataset
from handlers.validate_input.grid import build_grid
from handlers.validate_input.objectives import resolve_objective
from handlers.validate_input.options import RunOptions
from handlers.validate_input.ranges import resolve_ranges
from handlers.validate_input.script import ScriptInput, script_objective, script_ranges
from handlers.validate_input.warm_start import Parent, warm_start_config
from training.tuning_ranges import (
    autopilot_objective,
    autopilot_problem_type,
    parameter_ranges,
    static_hyperparameters,
)

VOLUME_SIZE_GB = 30
# How long after Autopilot's own budget the state machine keeps polling (its final steps take a while).
AUTOPILOT_GRACE_S = 15 * 60
ENDPOINT_WAIT_S = 30 * 60


@dataclass(frozen=True)
class Context:
    """What the run needs besides the input: the execution and the stack."""

    execution_name: str
    start_time: datetime
    names: RunNames
    artifacts_bucket: str
    stack_name: str
    region: str = ""  # where the run's instances bill: prices are per region
    parents: tuple[Parent, ...] = ()  # a warm start's parent runs, as SageMaker describes their tuning jobs
    image: str = ""  # the run's training image: built-in XGBoost's, or the script's framework's


def parse_start_time(value: object) -> datetime:
    """The execution's start time (Step Functions' ISO 8601 string) as an aware UTC datetime."""
    if not isinstance(value, str):
        raise InvalidInput(f"execution.start_time: expected an ISO 8601 time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"execution.start_time: expected an ISO 8601 time, got {value!r}") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """Seconds-precision ISO 8601 in UTC with a Z, as tags and reports show times."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _num_class(dataset: Dataset) -> int | None:
    return len(dataset.manifest.classes) if dataset.manifest.problem_type == "multiclass" else None


def _train_class_counts(dataset: Dataset) -> tuple[int, int] | None:
    """Rows of class 0 and class 1 in the training channel (binary, when the manifest counts them)."""
    manifest = dataset.manifest
    train = manifest.class_counts.get("train")
    if manifest.problem_type != "binary" or not train:
        return None
    negative, positive = manifest.classes
    if not train[negative] or not train[positive]:
        raise InvalidInput(
            f"dataset: its train channel has {train[negative]} rows of {negative!r} and {train[positive]} "
            f"of {positive!r}; a binary problem needs both classes in training (prepare it again, or with "
            "more rows)"
        )
    return train[negative], train[positive]


def channel(name: str, uri: str, content_type: str | None = NUMERIC_CONTENT_TYPE) -> dict[str, Any]:
    """A File-mode training channel reading every object under `uri`."""
    described: dict[str, Any] = {"ChannelName": name}
    if content_type:
        described["ContentType"] = content_type
    described.update(
        {
            "CompressionType": "None",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": uri,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }
    )
    return described


def _script_search(
    options: RunOptions, script: ScriptInput, ctx: Context
) -> tuple[dict[str, str], dict[str, str], JsonDict, int]:
    """A script's objective, static hyperparameters, ParameterRanges and job budget (Grid: its size)."""
    objective = script_objective(script, options.objective)
    static = script_mode.static_hyperparameters(script.entry_point, ctx.region, script.hyperparameters)
    ranges = script_ranges(options.tuning_ranges, script)
    max_jobs = options.tuning_max_jobs
    if options.tuning_strategy != "Grid":
        return objective, static, dict(ranges.to_api()), max_jobs
    combinations = math.prod(len(values) for values in ranges.categorical.values())
    if combinations > max_jobs or (not ranges.numeric and combinations < 2):
        raise InvalidInput(
            f"tuning_max_jobs: Grid search runs every combination of the categorical values "
            f"({combinations}); give tuning_max_jobs {max(combinations, 2)} or more, or fewer values"
        )
    categorical: list[dict[str, object]] = [{"Name": n, "Values": v} for n, v in ranges.categorical.items()]
    size = combinations
    if ranges.numeric:
        grid = build_grid(ranges.numeric, max_jobs // combinations)
        categorical += grid.categorical
        static.update(grid.fixed)
        size *= grid.size
    if size < 2:
        raise InvalidInput("tuning_max_jobs: Grid search needs at least 2 jobs to compare two values")
    api: JsonDict = {
        "IntegerParameterRanges": [],
        "ContinuousParameterRanges": [],
        "CategoricalParameterRanges": categorical,
    }
    return objective, static, api, size


def tuning_block(options: RunOptions, dataset: Dataset, ctx: Context) -> Tuning:
    """run.tuning: the HyperParameterTuningJobConfig and the training job definition's parts."""
    if options.script is not None:
        return _script_tuning(options, options.script, dataset, ctx)
    problem_type = dataset.manifest.problem_type
    objective = resolve_objective(problem_type, options.objective)
    # Binary: scale_pos_weight from the class balance, so a rare positive class is not drowned out.
    static = static_hyperparameters(
        problem_type, num_class=_num_class(dataset), train_class_counts=_train_class_counts(dataset)
    )
    static["eval_metric"] = objective["MetricName"].split(":", 1)[1]
    ranges = resolve_ranges(options.tuning_ranges)
    max_jobs, parallel = options.tuning_max_jobs, options.tuning_max_parallel_jobs
    if options.tuning_strategy == "Grid":
        grid = build_grid(ranges, max_jobs)
        if not grid.categorical:
            raise InvalidInput("tuning_max_jobs: Grid search needs at least 2 jobs to compare two values")
        parameter_api: JsonDict = {
            "IntegerParameterRanges": [],
            "ContinuousParameterRanges": [],
            "CategoricalParameterRanges": grid.categorical,
        }
        static.update(grid.fixed)
        max_jobs, parallel = grid.size, min(parallel, grid.size)
    else:
        parameter_api = dict(parameter_ranges(ranges))
    channels = [channel(name, dataset.uris()[name]) for name in ("train", "validation")]
    algorithm = AlgorithmSpecification(TrainingImage=ctx.image, TrainingInputMode="File")
    return _tuning(
        options, dataset, ctx, objective, static, parameter_api, (max_jobs, parallel), algorithm, channels
    )


def _script_tuning(options: RunOptions, script: ScriptInput, dataset: Dataset, ctx: Context) -> Tuning:
    """run.tuning for the user's own script in its framework's container (contracts.script_mode)."""
    objective, static, parameter_api, max_jobs = _script_search(options, script, ctx)
    parallel = min(options.tuning_max_parallel_jobs, max_jobs)
    channels = [channel(name, dataset.uris()[name]) for name in ("train", "validation")]
    # Network isolation keeps the container from S3: the source comes as a channel, as the SDK sends it.
    channels.append(channel(script_mode.CODE_CHANNEL, script.source, None))
    algorithm = AlgorithmSpecification(
        TrainingImage=ctx.image,
        TrainingInputMode="File",
        MetricDefinitions=[{"Name": m["Name"], "Regex": m["Regex"]} for m in script.metrics],
    )
    tuning = _tuning(
        options, dataset, ctx, objective, static, parameter_api, (max_jobs, parallel), algorithm, channels
    )
    tuning["script"] = Script(
        entry_point=script.entry_point,
        source=script.source,
        framework=script.framework,
        framework_version=script.framework_version,
        image=ctx.image,
    )
    return tuning


def _tuning(
    options: RunOptions,
    dataset: Dataset,
    ctx: Context,
    objective: dict[str, str],
    static: dict[str, str],
    parameter_api: JsonDict,
    budget: tuple[int, int],
    algorithm: AlgorithmSpecification,
    channels: list[dict[str, Any]],
) -> Tuning:
    """What a tuning job needs whatever it trains: config, resources, stopping, output, warm start."""
    max_jobs, parallel = budget
    config = TuningConfig(
        Strategy=options.tuning_strategy,
        HyperParameterTuningJobObjective=objective,
        ResourceLimits=ResourceLimits(MaxNumberOfTrainingJobs=max_jobs, MaxParallelTrainingJobs=parallel),
        ParameterRanges=parameter_api,
        # SageMaker rejects Hyperband with early stopping: Hyperband stops trials itself.
        TrainingJobEarlyStoppingType="Off" if options.tuning_strategy == "Hyperband" else "Auto",
    )
    criteria = completion.criteria(
        options.tuning_target_objective,
        options.tuning_max_jobs_not_improving,
        options.tuning_complete_on_convergence,
    )
    if criteria:
        config["TuningJobCompletionCriteria"] = criteria
    stopping = StoppingCondition(MaxRuntimeInSeconds=options.training_max_runtime_s)
    if options.use_spot_training:
        # Spot capacity may take a while: wait up to twice the runtime, within the training job limit.
        wait = min(2 * options.training_max_runtime_s, MAX_TRAINING_RUNTIME_S)
        stopping["MaxWaitTimeInSeconds"] = max(wait, options.training_max_runtime_s)
    tuning = Tuning(
        config=config,
        algorithm=algorithm,
        input_data_config=channels,
        static_hyperparameters=static,
        resource_config=ResourceConfig(
            InstanceType=options.training_instance_type, InstanceCount=1, VolumeSizeInGB=VOLUME_SIZE_GB
        ),
        stopping_condition=stopping,
        use_spot=options.use_spot_training,
        output_path=f"s3://{ctx.artifacts_bucket}/jobs/{ctx.names.run_id}/tuning/",
    )
    if ctx.parents:
        train = dataset.uris()["train"]
        tuning["warm_start"] = warm_start_config(
            ctx.parents, tuning, train, options.warm_start_type, ctx.image
        )
    return tuning


def autopilot_block(options: RunOptions, dataset: Dataset, ctx: Context) -> Autopilot:
    """run.autopilot: AutoMLProblemTypeConfig, objective and output path."""
    problem_type = dataset.manifest.problem_type
    return Autopilot(
        problem_type_config={
            "TabularJobConfig": {
                "TargetAttributeName": dataset.manifest.target,
                "ProblemType": autopilot_problem_type(problem_type),
                "CompletionCriteria": {
                    "MaxCandidates": options.autopilot_max_candidates,
                    "MaxAutoMLJobRuntimeInSeconds": options.autopilot_max_runtime_s,
                },
                "Mode": options.autopilot_mode,
            }
        },
        objective=autopilot_objective(problem_type),
        output_path=f"s3://{ctx.artifacts_bucket}/jobs/{ctx.names.run_id}/autopilot/",
    )


def cost_inputs(options: RunOptions, tuning: Tuning, limits: Limits, poll: int, region: str) -> CostInputs:
    """What the run's cost depends on, as planned (the tuning budget after Grid sizing, the poll budgets)."""
    return CostInputs(
        region=region,
        training_instance_type=tuning["resource_config"]["InstanceType"],
        training_instance_count=tuning["resource_config"]["InstanceCount"],
        tuning_max_jobs=tuning["config"]["ResourceLimits"]["MaxNumberOfTrainingJobs"],
        training_max_runtime_s=tuning["stopping_condition"]["MaxRuntimeInSeconds"],
        use_spot=tuning["use_spot"],
        autopilot_max_candidates=options.autopilot_max_candidates,
        autopilot_max_runtime_s=options.autopilot_max_runtime_s,
        endpoint_instance_type=options.endpoint_instance_type,
        endpoint_wait_s=limits["endpoint_max_polls"] * poll,
        keep_endpoint=options.keep_endpoint,
        endpoint_ttl_hours=options.endpoint_ttl_hours,
    )


def build_run(options: RunOptions, dataset: Dataset, ctx: Context) -> Run:
    """The run object the state machine keeps at $.run."""
    expires = iso_utc(ctx.start_time + timedelta(hours=options.endpoint_ttl_hours))
    poll = options.poll_seconds
    run_id = ctx.names.run_id
    tuning = tuning_block(options, dataset, ctx)
    limits = Limits(
        autopilot_max_polls=math.ceil((options.autopilot_max_runtime_s + AUTOPILOT_GRACE_S) / poll),
        endpoint_max_polls=math.ceil(ENDPOINT_WAIT_S / poll),
    )
    inputs = cost_inputs(options, tuning, limits, poll, ctx.region)
    return Run(
        run_id=run_id,
        execution_name=ctx.execution_name,
        problem_type=dataset.manifest.problem_type,
        target=dataset.manifest.target,
        classes=list(dataset.manifest.classes),
        dataset=dataset.uris(),
        names=ctx.names.as_run_names(),
        tuning=tuning,
        autopilot=autopilot_block(options, dataset, ctx),
        endpoint=Endpoint(
            instance_type=options.endpoint_instance_type, keep=options.keep_endpoint, expires=expires
        ),
        poll_seconds=poll,
        limits=limits,
        tags=[
            Tag(Key=STACK_TAG, Value=ctx.stack_name),
            Tag(Key=RUN_TAG, Value=run_id),
            Tag(Key=EXPIRES_TAG, Value=expires),
        ],
        report_prefix=f"s3://{ctx.artifacts_bucket}/{report_key(run_id)}",
        cost=RunCost(
            region=ctx.region,
            max_cost_usd=options.max_cost_usd,
            inputs=asdict(inputs),
            estimate=estimate(inputs, load_prices(), options.max_cost_usd),
        ),
    )
