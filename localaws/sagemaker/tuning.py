"""Hyperparameter tuning jobs: a real optuna search whose every trial is a real training job."""

from __future__ import annotations

import hashlib
import math
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import optuna

from contracts import completion, warm_start
from localaws.sagemaker import faults, jobs
from localaws.sagemaker.common import POLL_SECONDS, ValidationException, arn, drop_none, seed_from, utcnow
from localaws.sagemaker.models import backend
from localaws.sagemaker.names import validate_name

optuna.logging.set_verbosity(optuna.logging.WARNING)

STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")
TERMINAL = ("Completed", "Failed", "Stopped")


class TuningJob:
    """One tuning job; its coordinator thread launches trials and updates the counters."""

    def __init__(self, account_id: str, region: str, request: dict[str, Any]) -> None:
        self.account_id = account_id
        self.region = region
        self.request = request
        self.name: str = request["HyperParameterTuningJobName"]
        self.arn = arn(account_id, region, "hyper-parameter-tuning-job", self.name)
        self.tags: list[dict[str, str]] = list(request.get("Tags") or [])
        self.config: dict[str, Any] = request["HyperParameterTuningJobConfig"]
        self.definition: dict[str, Any] = (
            request.get("TrainingJobDefinition") or (request.get("TrainingJobDefinitions") or [{}])[0]
        )
        self.lock = threading.RLock()
        self.done = threading.Event()
        self.status = "InProgress"
        self.failure_reason: str | None = None
        self.creation_time = utcnow()
        self.last_modified = self.creation_time
        self.end_time: Any = None
        self.trials: list[jobs.TrainingJob] = []
        self.tuned: dict[str, dict[str, str]] = {}
        self.stop_requested = False
        # Objective values in the order their trials ended: what the completion criteria judge.
        self.ended_values: list[float] = []
        self.convergence_time: Any = None
        # A warm start's parents, resolved at create: their own trials (warm start is not recursive).
        self.parents: list[TuningJob] = []

    @property
    def objective(self) -> dict[str, str]:
        return dict(self.config["HyperParameterTuningJobObjective"])

    @property
    def maximize(self) -> bool:
        return self.objective["Type"] == "Maximize"

    def trial_ended(self, value: float) -> str | None:
        """Record a trial's objective; the completion criterion it meets, if any (then launch no more)."""
        with self.lock:
            self.ended_values.append(value)
            values = list(self.ended_values)
        criteria: dict[str, Any] = self.config.get("TuningJobCompletionCriteria") or {}
        met = completion.active(criteria)
        if completion.TARGET in met and completion.reached(
            value, float(criteria[completion.TARGET]), self.maximize
        ):
            return completion.TARGET
        if completion.NOT_IMPROVING in met:
            limit = int(criteria[completion.NOT_IMPROVING]["MaxNumberOfTrainingJobsNotImproving"])
            if completion.not_improving(values, self.maximize) >= limit:
                return completion.NOT_IMPROVING
        max_jobs = int((self.config.get("ResourceLimits") or {}).get("MaxNumberOfTrainingJobs", 10))
        if completion.CONVERGENCE in met and converged(values, self.maximize, max_jobs):
            with self.lock:
                self.convergence_time = utcnow()
            return completion.CONVERGENCE
        return None

    def _value(self, job: jobs.TrainingJob) -> float | None:
        return job.objective(self.objective["MetricName"])

    def _summary_of(self, job: jobs.TrainingJob) -> dict[str, Any]:
        value = self._value(job)
        with job.lock:
            status = job.status
            summary = {
                "TrainingJobDefinitionName": self.definition.get("DefinitionName"),
                "TrainingJobName": job.name,
                "TrainingJobArn": job.arn,
                "TuningJobName": self.name,
                "CreationTime": job.creation_time,
                "TrainingStartTime": job.start_time,
                "TrainingEndTime": job.end_time,
                "TrainingJobStatus": status,
                "TunedHyperParameters": self.tuned.get(job.name, {}),
                "FailureReason": job.failure_reason,
                "ObjectiveStatus": _objective_status(status, value),
            }
        if value is not None:
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": self.objective["Type"],
                "MetricName": self.objective["MetricName"],
                "Value": value,
            }
        return drop_none(summary)

    def best(self) -> jobs.TrainingJob | None:
        sign = 1.0 if self.objective["Type"] == "Maximize" else -1.0
        scored = [
            (sign * v, -i, t)
            for i, t in enumerate(list(self.trials))
            if (v := self._value(t)) is not None
            and t.model_artifacts
            and t.status in ("Completed", "Stopped")
        ]
        return max(scored, key=lambda s: (s[0], s[1]))[2] if scored else None

    def describe(self) -> dict[str, Any]:
        trials = list(self.trials)
        statuses = [t.status for t in trials]
        summaries = [self._summary_of(t) for t in trials]
        best = self.best()
        with self.lock:
            return drop_none(
                {
                    "HyperParameterTuningJobName": self.name,
                    "HyperParameterTuningJobArn": self.arn,
                    "HyperParameterTuningJobConfig": self.config,
                    "TrainingJobDefinition": self.request.get("TrainingJobDefinition"),
                    "TrainingJobDefinitions": self.request.get("TrainingJobDefinitions"),
                    "HyperParameterTuningJobStatus": self.status,
                    "CreationTime": self.creation_time,
                    "HyperParameterTuningEndTime": self.end_time,
                    "LastModifiedTime": self.last_modified,
                    "TrainingJobStatusCounters": {
                        "Completed": statuses.count("Completed"),
                        "InProgress": statuses.count("InProgress") + statuses.count("Stopping"),
                        "RetryableError": 0,
                        "NonRetryableError": statuses.count("Failed"),
                        "Stopped": statuses.count("Stopped"),
                    },
                    "ObjectiveStatusCounters": {
                        s: sum(1 for x in summaries if x["ObjectiveStatus"] == s)
                        for s in ("Succeeded", "Pending", "Failed")
                    },
                    "BestTrainingJob": self._summary_of(best) if best else None,
                    "OverallBestTrainingJob": self._overall_best(),
                    "WarmStartConfig": self.request.get("WarmStartConfig"),
                    "Autotune": self.request.get("Autotune"),
                    "FailureReason": self.failure_reason,
                    "TuningJobCompletionDetails": drop_none(
                        {
                            "NumberOfTrainingJobsObjectiveNotImproving": completion.not_improving(
                                self.ended_values, self.maximize
                            ),
                            "ConvergenceDetectedTime": self.convergence_time,
                        }
                    ),
                    "ConsumedResources": {
                        "RuntimeInSeconds": int(
                            ((self.end_time or utcnow()) - self.creation_time).total_seconds()
                        )
                    },
                }
            )

    def _overall_best(self) -> dict[str, Any] | None:
        """IdenticalDataAndAlgorithm only: the best trial of this job and its parents (SageMaker's guide)."""
        config = self.request.get("WarmStartConfig") or {}
        if config.get("WarmStartType") != warm_start.IDENTICAL:
            return None
        sign = 1.0 if self.maximize else -1.0
        scored = [
            (sign * value, job._summary_of(trial))
            for job in (self, *self.parents)
            if (trial := job.best()) is not None and (value := job._value(trial)) is not None
        ]
        return max(scored, key=lambda s: s[0])[1] if scored else None

    def prior_trials(self) -> list[tuple[dict[str, str], float]]:
        """The parents' completed trials: every hyperparameter this job tunes as its parent set it, and the
        objective. A parent's static value stands in for a hyperparameter it did not tune."""
        found: list[tuple[dict[str, str], float]] = []
        for parent in self.parents:
            static = dict(parent.definition.get("StaticHyperParameters") or {})
            for trial in list(parent.trials):
                value = parent._value(trial)
                if trial.status == "Completed" and value is not None:
                    found.append(({**static, **parent.tuned.get(trial.name, {})}, value))
        return found

    def summary(self) -> dict[str, Any]:
        d = self.describe()
        keys = (
            "HyperParameterTuningJobName",
            "HyperParameterTuningJobArn",
            "HyperParameterTuningJobStatus",
            "CreationTime",
            "HyperParameterTuningEndTime",
            "LastModifiedTime",
            "TrainingJobStatusCounters",
            "ObjectiveStatusCounters",
        )
        out = {k: d[k] for k in keys if k in d}
        out["Strategy"] = self.config.get("Strategy", "Bayesian")
        out["ResourceLimits"] = self.config.get("ResourceLimits")
        return out

    def trial_summaries(self) -> list[dict[str, Any]]:
        return [self._summary_of(t) for t in list(self.trials)]

    def finish(self, status: str, reason: str | None = None) -> None:
        with self.lock:
            if self.status == "Stopping":  # a stopped job ends Stopped, whatever its coordinator saw last
                status, reason = "Stopped", None
            self.status = status
            self.failure_reason = reason
            self.end_time = self.last_modified = utcnow()
        self.done.set()

    def request_stop(self) -> bool:
        """Stop the job and every trial it launched; launch no more. False if it had already ended."""
        with self.lock:
            if self.status != "InProgress":
                return False
            self.status = "Stopping"
            self.last_modified = utcnow()
        self.stop_trials()
        return True

    def stop_trials(self) -> None:
        """Launch no more trials and stop the running ones (a Stop, or the job's runtime limit)."""
        with self.lock:
            # Under the lock that _launch_trial holds: a trial is either seen here or never launched.
            self.stop_requested = True
            trials = list(self.trials)
        for trial in trials:
            trial.request_stop("user")

    def register(self, trial: jobs.TrainingJob, tuned: dict[str, str]) -> bool:
        """Record a trial about to be launched; False (nothing recorded) once the job is stopping."""
        with self.lock:
            if self.stop_requested:
                return False
            self.tuned[trial.name] = tuned
            self.trials.append(trial)
            self.last_modified = utcnow()
        return True


