"""moto's Step Functions never emits "Execution Status Change" events: send them to EventBridge."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from localaws.patches._patching import wrap

LOG = logging.getLogger(__name__)
DETAIL_TYPE = "Step Functions Execution Status Change"


def _millis(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value is not None else None


def _json_or_none(value: Any) -> str | None:
    if value is None:
        return None
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    return str(to_json_str(value, separators=(",", ":")))


def detail_of(execution: Any) -> dict[str, Any]:
    """The event detail as AWS sends it (status, input/output as JSON strings, error, cause)."""
    status = execution.exec_status.value if execution.exec_status is not None else "RUNNING"
    return {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": status,
        "startDate": _millis(execution.start_date),
        "stopDate": _millis(execution.stop_date) if status != "RUNNING" else None,
        "input": _json_or_none(execution.input_data),
        "output": _json_or_none(execution.output) if status == "SUCCEEDED" else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if status == "SUCCEEDED" else None,
        "error": execution.error,
        "cause": execution.cause,
        "stateMachineVersionArn": None,
        "stateMachineAliasArn": None,
    }


def emit(execution: Any) -> None:
    """Put the status-change event on the default bus of the execution's account and region."""
    from moto.events.models import events_backends

    try:
        backend = events_backends[execution.account_id][execution.region_name]
        backend.put_events(
            [
                {
                    "Source": "aws.states",
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps(detail_of(execution), default=str),
                    "Resources": [execution.exec_arn],
                    "EventBusName": "default",
                }
            ]
        )
    except Exception:  # an event that cannot be delivered must not break the execution
        LOG.exception("could not emit the status event of %s", execution.exec_arn)


def _after_start(original: Any) -> Any:
    def start(self: Any) -> None:
        original(self)
        emit(self)

    return start


def _after_terminated(original: Any) -> Any:
    def terminated(self: Any) -> None:
        original(self)
        emit(self.execution)

    return terminated


def apply() -> None:
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

    wrap(Execution, "start", _after_start, expects=["self"])
    wrap(BaseExecutionWorkerCommunication, "terminated", _after_terminated, expects=["self"])
