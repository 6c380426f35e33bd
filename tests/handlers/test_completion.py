"""Completion criteria: building them, which strategies take them, counting progress, why a job stopped."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import completion


def test_criteria_hold_only_what_is_set() -> None:
    assert completion.criteria(None, None, False) is None
    assert completion.criteria(0.91, 5, True) == {
        "TargetObjectiveMetricValue": 0.91,
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 5},
        "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"},
    }
    assert completion.active({"ConvergenceDetected": {"CompleteOnConvergence": "Disabled"}}) == []


@pytest.mark.parametrize(
    ("strategy", "refused"),
    [
        ("Bayesian", []),
        ("Random", []),
        ("Hyperband", ["BestObjectiveNotImproving", "ConvergenceDetected"]),
        ("Grid", ["BestObjectiveNotImproving", "ConvergenceDetected"]),
    ],
)
def test_only_sequential_searches_stop_on_no_progress(strategy: str, refused: list[str]) -> None:
    assert completion.not_allowed(strategy, completion.criteria(0.9, 4, True)) == refused


@pytest.mark.parametrize(
    ("values", "maximize", "count"),
    [
        ([], True, 0),
        ([0.80, 0.85, 0.855], True, 1),  # 0.855 is under 1% better than 0.85
        ([0.80, 0.85, 0.855, 0.858, 0.86], True, 3),  # small gains move the best, not the count
        ([0.80, 0.85, 0.855, 0.90], True, 0),  # 0.90 is 5% better than 0.855
        ([1.00, 0.95, 0.949, 0.90], False, 0),  # minimizing: lower by more than 1% improves
        ([1.00, 0.995, 1.2], False, 2),
    ],
)
def test_trials_not_improving_by_one_percent_are_counted(
    values: list[float], maximize: bool, count: int
) -> None:
    assert completion.not_improving(values, maximize) == count


def described(**changes: Any) -> dict[str, Any]:
    """A DescribeHyperParameterTuningJob answer of a Completed Bayesian job."""
    answer: dict[str, Any] = {
        "HyperParameterTuningJobStatus": "Completed",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 2},
        },
        "TrainingJobStatusCounters": {"Completed": 9, "InProgress": 0, "Stopped": 1, "NonRetryableError": 0},
        "BestTrainingJob": {"FinalHyperParameterTuningJobObjectiveMetric": {"Value": 0.93}},
        "TuningJobCompletionDetails": {"NumberOfTrainingJobsObjectiveNotImproving": 2},
    }
    answer.update(changes)
    return answer


def with_criteria(criteria: dict[str, Any], **changes: Any) -> dict[str, Any]:
    answer = described(**changes)
    answer["HyperParameterTuningJobConfig"] = {
        **answer["HyperParameterTuningJobConfig"],
        "TuningJobCompletionCriteria": criteria,
    }
    return answer


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (described(HyperParameterTuningJobStatus="InProgress"), None),
        (described(), "it spent its budget: 10 of 20 training jobs"),
        (
            with_criteria({"TargetObjectiveMetricValue": 0.92}),
            "a trial reached the target objective 0.92 (TargetObjectiveMetricValue): best 0.93",
        ),
        (
            with_criteria(
                {"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}},
                TuningJobCompletionDetails={"NumberOfTrainingJobsObjectiveNotImproving": 3},
            ),
            "3 trials in a row did not improve the best objective by 1% (BestObjectiveNotImproving)",
        ),
        (
            with_criteria(
                {"ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}},
                TuningJobCompletionDetails={"ConvergenceDetectedTime": "2026-11-22T05:00:00Z"},
            ),
            "tuning converged: no trial improved the best objective by more than 1% (ConvergenceDetected)",
        ),
        (
            with_criteria({"TargetObjectiveMetricValue": 0.99}),
            "it spent its budget: 10 of 20 training jobs",
        ),
        (
            described(HyperParameterTuningJobStatus="Failed", FailureReason="No training job succeeded"),
            "it failed: No training job succeeded",
        ),
        (
            described(HyperParameterTuningJobStatus="Stopped"),
            "it was stopped (StopHyperParameterTuningJob) before its budget was spent",
        ),
    ],
)
def test_why_a_tuning_job_stopped(answer: dict[str, Any], reason: str | None) -> None:
    assert completion.stop_reason(answer) == reason


def test_a_grid_job_ran_its_grid() -> None:
    answer = described()
    answer["HyperParameterTuningJobConfig"]["Strategy"] = "Grid"
    assert completion.stop_reason(answer) == "it ran every point of its grid (10 training jobs)"
