"""When a tuning job may stop before its budget (TuningJobCompletionCriteria), and why a job stopped.

One home for the criteria's rules, shared by ValidateInput (which builds them from the run options), the
local AWS (which refuses and honours them), the CLI and the leaderboard (which say why tuning stopped).
SageMaker's developer guide ("Track and set completion criteria for your tuning job"): a trial that does
not improve the best objective by 1% or more does not count as an improvement; convergence is "none of
the training jobs return significant improvement (1% or less)"; any one criterion met ends the job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

TARGET = "TargetObjectiveMetricValue"
NOT_IMPROVING = "BestObjectiveNotImproving"
CONVERGENCE = "ConvergenceDetected"
# The relative gain below which a trial does not improve the best objective.
IMPROVEMENT = 0.01
# Which strategies search sequentially enough for a stop on no progress to mean anything: Grid runs its
# fixed grid to the end and Hyperband allocates its own budget, so only a target applies to them.
STRATEGIES: Mapping[str, tuple[str, ...]] = {
    TARGET: ("Bayesian", "Random", "Hyperband", "Grid"),
    NOT_IMPROVING: ("Bayesian", "Random"),
    CONVERGENCE: ("Bayesian", "Random"),
}
# The run option that sets each criterion.
OPTIONS: Mapping[str, str] = {
    TARGET: "tuning_target_objective",
    NOT_IMPROVING: "tuning_max_jobs_not_improving",
    CONVERGENCE: "tuning_complete_on_convergence",
}


def criteria(
    target: float | None, max_not_improving: int | None, on_convergence: bool
) -> dict[str, Any] | None:
    """TuningJobCompletionCriteria for these settings, or None when none is set (the key stays absent)."""
    found: dict[str, Any] = {}
    if target is not None:
        found[TARGET] = float(target)
    if max_not_improving is not None:
        found[NOT_IMPROVING] = {"MaxNumberOfTrainingJobsNotImproving": int(max_not_improving)}
    if on_convergence:
        found[CONVERGENCE] = {"CompleteOnConvergence": "Enabled"}
    return found or None


def active(given: Mapping[str, Any] | None) -> list[str]:
    """The criteria a TuningJobCompletionCriteria actually sets (a Disabled convergence is none)."""
    given = given or {}
    names = [TARGET] if given.get(TARGET) is not None else []
    stall = given.get(NOT_IMPROVING)
    if isinstance(stall, Mapping) and stall.get("MaxNumberOfTrainingJobsNotImproving"):
        names.append(NOT_IMPROVING)
    convergence = given.get(CONVERGENCE)
    if isinstance(convergence, Mapping) and convergence.get("CompleteOnConvergence") == "Enabled":
        names.append(CONVERGENCE)
    return names


def not_allowed(strategy: str, given: Mapping[str, Any] | None) -> list[str]:
    """The criteria in `given` that `strategy` does not allow, in STRATEGIES' order."""
    return [name for name in active(given) if strategy not in STRATEGIES[name]]


def improves(value: float, best: float | None, maximize: bool) -> bool:
    """Whether `value` beats `best` by at least IMPROVEMENT of its size (any value beats none)."""
    if best is None:
        return True
    margin = IMPROVEMENT * abs(best)
    return value > best + margin if maximize else value < best - margin


def not_improving(values: Sequence[float], maximize: bool) -> int:
    """How many trials, in the order they ended, have not improved the best since the last one that did."""
    best: float | None = None
    count = 0
    for value in values:
        count = 0 if improves(value, best, maximize) else count + 1
        if best is None or (value > best if maximize else value < best):
            best = value  # a gain under 1% still moves the best, though it does not reset the count
    return count


def reached(value: float, target: float, maximize: bool) -> bool:
    """Whether an objective value meets TargetObjectiveMetricValue."""
    return value >= target if maximize else value <= target


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def stop_reason(described: Mapping[str, Any]) -> str | None:
    """Why a tuning job stopped, in words, from DescribeHyperParameterTuningJob; None while it runs."""
    status = described.get("HyperParameterTuningJobStatus")
    if status in (None, "InProgress", "Stopping"):
        return None
    if status == "Failed":
        return f"it failed: {described.get('FailureReason') or 'SageMaker gave no reason'}"
    if status == "Stopped":
        return "it was stopped (StopHyperParameterTuningJob) before its budget was spent"
    config = described.get("HyperParameterTuningJobConfig") or {}
    given = config.get("TuningJobCompletionCriteria") or {}
    details = described.get("TuningJobCompletionDetails") or {}
    objective = config.get("HyperParameterTuningJobObjective") or {}
    maximize = objective.get("Type") != "Minimize"
    best_job = described.get("BestTrainingJob") or {}
    best = _number((best_job.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value"))
    target = _number(given.get(TARGET))
    if target is not None and best is not None and reached(best, target, maximize):
        return f"a trial reached the target objective {target:g} ({TARGET}): best {best:g}"
    limit = (given.get(NOT_IMPROVING) or {}).get("MaxNumberOfTrainingJobsNotImproving")
    count = details.get("NumberOfTrainingJobsObjectiveNotImproving")
    if isinstance(limit, int) and isinstance(count, int) and count >= limit:
        return f"{count} trials in a row did not improve the best objective by 1% ({NOT_IMPROVING})"
    if details.get("ConvergenceDetectedTime") and CONVERGENCE in active(given):
        return f"tuning converged: no trial improved the best objective by more than 1% ({CONVERGENCE})"
    counters = described.get("TrainingJobStatusCounters") or {}
    launched = sum(v for v in counters.values() if isinstance(v, int))
    budget = (config.get("ResourceLimits") or {}).get("MaxNumberOfTrainingJobs")
    if config.get("Strategy") == "Grid":
        return f"it ran every point of its grid ({launched} training jobs)"
    if isinstance(budget, int):
        return f"it spent its budget: {launched} of {budget} training jobs"
    return f"it completed after {launched} training jobs"