def convergence_window(max_jobs: int) -> int:
    """How many recent trials the local convergence check looks at: a fifth of the budget, at least 3."""
    return max(3, math.ceil(max_jobs / 5))


def converged(values: list[float], maximize: bool, max_jobs: int) -> bool:
    """The local stand-in for SageMaker's unpublished convergence test.

    Converged: after at least two windows of trials, the last window did not improve the best objective of
    the trials before it by more than 1% (SageMaker's own definition of no significant improvement).
    """
    window = convergence_window(max_jobs)
    if len(values) < 2 * window:
        return False
    pick = max if maximize else min
    before, recent = pick(values[:-window]), pick(values[-window:])
    return not completion.improves(recent, before, maximize)


def _objective_status(status: str, value: float | None) -> str:
    if value is not None and status in ("Completed", "Stopped"):
        return "Succeeded"
    if status in ("InProgress", "Stopping"):
        return "Pending"
    return "Failed"


# --- search space ----------------------------------------------------------------------------
def _is_log(scaling: str | None, lo: float, hi: float) -> bool:
    if scaling == "Logarithmic":
        return True
    # Auto: SageMaker chooses; log scale pays off for positive ranges spanning orders of magnitude.
    return scaling == "Auto" and lo > 0 and hi / lo >= 100


