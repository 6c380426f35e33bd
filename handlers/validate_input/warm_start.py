"""A warm start: the parent runs' tuning jobs, checked against SageMaker's rules before anything bills."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts import warm_start
from contracts.names import MAX_JOB_NAME, check_name, tuning_job_name
from contracts.run import ParentTuningJob, Tuning, WarmStartConfig
from contracts.run_options import MAX_TUNING_JOBS
from handlers.common.aws_errors import is_not_found
from handlers.common.errors import InvalidInput

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient


@dataclass(frozen=True)
class Parent:
    """One parent run and what DescribeHyperParameterTuningJob says of its tuning job."""

    run_id: str
    job: str
    described: Mapping[str, Any]

    @property
    def config(self) -> Mapping[str, Any]:
        return self.described.get("HyperParameterTuningJobConfig") or {}

    @property
    def definition(self) -> Mapping[str, Any]:
        return self.described.get("TrainingJobDefinition") or {}

    @property
    def trials(self) -> int:
        counters = self.described.get("TrainingJobStatusCounters") or {}
        return sum(v for v in counters.values() if isinstance(v, int))


def describe_parents(sm: SageMakerClient, name_prefix: str, run_ids: Sequence[str]) -> tuple[Parent, ...]:
    """Each parent run's tuning job; InvalidInput naming a run that has none in this stack."""
    parents = []
    for run_id in run_ids:
        job = tuning_job_name(name_prefix, run_id)
        try:
            check_name(job, MAX_JOB_NAME)
        except ValueError:
            raise InvalidInput(
                f"warm_start: {run_id!r} is not a run id of this stack; give the run id `mlstack run` "
                "printed, e.g. bank-2026-1a2b3c4d"
            ) from None
        try:
            described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=job)
        except ClientError as err:
            if not is_not_found(err):
                raise
            raise InvalidInput(
                f"warm_start: run {run_id!r} has no tuning job in this stack ({job}); give the run id "
                "`mlstack run` printed (mlstack costs lists the stack's runs)"
            ) from None
        parents.append(Parent(run_id, job, described))
    return tuple(parents)


def _repository(image: str) -> str:
    """An image without its tag: the algorithm, whatever its version."""
    return image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image


def _check_parent(parent: Parent, tuning: Tuning, train_uri: str, chosen: str, image: str) -> None:
    run = f"run {parent.run_id!r}"
    status = parent.described.get("HyperParameterTuningJobStatus")
    if status not in warm_start.TERMINAL:
        raise InvalidInput(
            f"warm_start: {run}'s tuning job is {status}; a parent must have ended "
            f"({', '.join(warm_start.TERMINAL)}): wait for it, or leave it out"
        )
    theirs = parent.config.get("HyperParameterTuningJobObjective") or {}
    ours = tuning["config"]["HyperParameterTuningJobObjective"]
    if theirs.get("MetricName") != ours["MetricName"] or theirs.get("Type") != ours["Type"]:
        raise InvalidInput(
            f"warm_start: {run} tuned {theirs.get('MetricName')}, this run {ours['MetricName']}; a warm "
            f"start keeps the objective: give objective {theirs.get('MetricName')}, or leave {run} out"
        )
    their_image = str((parent.definition.get("AlgorithmSpecification") or {}).get("TrainingImage") or "")
    if image and their_image and their_image != image:
        if chosen == warm_start.IDENTICAL:
            raise InvalidInput(
                f"warm_start: {run} trained with {their_image}, this stack now trains with {image}; "
                f"{warm_start.IDENTICAL} needs the same image: give warm_start_type {warm_start.TRANSFER}"
            )
        if _repository(their_image) != _repository(image):
            raise InvalidInput(
                f"warm_start: {run} trained another algorithm ({their_image}); a warm start needs the "
                "parents' algorithm, in any version: leave it out"
            )
    their_data = warm_start.train_channel(parent.definition)
    if chosen == warm_start.IDENTICAL and their_data != train_uri:
        raise InvalidInput(
            f"warm_start_type {warm_start.IDENTICAL}: {run} trained on {their_data}, this run on "
            f"{train_uri}; give warm_start_type {warm_start.TRANSFER}, or leave warm_start_type out"
        )
    _check_hyperparameters(run, parent, tuning)


def _check_hyperparameters(run: str, parent: Parent, tuning: Tuning) -> None:
    their_ranges, ours = parent.config.get("ParameterRanges"), tuning["config"]["ParameterRanges"]
    their_static = parent.definition.get("StaticHyperParameters") or {}
    before = warm_start.names(their_ranges, their_static)
    after = warm_start.names(ours, tuning["static_hyperparameters"])
    if before != after:
        added, missing = sorted(after - before), sorted(before - after)
        what = "; ".join(
            part
            for part in (
                f"this run adds {', '.join(added)} (leave it out of tuning_ranges)" if added else "",
                f"lacks {', '.join(missing)} (tune it too, in tuning_ranges)" if missing else "",
            )
            if part
        )
        raise InvalidInput(
            f"warm_start: SageMaker keeps the set of static plus tuned hyperparameters in a warm start, "
            f"and {run}'s differs: {what}"
        )
    for name, (was, now) in sorted(warm_start.changed_kinds(their_ranges, ours).items()):
        raise InvalidInput(
            f"warm_start: {name} is a {was} range in {run} and a {now} one here; a warm start keeps each "
            f"hyperparameter's type (Grid search makes ranges categorical): use {run}'s strategy"
        )
    count = warm_start.changes(their_ranges, their_static, ours, tuning["static_hyperparameters"])
    if count > warm_start.MAX_CHANGES:
        raise InvalidInput(
            f"warm_start: {count} changes from {run} between tuned and static hyperparameters and in static "
            f"values; SageMaker allows {warm_start.MAX_CHANGES}: tune more of them, as {run} did"
        )


def warm_start_config(
    parents: Sequence[Parent], tuning: Tuning, train_uri: str, requested: str | None, image: str
) -> WarmStartConfig:
    """The WarmStartConfig for these parents; InvalidInput saying what to change if SageMaker would refuse it.

    Without a requested type: IdenticalDataAndAlgorithm when every parent trained on this run's data,
    TransferLearning otherwise (the parents' results are then prior knowledge, as SageMaker documents it).
    """
    strategy = tuning["config"]["Strategy"]
    if strategy == "Grid":
        raise InvalidInput(
            "warm_start: Grid search runs every point of its grid, so earlier trials cannot steer it; "
            "use tuning_strategy Bayesian or Random for a warm start"
        )
    same_data = all(warm_start.train_channel(p.definition) == train_uri for p in parents)
    chosen = requested or (warm_start.IDENTICAL if same_data else warm_start.TRANSFER)
    for parent in parents:
        _check_parent(parent, tuning, train_uri, chosen, image)
    budget = tuning["config"]["ResourceLimits"]["MaxNumberOfTrainingJobs"]
    spent = sum(p.trials for p in parents)
    if spent + budget > MAX_TUNING_JOBS:
        raise InvalidInput(
            f"tuning_max_jobs: the parents ran {spent} training jobs, which count against SageMaker's "
            f"{MAX_TUNING_JOBS} per tuning job: give tuning_max_jobs {MAX_TUNING_JOBS - spent} or less"
        )
    return WarmStartConfig(
        ParentHyperParameterTuningJobs=[ParentTuningJob(HyperParameterTuningJobName=p.job) for p in parents],
        WarmStartType=chosen,
    )
