"""moto's change sets: wrong not-found errors, global names, no Outputs, SSM UsePreviousValue, synchronous."""

from __future__ import annotations

import logging
import threading
from typing import Any

from localaws.patches._patching import replace, wrap

LOG = logging.getLogger(__name__)


def _not_found(name: str) -> Exception:
    from moto.cloudformation.exceptions import CloudFormationError

    class ChangeSetNotFoundError(CloudFormationError):
        code = "ChangeSetNotFoundException"

    return ChangeSetNotFoundError(f"ChangeSet [{name}] does not exist")


def find_change_set(backend: Any, change_set_name: str, stack_name: str | None) -> Any:
    """By ARN, or by name within the given stack (names are only unique per stack)."""
    if change_set_name in backend.change_sets:
        return backend.change_sets[change_set_name]
    for change_set in reversed(list(backend.change_sets.values())):  # newest first
        in_stack = stack_name in (None, "", change_set.stack_name, change_set.stack_id)
        if change_set.change_set_name == change_set_name and in_stack:
            return change_set
    raise _not_found(change_set_name)


def describe_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> Any:
    return find_change_set(self, change_set_name, stack_name)


def delete_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    """Deleting a change set that does not exist succeeds (the CDK CLI relies on it)."""
    try:
        change_set = find_change_set(self, change_set_name, stack_name)
    except Exception:
        return
    self.change_sets.pop(change_set.change_set_id, None)


def _stack_event(stack: Any, status: str, reason: str | None = None, logical_id: str | None = None) -> None:
    """A stack event; with `logical_id`, a resource event (what the CDK CLI prints on failure)."""
    from moto.cloudformation.models import Event

    if logical_id is None:
        stack._add_stack_event(status, resource_status_reason=reason)
        return
    resource_type = stack.template_dict.get("Resources", {}).get(logical_id, {}).get("Type", "Unknown")
    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id="",
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _failing_resource(exc: BaseException) -> str | None:
    return getattr(exc, "logical_id", None)


def _refresh_outputs(backend: Any, stack: Any) -> None:
    """What moto skips after a change set: the stack's template, Outputs and Exports."""
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    for name in [
        name for name, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id
    ]:
        backend.exports.pop(name)
    stack.output_map = stack._create_output_map()
    for export in stack.exports:
        backend.exports[export.name] = export


def _drop_change_sets(backend: Any, stack_id: str) -> None:
    """Executing a change set removes every change set of the stack, as CloudFormation does."""
    for change_set_id in [k for k, cs in backend.change_sets.items() if cs.stack_id == stack_id]:
        backend.change_sets.pop(change_set_id, None)


def _run_change_set(backend: Any, stack: Any, change_set: Any) -> None:
    try:
        _apply_change_set(backend, stack, change_set)
    finally:
        _drop_change_sets(backend, stack.stack_id)