def search_space(config: dict[str, Any]) -> dict[str, optuna.distributions.BaseDistribution]:
    ranges = config.get("ParameterRanges") or {}
    space: dict[str, optuna.distributions.BaseDistribution] = {}
    for r in ranges.get("ContinuousParameterRanges") or []:
        lo, hi = float(r["MinValue"]), float(r["MaxValue"])
        scaling = r.get("ScalingType", "Auto")
        if scaling == "Logarithmic" and lo <= 0:
            raise ValidationException(
                "The hyperparameter tuning job that you requested has the following untunable "
                f"hyperparameter: {r['Name']}: a Logarithmic scaling type needs MinValue > 0."
            )
        if scaling == "ReverseLogarithmic":
            if lo < 0 or hi >= 1:
                raise ValidationException(
                    f"Invalid ScalingType ReverseLogarithmic for hyperparameter {r['Name']}. "
                    "It works only for ranges that are entirely within the range 0<=x<1.0."
                )
            # Sample 1 - x on a log scale: dense near hi, as SageMaker's reverse-log scaling.
            space[r["Name"]] = optuna.distributions.FloatDistribution(1 - hi, 1 - lo, log=True)
        else:
            space[r["Name"]] = optuna.distributions.FloatDistribution(lo, hi, log=_is_log(scaling, lo, hi))
    for r in ranges.get("IntegerParameterRanges") or []:
        lo_i, hi_i = int(r["MinValue"]), int(r["MaxValue"])
        if r.get("ScalingType") in ("Logarithmic", "ReverseLogarithmic") and (
            lo_i <= 0 or r.get("ScalingType") == "ReverseLogarithmic"
        ):
            # What the request gate refuses (localaws.validation.semantic), for callers that bypass it.
            raise ValidationException(
                f"Invalid ScalingType {r['ScalingType']} for hyperparameter {r['Name']}: an integer range "
                "takes Logarithmic only with MinValue > 0, and never ReverseLogarithmic."
            )
        space[r["Name"]] = optuna.distributions.IntDistribution(
            lo_i, hi_i, log=_is_log(r.get("ScalingType", "Auto"), lo_i, hi_i)
        )
    for r in ranges.get("CategoricalParameterRanges") or []:
        space[r["Name"]] = optuna.distributions.CategoricalDistribution(list(r["Values"]))
    if not space:
        raise ValidationException("ParameterRanges must define at least one hyperparameter to tune.")
    return space


