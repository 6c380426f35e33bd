"""Why a script's trials gave tuning nothing: which objective regex matched nothing in which trial.

A trial that completes without printing a line its objective's regex matches is still Completed in
SageMaker; only its ObjectiveStatus says Failed, and a tuning job whose every trial is so fails with
"No training job succeeded". This names the regex and the trials, from the tuning job's own listing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from handlers.common.aws_errors import is_not_found

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

SHOWN = 5  # trials named in one note; the rest are counted


def silent_trials(summaries: list[Mapping[str, Any]]) -> list[str]:
    """Trials that completed (or were stopped) yet reported no objective value."""
    return [
        str(s["TrainingJobName"])
        for s in summaries
        if s.get("TrainingJobStatus") in ("Completed", "Stopped") and s.get("ObjectiveStatus") == "Failed"
    ]


def objective_note(run: Mapping[str, Any], trials: list[str]) -> str | None:
    """The run's words for trials whose objective's regex matched nothing (None when there are none)."""
    if not trials:
        return None
    tuning = run["tuning"]
    metric = tuning["config"]["HyperParameterTuningJobObjective"]["MetricName"]
    regex = next(
        (m["Regex"] for m in tuning["algorithm"].get("MetricDefinitions") or [] if m["Name"] == metric), "?"
    )
    named = ", ".join(trials[:SHOWN]) + (f" and {len(trials) - SHOWN} more" if len(trials) > SHOWN else "")
    return (
        f"the objective {metric}'s regex {regex!r} matched nothing in the output of {len(trials)} "
        f"completed trial(s): {named}; make the script print a line it matches (its one group the value), "
        "or fix the regex"
    )


def diagnose(sm: SageMakerClient, run: Mapping[str, Any]) -> list[str]:
    """Notes on a script run's tuning job (none for built-in XGBoost)."""
    if "script" not in run["tuning"]:
        return []
    paginator = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
    summaries: list[Mapping[str, Any]] = []
    try:
        for page in paginator.paginate(HyperParameterTuningJobName=run["names"]["tuning_job"]):
            summaries.extend(page.get("TrainingJobSummaries", []))
    except ClientError as err:
        if not is_not_found(err):  # no tuning job at all: its create failed, and the cause says why
            raise
    note = objective_note(run, silent_trials(summaries))
    return [note] if note else []
