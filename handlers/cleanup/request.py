"""The two events Cleanup receives (the state machine's, EventBridge's) as one request (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handlers.common.errors import STACK_DELETED, InvalidInput

REASONS = ("completed", "failed")


@dataclass(frozen=True)
class CleanupRequest:
    """Which execution to clean up after, and whether its endpoint may stay."""

    execution_name: str
    state_machine_arn: str
    reason: str
    keep_endpoint: bool = False
    skip: str | None = None  # why there is nothing to do, when so
    from_eventbridge: bool = False  # the execution ended without its own Cleanup/Notify states
    stack_deleted: bool = False  # the stack's teardown stopped it: the stack is going
    run: Mapping[str, Any] | None = None  # the run object ValidateInput produced, when the state has it


def state_machine_of(execution_arn: str) -> str:
    """arn:aws:states:<r>:<a>:execution:<machine>:<name> → arn:aws:states:<r>:<a>:stateMachine:<machine>."""
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[5] != "execution":
        raise InvalidInput(f"execution.id: {execution_arn!r} is not a Step Functions execution ARN")
    return ":".join([*parts[:5], "stateMachine", parts[6]])


def _from_eventbridge(event: Mapping[str, Any]) -> CleanupRequest:
    detail = event.get("detail")
    if not isinstance(detail, Mapping) or not detail.get("name"):
        raise InvalidInput("detail: a Step Functions status change event needs detail.name")
    machine = detail.get("stateMachineArn") or state_machine_of(str(detail.get("executionArn", "")))
    status = str(detail.get("status", "")).upper()
    # A succeeded execution ran its own Cleanup state, which alone knows whether to keep the endpoint.
    skip = "the execution succeeded: its own Cleanup state handled it" if status == "SUCCEEDED" else None
    return CleanupRequest(
        str(detail["name"]),
        str(machine),
        status.lower() or "failed",
        False,
        skip,
        from_eventbridge=True,
        stack_deleted=detail.get("error") == STACK_DELETED,
    )


def _run(state: Any) -> Mapping[str, Any] | None:
    run = state.get("run") if isinstance(state, Mapping) else None
    return run if isinstance(run, Mapping) else None


def _keep(state: Any) -> bool:
    run = _run(state)
    endpoint = run.get("endpoint") if run is not None else None
    return bool(endpoint.get("keep")) if isinstance(endpoint, Mapping) else False


def _from_state_machine(event: Mapping[str, Any]) -> CleanupRequest:
    execution = event.get("execution")
    if not isinstance(execution, Mapping) or not execution.get("name"):
        raise InvalidInput("execution: Cleanup needs {name, id, state_machine} of the execution")
    machine = execution.get("state_machine") or state_machine_of(str(execution.get("id", "")))
    reason = event.get("reason", "failed")
    if reason not in REASONS:
        raise InvalidInput(f"reason: expected one of {', '.join(REASONS)}, got {reason!r}")
    keep = reason == "completed" and _keep(event.get("state"))
    return CleanupRequest(
        str(execution["name"]), str(machine), str(reason), keep, run=_run(event.get("state"))
    )


def parse_request(event: Mapping[str, Any]) -> CleanupRequest:
    """Read either event shape."""
    if event.get("source") == "aws.states" or "detail" in event:
        return _from_eventbridge(event)
    return _from_state_machine(event)
