"""One sweep: delete expired, unowned endpoints tagged by this stack, then their configs and models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from handlers.common.aws_errors import error_code
from handlers.common.errors import EndpointNotDeletable
from handlers.common.json_types import JsonDict
from handlers.common.stack_resources import (
    BUSY,
    NO_WAIT,
    Outcome,
    Resource,
    Rule,
    Running,
    Selection,
    remove,
    serving_of,
    stack_resources,
)

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

# An endpoint goes once its mlstack:expires passed, unless a running execution still owns it.
RULE = Rule.EXPIRED_AND_UNOWNED


@dataclass
class SweepReport:
    """What one round found and did."""

    expired: list[str] = field(default_factory=list)  # endpoints past their TTL, still up
    owned: list[str] = field(default_factory=list)  # expired but their execution still runs
    busy: list[str] = field(default_factory=list)  # expired but Creating/Updating: next round
    failures: list[str] = field(default_factory=list)
    outcome: Outcome = field(default_factory=Outcome)

    def result(self) -> JsonDict:
        """The JSON the handler returns and logs."""
        return {
            "expired": self.expired,
            "owned_by_running_execution": self.owned,
            "busy": self.busy,
            "failures": self.failures,
            **self.outcome.result(),
        }


def sweep(
    sm: SageMakerClient,
    *,
    name_prefix: str,
    stack_name: str,
    running: Running,
    now: datetime,
    has_time: Callable[[], bool],
) -> SweepReport:
    """Delete every endpoint tagged `mlstack:stack=<stack_name>` whose expiry passed, unless owned or busy."""
    selection = Selection(RULE, running=running, now=now)
    report = SweepReport()
    endpoints = stack_resources(
        sm, "endpoint", stack_name=stack_name, name_prefix=name_prefix, unreadable=report.failures
    )
    for endpoint in endpoints:
        if not has_time():
            report.outcome.notes.append("out of time: the remaining endpoints wait for the next round")
            break
        if endpoint.status == "Deleting":
            continue
        decision = selection.decide(endpoint)
        if decision.expired is None:
            report.outcome.notes.append(f"{endpoint.label} has {decision.reason}")
        elif decision.expired:
            report.expired.append(endpoint.name)
            if decision.owner is not None:
                report.owned.append(endpoint.name)
            elif endpoint.status in BUSY:
                report.busy.append(endpoint.name)  # the sweeper never waits: the next round gets it
            else:
                _delete(sm, endpoint, name_prefix, report)
    return report


def _delete(sm: SageMakerClient, endpoint: Resource, name_prefix: str, report: SweepReport) -> None:
    try:
        # Listed by describing the endpoint: the sweeper may not list configs and models.
        for resource in serving_of(sm, endpoint, name_prefix):
            remove(sm, resource, NO_WAIT, report.outcome)
    except EndpointNotDeletable:
        report.busy.append(endpoint.name)  # became busy since it was listed
    except ClientError as err:
        report.failures.append(f"endpoint:{endpoint.name}: {error_code(err)}: {err}")
