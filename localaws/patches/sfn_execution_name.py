"""moto names an execution started without a name `None` (ARN `...:None`); AWS generates a UUID."""

from __future__ import annotations

import uuid
from typing import Any

from localaws.patches._patching import wrap


def _default_name(original: Any) -> Any:
    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: Any = None,
        trace_header: Any = None,
    ) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    return start_execution


def apply() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    wrap(
        StepFunctionsParserBackend,
        "start_execution",
        _default_name,
        expects=["self", "state_machine_arn", "name", "execution_input", "trace_header"],
    )
