"""Live progress of one execution, built from recorded Describe outputs and rendered as rows (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.completion import stop_reason
from mlstack.tables import number


@dataclass(frozen=True)
class TuningProgress:
    """DescribeHyperParameterTuningJob, reduced to what a person watching wants."""

    status: str
    done: int
    running: int
    failed: int
    max_jobs: int | None
    metric: str | None
    best: float | None
    ended: str | None = None  # why it stopped, once it has (contracts.completion.stop_reason)


@dataclass(frozen=True)
class AutopilotProgress:
    """DescribeAutoMLJobV2 plus the number of candidates listed so far."""

    status: str
    detail: str | None
    candidates: int
    metric: str | None
    best: float | None


@dataclass(frozen=True)
class Snapshot:
    """Everything shown at one poll."""

    status: str
    elapsed_s: float
    states: tuple[str, ...] = ()
    tuning: TuningProgress | None = None
    autopilot: AutopilotProgress | None = None
    endpoint: str | None = None


def tuning_progress(described: Mapping[str, Any]) -> TuningProgress:
    """From a DescribeHyperParameterTuningJob response."""
    counters = described.get("TrainingJobStatusCounters") or {}
    limits = (described.get("HyperParameterTuningJobConfig") or {}).get("ResourceLimits") or {}
    best = (described.get("BestTrainingJob") or {}).get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    objective = (described.get("HyperParameterTuningJobConfig") or {}).get(
        "HyperParameterTuningJobObjective"
    ) or {}
    value = best.get("Value")
    return TuningProgress(
        status=str(described.get("HyperParameterTuningJobStatus", "?")),
        done=int(counters.get("Completed", 0)) + int(counters.get("Stopped", 0)),
        running=int(counters.get("InProgress", 0)),
        # Early stopping stops trials on purpose: they count as done (they have an objective). A
        # retryable error is still a failed trial from the watcher's point of view.
        failed=int(counters.get("RetryableError", 0)) + int(counters.get("NonRetryableError", 0)),
        max_jobs=limits.get("MaxNumberOfTrainingJobs"),
        metric=best.get("MetricName") or objective.get("MetricName"),
        best=float(value) if isinstance(value, int | float) else None,
        ended=stop_reason(described),
    )


def autopilot_progress(described: Mapping[str, Any], candidates: int) -> AutopilotProgress:
    """From a DescribeAutoMLJobV2 response and the length of ListCandidatesForAutoMLJob."""
    best = (described.get("BestCandidate") or {}).get("FinalAutoMLJobObjectiveMetric") or {}
    objective = described.get("AutoMLJobObjective") or {}
    value = best.get("Value")
    return AutopilotProgress(
        status=str(described.get("AutoMLJobStatus", "?")),
        detail=described.get("AutoMLJobSecondaryStatus"),
        candidates=candidates,
        metric=best.get("MetricName") or objective.get("MetricName"),
        best=float(value) if isinstance(value, int | float) else None,
    )


def active_states(events: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """States entered and not yet exited, in the order they were entered (GetExecutionHistory events)."""
    depth: dict[str, int] = {}
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        exited = event.get("stateExitedEventDetails")
        if entered:
            name = entered["name"]
            depth.pop(name, None)  # re-entered (a polling loop): move it to the end
            depth[name] = 1
        elif exited and exited["name"] in depth:
            del depth[exited["name"]]
    return tuple(depth)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def rows(snapshot: Snapshot, clock: bool = True) -> list[tuple[str, str]]:
    """(label, text) rows: the execution, tuning, Autopilot and endpoint lines."""
    states = " > ".join(snapshot.states) if snapshot.states else "-"
    elapsed = f" {_clock(snapshot.elapsed_s)}" if clock else ""
    out = [("execution", f"{snapshot.status}{elapsed}  {states}")]
    tuning = snapshot.tuning
    if tuning is None:
        out.append(("tuning", "not started"))
    else:
        budget = f"/{tuning.max_jobs}" if tuning.max_jobs else ""
        out.append(
            (
                "tuning",
                f"{tuning.status}  trials {tuning.done}{budget} done, {tuning.running} running, "
                f"{tuning.failed} failed  best {tuning.metric or 'objective'} {number(tuning.best)}"
                + (f"  ended: {tuning.ended}" if tuning.ended else ""),
            )
        )
    auto = snapshot.autopilot
    if auto is None:
        out.append(("autopilot", "not started"))
    else:
        detail = f" ({auto.detail})" if auto.detail else ""
        out.append(
            (
                "autopilot",
                f"{auto.status}{detail}  candidates {auto.candidates}  "
                f"best {auto.metric or 'objective'} {number(auto.best)}",
            )
        )
    out.append(("endpoint", snapshot.endpoint or "-"))
    return out


def plain_line(snapshot: Snapshot) -> str:
    """One log line for a non-terminal output; the elapsed time is left out so repeats can be skipped."""
    return " | ".join(f"{label}: {text}" for label, text in rows(snapshot, clock=False))
