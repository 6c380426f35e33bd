"""moto keeps aws-sdk results' datetimes as objects: DescribeExecution then crashes in json.dumps."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from localaws.patches._patching import wrap
from localaws.patches.sfn_timestamps import aws_timestamp


def jsonable(value: Any) -> Any:
    """Replace datetimes with the ISO strings Step Functions shows, recursively."""
    if isinstance(value, datetime):
        return aws_timestamp(value if value.tzinfo else value.astimezone())
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _aws_sdk_result(original: Any) -> Any:
    def eval_service_task(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        original(self, env, *args, **kwargs)
        # The response is on top of the stack: convert it where it enters the execution.
        env.stack[-1] = jsonable(env.stack[-1])

    return eval_service_task


def _reflect_status(original: Any) -> Any:
    def reflect(self: Any) -> None:
        original(self)
        # Safety net for other integrations (e.g. .sync SageMaker results) that leave datetimes.
        self.execution.output = jsonable(self.execution.output)

    return reflect


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk,
    )
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    wrap(
        state_task_service_aws_sdk.StateTaskServiceAwsSdk,
        "_eval_service_task",
        _aws_sdk_result,
        expects=["self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"],
    )
    wrap(BaseExecutionWorkerCommunication, "_reflect_execution_status", _reflect_status, expects=["self"])