def _reverse_log_names(config: dict[str, Any]) -> set[str]:
    ranges = (config.get("ParameterRanges") or {}).get("ContinuousParameterRanges") or []
    return {r["Name"] for r in ranges if r.get("ScalingType") == "ReverseLogarithmic"}


def _grid(space: dict[str, optuna.distributions.BaseDistribution]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for name, dist in space.items():
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            grid[name] = list(dist.choices)
        elif isinstance(dist, optuna.distributions.IntDistribution):
            grid[name] = list(range(dist.low, dist.high + 1))
        else:
            raise ValidationException(
                "The Grid search strategy supports only categorical and integer parameter ranges; "
                f"'{name}' is continuous."
            )
    return grid


def make_study(job_name: str, config: dict[str, Any]) -> optuna.Study:
    strategy = config.get("Strategy", "Bayesian")
    limits = config.get("ResourceLimits") or {}
    max_jobs = int(limits.get("MaxNumberOfTrainingJobs", 10))
    seed = int(config["RandomSeed"]) if "RandomSeed" in config else seed_from(job_name)
    space = search_space(config)
    sampler: optuna.samplers.BaseSampler
    pruner: optuna.pruners.BasePruner = optuna.pruners.NopPruner()
    if strategy == "Bayesian":
        # Few random start-up trials: the budget is small, and a model-based search is the point.
        with warnings.catch_warnings():
            # multivariate/group/constant_liar are "experimental" in optuna and say so at every use.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                seed=seed,
                multivariate=True,
                group=True,
                constant_liar=True,
                n_startup_trials=max(2, min(5, max_jobs // 4)),
            )
    elif strategy == "Random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    elif strategy == "Grid":
        sampler = optuna.samplers.GridSampler(_grid(space), seed=seed)
    elif strategy == "Hyperband":
        sampler = optuna.samplers.RandomSampler(seed=seed)
        hb = ((config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig")) or {}
        pruner = optuna.pruners.HyperbandPruner(
            min_resource=int(hb.get("MinResource", 1)), max_resource=int(hb.get("MaxResource", 100))
        )
    else:
        raise ValidationException(f"Strategy must be one of {list(STRATEGIES)}, got '{strategy}'.")
    if strategy != "Hyperband" and config.get("TrainingJobEarlyStoppingType") == "Auto":
        # SageMaker stops a trial whose objective is worse than the median of earlier trials at that point.
        pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=5, interval_steps=1)
    maximize = config["HyperParameterTuningJobObjective"]["Type"] == "Maximize"
    return optuna.create_study(
        direction="maximize" if maximize else "minimize", sampler=sampler, pruner=pruner
    )


def seed_study(
    study: optuna.Study,
    space: dict[str, optuna.distributions.BaseDistribution],
    reverse: set[str],
    prior: list[tuple[dict[str, str], float]],
) -> int:
    """Add a warm start's prior trials that lie within this job's ranges; return how many.

    SageMaker's warm start uses the parents' results to choose what to try next, for both warm-start types
    (with TransferLearning as prior knowledge): the sampler sees them as finished trials of its own study.
    """
    added = 0
    for values, objective in prior:
        params: dict[str, Any] = {}
        for name, dist in space.items():
            param = _param(dist, values.get(name), name in reverse)
            if param is None:
                break
            params[name] = param
        else:
            study.add_trial(optuna.trial.create_trial(params=params, distributions=space, value=objective))
            added += 1
    return added


def _param(dist: optuna.distributions.BaseDistribution, text: str | None, reverse: bool) -> Any:
    """`text` as a value of `dist` (the sampler's: 1 - x for a reverse-log range), None outside it."""
    if text is None:
        return None
    if isinstance(dist, optuna.distributions.CategoricalDistribution):
        return text if text in dist.choices else None
    try:
        number = float(text)
    except ValueError:
        return None
    value: Any = (1 - number) if reverse else number
    if isinstance(dist, optuna.distributions.IntDistribution):
        if not number.is_integer():
            return None
        value = int(number)
    return value if dist._contains(dist.to_internal_repr(value)) else None


def trial_name(job_name: str, index: int) -> str:
    digest = hashlib.sha256(f"{job_name}/{index}".encode()).hexdigest()[:8]
    return f"{job_name}-{index:03d}-{digest}"


# --- API -------------------------------------------------------------------------------------
def create(account_id: str, region: str, request: dict[str, Any]) -> TuningJob:
    name = validate_name("hyperParameterTuningJobName", request.get("HyperParameterTuningJobName"))
    config = request.get("HyperParameterTuningJobConfig") or {}
    if not config.get("HyperParameterTuningJobObjective"):
        raise ValidationException("HyperParameterTuningJobObjective is required.")
    if not (request.get("TrainingJobDefinition") or request.get("TrainingJobDefinitions")):
        raise ValidationException("Either TrainingJobDefinition or TrainingJobDefinitions is required.")
    space = search_space(config)
    if config.get("Strategy") == "Grid":
        _grid(space)
    parents = warm_start_parents(account_id, region, request)
    job = TuningJob(account_id, region, request)
    job.parents = parents
    job = backend(account_id, region).tuning_jobs.add(job)
    threading.Thread(target=run, args=(job,), name=f"tuning-{name}", daemon=True).start()
    return job


def warm_start_parents(account_id: str, region: str, request: dict[str, Any]) -> list[TuningJob]:
    """A warm start's parent jobs, refused as SageMaker's warm-start restrictions refuse them."""
    config = request.get("WarmStartConfig")
    if not config:
        return []
    child = request.get("HyperParameterTuningJobConfig") or {}
    definition = request.get("TrainingJobDefinition") or {}
    parents = []
    for entry in config.get("ParentHyperParameterTuningJobs") or []:
        parent = get(account_id, region, str(entry.get("HyperParameterTuningJobName", "")))
        with parent.lock:
            status = parent.status
        if status not in warm_start.TERMINAL:
            raise ValidationException(
                f"The parent tuning job {parent.name} is {status}. Parent tuning jobs must be in a terminal "
                f"state ({', '.join(warm_start.TERMINAL)}) before a warm start tuning job starts."
            )
        if parent.objective != child.get("HyperParameterTuningJobObjective"):
            raise ValidationException(
                "The objective metric of a warm start tuning job must be the same as the objective metric of "
                f"its parent tuning jobs: {parent.name} has {parent.objective.get('MetricName')}."
            )
        parent_ranges = parent.config.get("ParameterRanges")
        parent_static = parent.definition.get("StaticHyperParameters")
        child_ranges, child_static = child.get("ParameterRanges"), definition.get("StaticHyperParameters")
        if warm_start.names(parent_ranges, parent_static) != warm_start.names(child_ranges, child_static):
            # SageMaker's own words for this refusal.
            raise ValidationException(
                "The set of tunable plus static HyperParameter names is not the same across current and "
                "parent tuning jobs. Please ensure this set is constant when warm starting. Note that "
                "previously static HyperParameters can be tuned in warm start jobs and vice versa."
            )
        for name, (was, now) in sorted(warm_start.changed_kinds(parent_ranges, child_ranges).items()):
            raise ValidationException(
                f"The type of hyperparameter {name} is {was} in parent tuning job {parent.name} and {now} in "
                "this tuning job. The type of a hyperparameter cannot change in a warm start tuning job."
            )
        count = warm_start.changes(parent_ranges, parent_static, child_ranges, child_static)
        if count > warm_start.MAX_CHANGES:
            raise ValidationException(
                f"There are {count} changes from tunable to static hyperparameters and in static "
                f"hyperparameter values against parent tuning job {parent.name}. A warm start allows at "
                f"most {warm_start.MAX_CHANGES}."
            )
        parents.append(parent)
    return parents


def get(account_id: str, region: str, name: str) -> TuningJob:
    return backend(account_id, region).tuning_jobs.lookup(name)


# --- the coordinator -------------------------------------------------------------------------
def run(job: TuningJob) -> None:
    try:
        _run(job)
    except Exception as err:
        job.finish("Failed", f"InternalServerError: {type(err).__name__}: {err}")


def _run(job: TuningJob) -> None:
    injected = faults.take_failure("tuning")
    if injected:
        job.finish("Failed", injected)
        return
    config = job.config
    limits = config.get("ResourceLimits") or {}
    max_jobs = int(limits.get("MaxNumberOfTrainingJobs", 10))
    max_parallel = max(1, int(limits.get("MaxParallelTrainingJobs", 1)))
    max_runtime = float(limits.get("MaxRuntimeInSeconds") or 0)
    deadline = time.monotonic() + max_runtime if max_runtime > 0 else None
    space = search_space(config)
    if config.get("Strategy") == "Grid":
        max_jobs = min(max_jobs, math.prod(len(v) for v in _grid(space).values()))
    study = make_study(job.name, config)
    reverse = _reverse_log_names(config)
    seed_study(study, space, reverse, job.prior_trials())
    running: dict[Future[None], tuple[optuna.trial.Trial, jobs.TrainingJob]] = {}
    launched = 0
    met = False  # a completion criterion is met: launch no more trials
    with ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix=f"trial-{job.name}") as pool:
        while running or (launched < max_jobs and not job.stop_requested and not met):
            if deadline is not None and time.monotonic() > deadline and not job.stop_requested:
                job.stop_trials()
            while len(running) < max_parallel and launched < max_jobs and not job.stop_requested and not met:
                launched += 1
                trial = study.ask(fixed_distributions=space)
                training = _launch_trial(job, launched, trial, reverse)
                if training is None:
                    _tell(study, trial, None, optuna.trial.TrialState.FAIL)
                    break
                running[pool.submit(_run_trial, job, trial, training)] = (trial, training)
            finished, _ = wait(list(running), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for fut in finished:
                trial, training = running.pop(fut)
                value = job._value(training)
                if training.status == "Completed" and value is not None:
                    _tell(study, trial, value, optuna.trial.TrialState.COMPLETE)
                    met = job.trial_ended(value) is not None or met
                elif training.status == "Stopped" and value is not None:
                    _tell(study, trial, None, optuna.trial.TrialState.PRUNED)
                    # Stopped early, it did not improve on the best: the criteria count it too.
                    met = (not job.stop_requested and job.trial_ended(value) is not None) or met
                else:
                    _tell(study, trial, None, optuna.trial.TrialState.FAIL)
    _conclude(job)


def _tell(study: optuna.Study, trial: optuna.trial.Trial, value: float | None, state: Any) -> None:
    try:
        if value is None:
            study.tell(trial, state=state)
        else:
            study.tell(trial, value)
    except RuntimeError as err:
        # GridSampler calls study.stop() once the grid is covered, which only works inside
        # study.optimize(); the trial is stored before that (optuna's _tell `finally`), so go on.
        if "Study.stop" not in str(err):
            raise


def _format(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _launch_trial(
    job: TuningJob, index: int, trial: optuna.trial.Trial, reverse: set[str]
) -> jobs.TrainingJob | None:
    """The trial's training job, registered with the tuning job (None once the job is stopping)."""
    params = {k: (1 - v if k in reverse else v) for k, v in trial.params.items()}
    tuned = {k: _format(v) for k, v in params.items()}
    d = job.definition
    name = trial_name(job.name, index)
    hps = {**(d.get("StaticHyperParameters") or {}), **tuned}
    hps["_tuning_objective_metric"] = job.objective["MetricName"]
    request = {
        "TrainingJobName": name,
        "HyperParameters": hps,
        "AlgorithmSpecification": d.get("AlgorithmSpecification"),
        "RoleArn": d.get("RoleArn"),
        "InputDataConfig": d.get("InputDataConfig"),
        "OutputDataConfig": d.get("OutputDataConfig"),
        "ResourceConfig": d.get("ResourceConfig"),
        "VpcConfig": d.get("VpcConfig"),
        "StoppingCondition": d.get("StoppingCondition"),
        "EnableNetworkIsolation": d.get("EnableNetworkIsolation"),
        "EnableInterContainerTrafficEncryption": d.get("EnableInterContainerTrafficEncryption"),
        "EnableManagedSpotTraining": d.get("EnableManagedSpotTraining"),
        "CheckpointConfig": d.get("CheckpointConfig"),
        "Environment": d.get("Environment"),
        "Tags": job.tags,
    }
    training = jobs.TrainingJob(job.account_id, job.region, drop_none(request), tuning_job_arn=job.arn)
    if not job.register(training, tuned):
        return None
    backend(job.account_id, job.region).training_jobs.put(training)
    return training


def _run_trial(job: TuningJob, trial: optuna.trial.Trial, training: jobs.TrainingJob) -> None:
    metric = job.objective["MetricName"]
    prunes = not isinstance(trial.study.pruner, optuna.pruners.NopPruner)

    def on_metric(name: str, step: int, value: float) -> bool:
        if name != metric or not prunes:
            return False
        trial.report(value, step)
        return bool(trial.should_prune())

    jobs.run(training, on_metric)


def _conclude(job: TuningJob) -> None:
    trials = list(job.trials)
    if job.status == "Stopping":
        job.finish("Stopped")
        return
    if trials and job.best() is None:
        job.finish(
            "Failed",
            f"No training job succeeded after {len(trials)} attempts. "
            "Please take a look at the training job failures to get more details.",
        )
        return
    job.finish("Completed")