def _apply_change_set(backend: Any, stack: Any, change_set: Any) -> None:
    kind = change_set.change_set_type  # CREATE or UPDATE
    try:
        change_set.apply()
        stack.template = change_set.template
        stack.parameters = change_set.parameters
        _refresh_outputs(backend, stack)
    except Exception as exc:
        LOG.warning("change set %s on %s failed: %s", change_set.change_set_name, stack.name, exc)
        _stack_event(stack, f"{kind}_FAILED", str(exc), logical_id=_failing_resource(exc) or stack.name)
        change_set.execution_status = "EXECUTE_FAILED"
        if kind == "CREATE":
            stack.status = "ROLLBACK_IN_PROGRESS"
            _stack_event(stack, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create.")
            try:
                stack.resource_map.delete()
            except Exception:
                LOG.exception("rollback of %s left resources behind", stack.name)
            stack.status = "ROLLBACK_COMPLETE"
        else:
            # The previous resources are not restored (moto cannot); the status is what CDK expects.
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
        _stack_event(stack, stack.status)
        return
    change_set.execution_status = "EXECUTE_COMPLETE"
    stack.status = f"{kind}_COMPLETE"
    _stack_event(stack, stack.status)


def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    """Start the change set and return, like CloudFormation: callers poll DescribeStacks."""
    change_set = find_change_set(self, change_set_name, stack_name)
    if change_set.execution_status != "AVAILABLE":
        from moto.cloudformation.exceptions import CloudFormationError

        class InvalidChangeSetStatusError(CloudFormationError):
            code = "InvalidChangeSetStatus"

        raise InvalidChangeSetStatusError(
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current status of "
            f"[{change_set.status}]"
        )
    stack = self.stacks[change_set.stack_id]
    for other in [
        k for k, cs in self.change_sets.items() if cs.stack_id == stack.stack_id and cs is not change_set
    ]:
        self.change_sets.pop(other)
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    stack.status = f"{change_set.change_set_type}_IN_PROGRESS"
    _stack_event(stack, stack.status, "User Initiated")
    threading.Thread(
        target=_run_change_set, args=(self, stack, change_set), name=f"cfn-{stack.name}", daemon=True
    ).start()


def delete_stack(self: Any, name_or_stack_id: str) -> None:
    """Delete in the background (CloudFormation is asynchronous); a failing resource gives DELETE_FAILED."""
    stack = next(
        (s for s in self.stacks.values() if name_or_stack_id in (s.stack_id, s.name)),
        None,
    )
    if stack is None:
        return  # deleting a missing stack is a no-op on AWS too
    if stack.status == "DELETE_IN_PROGRESS":
        return
    stack.status = "DELETE_IN_PROGRESS"
    _stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    threading.Thread(
        target=_run_delete, args=(self, stack), name=f"cfn-del-{stack.name}", daemon=True
    ).start()


def _run_delete(backend: Any, stack: Any) -> None:
    try:
        stack.resource_map.delete()
    except Exception as exc:
        LOG.warning("deleting %s failed: %s", stack.name, exc)
        _stack_event(stack, "DELETE_FAILED", str(exc), logical_id=_failing_resource(exc) or stack.name)
        stack.status = "DELETE_FAILED"
        _stack_event(stack, "DELETE_FAILED", str(exc))
        return
    backend.stacks.pop(stack.stack_id, None)
    for name in [
        name for name, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id
    ]:
        backend.exports.pop(name)
    stack.status = "DELETE_COMPLETE"
    _stack_event(stack, "DELETE_COMPLETE")
    backend.deleted_stacks[stack.stack_id] = stack


def _create_change_set_response(original: Any) -> Any:
    def create_change_set(self: Any) -> Any:
        # moto resolves UsePreviousValue to the stack's *resolved* value: for an SSM-typed parameter
        # (CDK's BootstrapVersion) that is the SSM value, which it then looks up as a parameter name.
        stack_name = self._get_param("StackName")
        parameters = self.params.get("Parameters") if isinstance(self.params, dict) else None
        if parameters and self._get_param("ChangeSetType", "CREATE") == "UPDATE":
            stack = self.cloudformation_backend.get_stack(stack_name)
            fixed = []
            for parameter in parameters:
                if parameter.get("UsePreviousValue"):
                    key = parameter["ParameterKey"]
                    if key not in stack.parameters:
                        continue  # it used its default: leave it out and the default applies again
                    parameter = {"ParameterKey": key, "ParameterValue": stack.parameters[key]}
                fixed.append(parameter)
            self.params["Parameters"] = fixed
        return original(self)

    return create_change_set


def _with_stack_name(method: str) -> Any:
    def response(self: Any) -> Any:
        from moto.core.responses import ActionResult, EmptyResult

        result = getattr(self.cloudformation_backend, method)(
            change_set_name=self._get_param("ChangeSetName"), stack_name=self._get_param("StackName")
        )
        return ActionResult(result) if method == "describe_change_set" else EmptyResult()

    response.__name__ = method
    return response


def apply() -> None:
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudformation.responses import CloudFormationResponse

    replace(
        CloudFormationBackend, "describe_change_set", describe_change_set, expects=["self", "change_set_name"]
    )
    replace(
        CloudFormationBackend, "delete_change_set", delete_change_set, expects=["self", "change_set_name"]
    )
    replace(
        CloudFormationBackend,
        "execute_change_set",
        execute_change_set,
        expects=["self", "change_set_name", "stack_name"],
    )
    replace(CloudFormationBackend, "delete_stack", delete_stack, expects=["self", "name_or_stack_id"])
    for method in ("describe_change_set", "delete_change_set", "execute_change_set"):
        replace(CloudFormationResponse, method, _with_stack_name(method), expects=["self"])
    wrap(CloudFormationResponse, "create_change_set", _create_change_set_response, expects=["self"])
