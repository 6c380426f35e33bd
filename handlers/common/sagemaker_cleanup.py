"""Stopping jobs and deleting endpoint → endpoint config → models, idempotently ('not found' is success)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from handlers.common.aws_errors import error_code, error_message, is_not_found
from handlers.common.errors import EndpointNotDeletable
from handlers.common.json_types import JsonDict

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

# Endpoint states in which DeleteEndpoint is refused: wait for them to settle.
BUSY = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})


@dataclass
class Outcome:
    """What was done, resource by resource ('<kind>:<name>')."""

    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def result(self) -> JsonDict:
        """The JSON the caller receives."""
        return {
            "deleted": self.deleted,
            "kept": self.kept,
            "stopped": self.stopped,
            "not_found": self.not_found,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class WaitBudget:
    """How long to wait for a busy endpoint, and how (injectable for tests)."""

    seconds: float
    # Short first polls (a local endpoint settles in seconds), then at most every 15 s.
    first_interval: float = 2.0
    max_interval: float = 15.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def _in_progress(err: ClientError) -> bool:
    # SageMaker refuses to delete a busy endpoint with ValidationException "Cannot delete in-progress ...".
    return error_code(err) == "ValidationException" and "in-progress" in error_message(err).lower()


def stop_tuning_job(sm: SageMakerClient, name: str, out: Outcome) -> None:
    """Stop the tuning job if it still runs."""
    label = f"tuning-job:{name}"
    try:
        status = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
            "HyperParameterTuningJobStatus"
        ]
        if status == "InProgress":
            sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
            out.stopped.append(label)
    except ClientError as err:
        if not is_not_found(err):
            raise
        out.not_found.append(label)


def stop_automl_job(sm: SageMakerClient, name: str, out: Outcome) -> None:
    """Stop the AutoML job if it still runs."""
    label = f"automl-job:{name}"
    try:
        status = sm.describe_auto_ml_job_v2(AutoMLJobName=name)["AutoMLJobStatus"]
        if status == "InProgress":
            sm.stop_auto_ml_job(AutoMLJobName=name)
            out.stopped.append(label)
    except ClientError as err:
        if not is_not_found(err):
            raise
        out.not_found.append(label)


def delete_endpoint(sm: SageMakerClient, name: str, budget: WaitBudget, out: Outcome) -> None:
    """Delete the endpoint, waiting within the budget while it is busy; EndpointNotDeletable if it stays."""
    label = f"endpoint:{name}"
    deadline = budget.clock() + budget.seconds
    interval = budget.first_interval
    while True:
        status: str
        try:
            status = sm.describe_endpoint(EndpointName=name)["EndpointStatus"]
            if status == "Deleting":
                out.deleted.append(label)
                return
            if status not in BUSY:
                sm.delete_endpoint(EndpointName=name)
                out.deleted.append(label)
                return
        except ClientError as err:
            if is_not_found(err):
                out.not_found.append(label)
                return
            if not _in_progress(err):
                raise
            status = "in progress"
        remaining = deadline - budget.clock()
        if remaining <= 0:
            raise EndpointNotDeletable(
                f"endpoint {name} is still {status} after waiting {budget.seconds:.0f} s; "
                "it cannot be deleted before it settles - Cleanup is retried"
            )
        budget.sleep(min(interval, remaining))
        interval = min(interval * 2, budget.max_interval)


def delete_quietly(out: Outcome, label: str, call: Callable[[], object]) -> None:
    """Run one Delete* call; a resource that is already gone counts as not found, not as an error."""
    try:
        call()
        out.deleted.append(label)
    except ClientError as err:
        if not is_not_found(err):
            raise
        out.not_found.append(label)


def delete_endpoint_config(sm: SageMakerClient, name: str, out: Outcome) -> None:
    """Delete one endpoint config (SageMaker allows it while the endpoint is still deleting)."""
    delete_quietly(
        out, f"endpoint-config:{name}", functools.partial(sm.delete_endpoint_config, EndpointConfigName=name)
    )


def delete_model(sm: SageMakerClient, name: str, out: Outcome) -> None:
    """Delete one model."""
    delete_quietly(out, f"model:{name}", functools.partial(sm.delete_model, ModelName=name))


def delete_serving(
    sm: SageMakerClient,
    *,
    endpoint: str,
    endpoint_config: str | None,
    models: Iterable[str],
    budget: WaitBudget,
    out: Outcome,
) -> None:
    """Endpoint first (it pins its config and models), then its config, then each model once."""
    delete_endpoint(sm, endpoint, budget, out)
    if endpoint_config:
        delete_endpoint_config(sm, endpoint_config, out)
    for model in dict.fromkeys(models):
        delete_model(sm, model, out)
