"""Every tuning trial and every Autopilot candidate, read from SageMaker (paginated)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from contracts.completion import stop_reason
from handlers.common.aws_errors import error_code
from handlers.common.json_types import JsonDict

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

# Autopilot metrics where lower is better; every other Autopilot objective is maximized.
_MINIMIZED = frozenset(
    {"MSE", "RMSE", "MAE", "LogLoss", "MAPE", "MASE", "WAPE", "AverageWeightedQuantileLoss"}
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _seconds(start: Any, end: Any) -> float | None:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return round((end - start).total_seconds(), 3)
    return None


def tuning_trials(sm: SageMakerClient, job_name: str) -> list[JsonDict]:
    """The tuning job's training jobs in launch order: name, status, objective, tuned hyperparameters."""
    paginator = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
    trials: list[JsonDict] = []
    pages = paginator.paginate(
        HyperParameterTuningJobName=job_name, SortBy="CreationTime", SortOrder="Ascending"
    )
    for page in pages:
        for job in page.get("TrainingJobSummaries", []):
            final: Mapping[str, Any] = job.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
            trials.append(
                {
                    "name": job["TrainingJobName"],
                    "status": job.get("TrainingJobStatus"),
                    "objective": final.get("Value"),
                    "metric": final.get("MetricName"),
                    "hyperparameters": dict(job.get("TunedHyperParameters") or {}),
                    "created": _iso(job.get("CreationTime")),
                    "seconds": _seconds(job.get("TrainingStartTime"), job.get("TrainingEndTime")),
                }
            )
    trials.sort(key=lambda t: (t["created"] or "", t["name"]))
    return trials


def autopilot_candidates(sm: SageMakerClient, job_name: str) -> list[JsonDict]:
    """The AutoML job's candidates: name, status, objective and whether higher is better."""
    paginator = sm.get_paginator("list_candidates_for_auto_ml_job")
    candidates: list[JsonDict] = []
    for page in paginator.paginate(AutoMLJobName=job_name, SortBy="CreationTime", SortOrder="Ascending"):
        for candidate in page.get("Candidates", []):
            final: Mapping[str, Any] = candidate.get("FinalAutoMLJobObjectiveMetric") or {}
            metric = final.get("MetricName")
            kind = final.get("Type") or ("Minimize" if metric in _MINIMIZED else "Maximize")
            candidates.append(
                {
                    "name": candidate["CandidateName"],
                    "status": candidate.get("CandidateStatus"),
                    "objective": final.get("Value"),
                    "metric": metric,
                    "type": kind,
                    "created": _iso(candidate.get("CreationTime")),
                    # SageMaker carries a candidate's training time as its CreationTime → EndTime.
                    "seconds": _seconds(candidate.get("CreationTime"), candidate.get("EndTime")),
                    **candidate_record(candidate),
                }
            )
    return candidates


def candidate_record(candidate: Mapping[str, Any]) -> JsonDict:
    """What a candidate is, as SageMaker lists it: its steps, its metrics, where its reports are."""
    properties: Mapping[str, Any] = candidate.get("CandidateProperties") or {}
    locations: Mapping[str, Any] = properties.get("CandidateArtifactLocations") or {}
    return {
        "steps": [
            {
                "type": step.get("CandidateStepType"),
                "name": step.get("CandidateStepName"),
                "arn": step.get("CandidateStepArn"),
            }
            for step in candidate.get("CandidateSteps") or []
        ],
        "metrics": [
            {
                "name": m.get("StandardMetricName") or m.get("MetricName"),
                "set": m.get("Set"),
                "value": m.get("Value"),
            }
            for m in properties.get("CandidateMetrics") or []
        ],
        "artifacts": {
            "model_insights": locations.get("ModelInsights"),
            "explainability": locations.get("Explainability"),
        },
    }


def best(entries: list[JsonDict], maximize: bool) -> JsonDict | None:
    """The entry with the best objective (None when no entry has one)."""
    scored = [e for e in entries if isinstance(e.get("objective"), int | float)]
    if not scored:
        return None
    return (max if maximize else min)(scored, key=lambda e: float(e["objective"]))


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return _iso(value) if isinstance(value, datetime) else value


def tuning_settings(run: Mapping[str, Any]) -> JsonDict:
    """What the run asked the tuning job for: strategy, ranges, static hyperparameters, criteria, parents."""
    tuning = run.get("tuning") or {}
    config = tuning.get("config") or {}
    script = tuning.get("script")
    return {
        "strategy": config.get("Strategy"),
        "ranges": config.get("ParameterRanges"),
        "static_hyperparameters": tuning.get("static_hyperparameters"),
        "completion_criteria": config.get("TuningJobCompletionCriteria"),
        "warm_start": tuning.get("warm_start"),
        # What was tuned: the run's own script (None: built-in XGBoost).
        "script": {key: script.get(key) for key in ("entry_point", "framework", "framework_version")}
        if script
        else None,
        "ended": None,
    }


