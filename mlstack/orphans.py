"""Endpoints, endpoint configs and models a stack tagged that no running execution owns (`mlstack sweep`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from contracts.names import run_names
from handlers.common.aws_errors import is_not_found
from handlers.common.sagemaker_cleanup import (
    Outcome,
    WaitBudget,
    delete_endpoint,
    delete_endpoint_config,
    delete_model,
)
from handlers.common.tags import RUN_TAG, STACK_TAG, tags_of

# Deleted in this order: a config cannot go while its endpoint uses it, nor a model while a config does.
KINDS = ("endpoint", "endpoint-config", "model")
_LISTING = {
    "endpoint": ("list_endpoints", "Endpoints", "EndpointName", "EndpointArn"),
    "endpoint-config": (
        "list_endpoint_configs",
        "EndpointConfigs",
        "EndpointConfigName",
        "EndpointConfigArn",
    ),
    "model": ("list_models", "Models", "ModelName", "ModelArn"),
}


@dataclass(frozen=True)
class Resource:
    """One tagged SageMaker resource and the run it belongs to."""

    kind: str
    name: str
    run_id: str | None


@dataclass(frozen=True)
class Decision:
    """What sweep does with a resource, and why."""

    resource: Resource
    delete: bool
    reason: str


def tagged(sm: Any, stack: str) -> list[Resource]:
    """Every endpoint, endpoint config and model carrying mlstack:stack=<stack>, in deletion order."""
    found: list[Resource] = []
    for kind in KINDS:
        operation, key, name_field, arn_field = _LISTING[kind]
        for page in sm.get_paginator(operation).paginate():
            for item in page.get(key, []):
                tags = _tags(sm, item[arn_field])
                if tags is not None and tags.get(STACK_TAG) == stack:
                    found.append(Resource(kind, item[name_field], tags.get(RUN_TAG)))
    return found


def _tags(sm: Any, arn: str) -> dict[str, str] | None:
    try:
        return tags_of(sm, arn)
    except ClientError as err:
        if is_not_found(err):  # deleted between the listing and now
            return None
        raise


def running_run_ids(sfn: Any, state_machine_arn: str, name_prefix: str) -> set[str]:
    """Run ids of the executions still RUNNING (their resources are in use, never swept)."""
    ids = set()
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn, statusFilter="RUNNING"
    )
    for page in pages:
        for execution in page.get("executions", []):
            ids.add(run_names(name_prefix, state_machine_arn, execution["name"]).run_id)
    return ids


def decide(resources: Iterable[Resource], running: set[str]) -> list[Decision]:
    """Delete what no running execution owns (a resource without a run tag is ours and idle: delete it)."""
    decisions = []
    for resource in resources:
        if resource.run_id in running:
            decisions.append(Decision(resource, False, f"run {resource.run_id} is still running"))
        else:
            decisions.append(Decision(resource, True, "no running execution owns it"))
    return decisions


def delete(sm: Any, resource: Resource, wait_s: float) -> str:
    """Delete one resource (the Cleanup handler's own calls): 'deleted' or 'already gone'.

    An endpoint still Creating or Updating cannot be deleted yet: it is waited for, up to `wait_s`.
    """
    outcome = Outcome()
    if resource.kind == "endpoint":
        delete_endpoint(sm, resource.name, WaitBudget(seconds=wait_s), outcome)
    elif resource.kind == "endpoint-config":
        delete_endpoint_config(sm, resource.name, outcome)
    else:
        delete_model(sm, resource.name, outcome)
    return "already gone" if outcome.not_found else "deleted"
