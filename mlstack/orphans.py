"""Endpoints, endpoint configs and models a stack tagged that no running execution owns (`mlstack sweep`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from handlers.common.stack_resources import (
    SERVING,
    Decision,
    Outcome,
    Resource,
    Rule,
    Running,
    Selection,
    WaitBudget,
    remove,
    stack_resources,
)

# A kept endpoint (keep_endpoint) is an orphan too once its run ended, expired or not.
RULE = Rule.UNOWNED
DESCRIPTION = "the endpoints, endpoint configs and models of the stack that no running execution owns"


def tagged(sm: Any, stack: str) -> list[Resource]:
    """Every endpoint, endpoint config and model carrying mlstack:stack=<stack>, in deletion order."""
    return [resource for kind in SERVING for resource in stack_resources(sm, kind, stack_name=stack)]


def decide(resources: Iterable[Resource], running: Running) -> list[Decision]:
    """Delete what no running execution owns, by its mlstack:run tag or the name a running run derives."""
    return list(map(Selection(RULE, running=running).decide, resources))


def delete(sm: Any, resource: Resource, wait_s: float) -> str:
    """Delete one resource (as Cleanup deletes): 'deleted' or 'already gone'.

    An endpoint still Creating or Updating cannot be deleted yet: it is waited for, up to `wait_s`.
    """
    outcome = Outcome()
    remove(sm, resource, WaitBudget(seconds=wait_s), outcome)
    return "already gone" if outcome.not_found else "deleted"