def tuning_outcome(sm: SageMakerClient, job_name: str) -> JsonDict:
    """The tuning job as SageMaker ran it, and why it ended (contracts.completion.stop_reason)."""
    described: Mapping[str, Any] = sm.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=job_name
    )
    config = described.get("HyperParameterTuningJobConfig") or {}
    definition = described.get("TrainingJobDefinition") or {}
    return {
        "strategy": config.get("Strategy"),
        "ranges": _json(config.get("ParameterRanges")),
        "static_hyperparameters": dict(definition.get("StaticHyperParameters") or {}),
        "completion_criteria": _json(config.get("TuningJobCompletionCriteria")),
        "completion_details": _json(described.get("TuningJobCompletionDetails")),
        "warm_start": _json(described.get("WarmStartConfig")),
        "status": described.get("HyperParameterTuningJobStatus"),
        "ended": stop_reason(described),
    }


def build_leaderboard(sm: SageMakerClient, run: Mapping[str, Any]) -> JsonDict:
    """leaderboard.json: both jobs' entries; a job that cannot be listed becomes a warning."""
    names = run["names"]
    objective = run["tuning"]["config"]["HyperParameterTuningJobObjective"]
    warnings: list[str] = []
    trials: list[JsonDict] = []
    candidates: list[JsonDict] = []
    settings = tuning_settings(run)
    try:
        settings = {**settings, **tuning_outcome(sm, names["tuning_job"])}
    except (ClientError, BotoCoreError) as err:
        warnings.append(f"tuning job {names['tuning_job']}: cannot describe it ({type(err).__name__}: {err})")
    try:
        trials = tuning_trials(sm, names["tuning_job"])
    except ClientError as err:
        warnings.append(f"tuning job {names['tuning_job']}: cannot list trials ({error_code(err)}: {err})")
    try:
        candidates = autopilot_candidates(sm, names["automl_job"])
    except ClientError as err:
        warnings.append(
            f"AutoML job {names['automl_job']}: cannot list candidates ({error_code(err)}: {err})"
        )
    maximize_trials = objective.get("Type") == "Maximize"
    maximize_candidates = not candidates or candidates[0]["type"] == "Maximize"
    best_trial, best_candidate = best(trials, maximize_trials), best(candidates, maximize_candidates)
    return {
        "run_id": run.get("run_id"),
        "dataset": (run.get("dataset") or {}).get("uri"),
        "tuning": {
            "job": names["tuning_job"],
            "objective": dict(objective),
            "best": best_trial["name"] if best_trial else None,
            **settings,
            "trials": trials,
        },
        "autopilot": {
            "job": names["automl_job"],
            "objective": dict(run["autopilot"]["objective"]),
            "best": best_candidate["name"] if best_candidate else None,
            "candidates": candidates,
        },
        "warnings": warnings,
    }


@dataclass(frozen=True)
class HyperparameterSeries:
    """One tuned hyperparameter against the objective: a point per scored trial, in launch order."""

    name: str
    categorical: bool
    logarithmic: bool  # searched on a log scale (ScalingType Logarithmic): drawn on one
    values: list[str]  # as SageMaker reports them (strings)
    numbers: list[float]  # the values as numbers ([] when categorical)
    objectives: list[float]
    best: int | None  # index of the tuning job's best trial


def _range_kinds(ranges: Any) -> dict[str, tuple[bool, bool]]:
    """hyperparameter -> (categorical, logarithmic), from ParameterRanges as SageMaker describes them."""
    kinds: dict[str, tuple[bool, bool]] = {}
    if not isinstance(ranges, Mapping):
        return kinds
    for key in ("ContinuousParameterRanges", "IntegerParameterRanges", "CategoricalParameterRanges"):
        for entry in ranges.get(key) or []:
            kinds[str(entry.get("Name"))] = (
                key.startswith("Categorical"),
                entry.get("ScalingType") == "Logarithmic",
            )
    return kinds


def finite_number(value: Any) -> float | None:
    """A finite number from a number or its text (SageMaker writes hyperparameters as text); else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def shown_value(value: Any) -> str:
    """A hyperparameter value as a person reads it: a script's categorical values reach its container
    JSON-encoded (as the SageMaker SDK sends a framework's), '"log_loss"' is shown as log_loss."""
    text = str(value)
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        return decoded if isinstance(decoded, str) else text
    return text


def hyperparameter_series(tuning: Mapping[str, Any]) -> list[HyperparameterSeries]:
    """Each hyperparameter the trials were given, against their objective (from leaderboard.json's tuning)."""
    trials = [
        t
        for t in tuning.get("trials") or []
        if isinstance(t.get("objective"), int | float) and not isinstance(t.get("objective"), bool)
    ]
    kinds = _range_kinds(tuning.get("ranges"))
    best = next((i for i, t in enumerate(trials) if t.get("name") == tuning.get("best")), None)
    series = []
    for name in sorted({n for t in trials for n in (t.get("hyperparameters") or {})}):
        values = [shown_value((t.get("hyperparameters") or {}).get(name, "")) for t in trials]
        numbers = [finite_number(v) for v in values]
        categorical, logarithmic = kinds.get(name, (False, False))
        categorical = categorical or any(n is None for n in numbers)
        kept = [n for n in numbers if n is not None]
        series.append(
            HyperparameterSeries(
                name=name,
                categorical=categorical,
                logarithmic=logarithmic and not categorical and min(kept, default=0.0) > 0,
                values=values,
                numbers=[] if categorical else kept,
                objectives=[float(t["objective"]) for t in trials],
                best=best,
            )
        )
    return series
