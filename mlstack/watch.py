"""Poll one execution and its SageMaker jobs into a progress Snapshot (the AWS side of `run --follow`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from contracts.names import RunNames
from handlers.common.aws_errors import is_not_found
from mlstack.progress import Snapshot, active_states, autopilot_progress, tuning_progress


def _optional(call: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """A Describe answer, or None while the resource does not exist (yet, or any more)."""
    try:
        return call()
    except ClientError as err:
        if is_not_found(err):
            return None
        raise


def _history(sfn: Any, execution_arn: str) -> list[Mapping[str, Any]]:
    events: list[Mapping[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn, includeExecutionData=False
    ):
        events.extend(page["events"])
    return events


def _candidates(sm: Any, job: str) -> int:
    count = 0
    for page in sm.get_paginator("list_candidates_for_auto_ml_job").paginate(AutoMLJobName=job):
        count += len(page.get("Candidates", []))
    return count


def poll(sfn: Any, sm: Any, execution_arn: str, names: RunNames) -> tuple[Snapshot, Mapping[str, Any]]:
    """One look at the execution; returns the snapshot and the DescribeExecution answer."""
    execution = sfn.describe_execution(executionArn=execution_arn)
    started: datetime = execution["startDate"]
    ended: datetime = execution.get("stopDate") or datetime.now(UTC)
    tuning = _optional(
        lambda: sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=names.tuning_job)
    )
    automl = _optional(lambda: sm.describe_auto_ml_job_v2(AutoMLJobName=names.automl_job))
    endpoint = _optional(lambda: sm.describe_endpoint(EndpointName=names.endpoint))
    snapshot = Snapshot(
        status=str(execution["status"]),
        elapsed_s=(ended - started).total_seconds(),
        states=active_states(_history(sfn, execution_arn)) if execution["status"] == "RUNNING" else (),
        tuning=tuning_progress(tuning) if tuning else None,
        autopilot=autopilot_progress(automl, _candidates(sm, names.automl_job)) if automl else None,
        endpoint=str(endpoint["EndpointStatus"]) if endpoint else None,
    )
    return snapshot, execution


def follow(
    sfn: Any,
    sm: Any,
    execution_arn: str,
    names: RunNames,
    show: Callable[[Snapshot], None],
    interval_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Mapping[str, Any]:
    """Poll until the execution ends, showing each snapshot; returns the final DescribeExecution."""
    while True:
        snapshot, execution = poll(sfn, sm, execution_arn, names)
        show(snapshot)
        if execution["status"] != "RUNNING":
            return execution
        sleep(interval_s)
