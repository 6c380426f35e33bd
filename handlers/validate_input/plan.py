"""The run object: every name, budget and SageMaker config one execution uses (pure)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from contracts import completion
from contracts.costs import CostInputs, estimate
from contracts.names import RunNames
from contracts.prices import load as load_prices
from contracts.reports import report_key
from contracts.run import (
    Autopilot,
    Endpoint,
    Limits,
    ResourceConfig,
    ResourceLimits,
    Run,
    RunCost,
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
    image: str = ""  # the training image the stack's Tune state uses ("" when unknown: not compared)


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


def tuning_block(options: RunOptions, dataset: Dataset, ctx: Context) -> Tuning:
    """run.tuning: the HyperParameterTuningJobConfig and the training job definition's parts."""
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
