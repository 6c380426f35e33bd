"""One sweep: delete expired, unowned endpoints tagged by this stack, then their configs and models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from contracts.names import run_names
from handlers.common.aws_errors import error_code, is_not_found
from handlers.common.errors import EndpointNotDeletable
from handlers.common.json_types import JsonDict
from handlers.common.sagemaker_cleanup import BUSY, Outcome, WaitBudget, delete_serving
from handlers.common.tags import EXPIRES_TAG, STACK_TAG, parse_expires, tags_of

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_stepfunctions import SFNClient

# The sweeper never waits for a busy endpoint: the next round (minutes later) gets it.
NO_WAIT = WaitBudget(seconds=0.0)


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


def running_endpoints(sfn: SFNClient, name_prefix: str, state_machine_arn: str) -> frozenset[str]:
    """Endpoint names of this state machine's RUNNING executions (derived, as Cleanup derives them)."""
    owned: set[str] = set()
    try:
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=state_machine_arn, statusFilter="RUNNING"
        )
        for page in pages:
            for execution in page.get("executions", []):
                try:
                    owned.add(run_names(name_prefix, state_machine_arn, execution["name"]).endpoint)
                except ValueError:
                    continue  # ValidateInput rejects such names before anything exists
    except ClientError as err:
        if error_code(err) != "StateMachineDoesNotExist":
            raise
    return frozenset(owned)


def _our_endpoints(sm: SageMakerClient, name_prefix: str) -> Iterator[tuple[str, str, str]]:
    """(name, ARN, status) of every endpoint named with our prefix."""
    prefix = f"{name_prefix}-"
    for page in sm.get_paginator("list_endpoints").paginate(NameContains=prefix):
        for summary in page.get("Endpoints", []):
            if summary["EndpointName"].startswith(prefix):
                yield summary["EndpointName"], summary["EndpointArn"], summary["EndpointStatus"]


def _serving_of(sm: SageMakerClient, endpoint: str, name_prefix: str) -> tuple[str | None, list[str]]:
    """The endpoint's config and that config's models (ours only; IAM would refuse the rest anyway)."""
    try:
        config = sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    except ClientError as err:
        if is_not_found(err):
            return None, []
        raise
    models: list[str] = []
    try:
        variants = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
        models = [v["ModelName"] for v in variants if v.get("ModelName")]
    except ClientError as err:
        if not is_not_found(err):
            raise
    ours = [m for m in models if m.startswith(f"{name_prefix}-")]
    return (config if config.startswith(f"{name_prefix}-") else None), ours


def sweep(
    sm: SageMakerClient,
    *,
    name_prefix: str,
    stack_name: str,
    owned: frozenset[str],
    now: datetime,
    has_time: Callable[[], bool],
) -> SweepReport:
    """Delete every endpoint tagged `mlstack:stack=<stack_name>` whose expiry passed, unless owned or busy."""
    report = SweepReport()
    for name, arn, status in _our_endpoints(sm, name_prefix):
        if not has_time():
            report.outcome.notes.append("out of time: the remaining endpoints wait for the next round")
            break
        try:
            tags = tags_of(sm, arn)
        except ClientError as err:
            if not is_not_found(err):
                report.failures.append(f"endpoint:{name}: cannot read tags ({error_code(err)})")
            continue
        if tags.get(STACK_TAG) != stack_name or status == "Deleting":
            continue
        expires = parse_expires(tags.get(EXPIRES_TAG))
        if expires is None:
            # Every endpoint the pipeline creates has the tag; without it the TTL is unknown.
            report.outcome.notes.append(f"endpoint:{name} has no valid {EXPIRES_TAG} tag: left alone")
            continue
        if expires > now:
            continue
        report.expired.append(name)
        if name in owned:
            report.owned.append(name)
        elif status in BUSY:
            report.busy.append(name)
        else:
            _delete(sm, name, name_prefix, report)
    return report


def _delete(sm: SageMakerClient, name: str, name_prefix: str, report: SweepReport) -> None:
    try:
        config, models = _serving_of(sm, name, name_prefix)
        delete_serving(
            sm, endpoint=name, endpoint_config=config, models=models, budget=NO_WAIT, out=report.outcome
        )
    except EndpointNotDeletable:
        report.busy.append(name)  # became busy since it was listed
    except ClientError as err:
        report.failures.append(f"endpoint:{name}: {error_code(err)}: {err}")
