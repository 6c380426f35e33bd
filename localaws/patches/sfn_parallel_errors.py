"""moto re-raises a branch's/iteration's `States.*` error as a custom name, which crashes (States.Runtime)."""

from __future__ import annotations

from typing import Any

from localaws.patches._patching import check_signature, replace

_PREFIX = "States."


def error_name_of(error_name: str | None) -> Any:
    """The ErrorName a Catch/Retry compares against: a States error for `States.*`, else a custom one."""
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName

    if error_name is None or not error_name.startswith(_PREFIX):
        return CustomErrorName(error_name=error_name)
    try:
        return StatesErrorName.from_name(error_name)
    except ValueError:  # a States.* name the interpreter has no type for: compare by name
        return ErrorName(error_name=error_name)


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

    check_signature(CustomErrorName, ["error_name"], "CustomErrorName")
    # Both modules build the re-raised error with their module-level name `CustomErrorName`.
    for module in (branches_decl, iteration_worker):
        replace(module, "CustomErrorName", error_name_of)
