"""moto's DescribeExecution gives a string output raw (`yes`, not `"yes"`) and no stopDate on TIMED_OUT."""

from __future__ import annotations

import json
from typing import Any

from localaws.patches._patching import wrap


def _encoded(original: Any) -> Any:
    def describe_execution(self: Any) -> Any:
        result = original(self)
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        body = result.result
        if "output" in body and isinstance(execution.output, str):
            body["output"] = json.dumps(execution.output)
        if execution.status == "TIMED_OUT" and execution.stop_date is not None:
            body["stopDate"] = execution.stop_date
        return result

    return describe_execution


def apply() -> None:
    from moto.stepfunctions.responses import StepFunctionResponse

    wrap(StepFunctionResponse, "describe_execution", _encoded, expects=["self"])
