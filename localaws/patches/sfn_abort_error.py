"""moto drops the error and cause given to StopExecution: an aborted execution describes (and its
status-change event arrives) without them."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from localaws.patches._patching import wrap

# StopExecution's error and cause, for the duration of the request that stops the execution.
_REASON: ContextVar[tuple[str | None, str | None]] = ContextVar("stop_reason", default=(None, None))


def _reading_reason(original: Any) -> Any:
    def stop_execution(self: Any) -> Any:
        token = _REASON.set((self._get_param("error"), self._get_param("cause")))
        try:
            return original(self)
        finally:
            _REASON.reset(token)

    return stop_execution


def _stopping_with_reason(original: Any) -> Any:
    def stop(self: Any, stop_date: Any, error: str | None, cause: str | None) -> Any:
        given_error, given_cause = _REASON.get()
        return original(self, stop_date, given_error or error or None, given_cause or cause or None)

    return stop


def _keeping_reason(original: Any) -> Any:
    def reflect(self: Any) -> None:
        original(self)
        from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

        stopped = self.execution.exec_worker.env.program_state()
        if isinstance(stopped, ProgramStopped):
            self.execution.error, self.execution.cause = stopped.error, stopped.cause

    return reflect


def apply() -> None:
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
    from moto.stepfunctions.responses import StepFunctionResponse

    wrap(StepFunctionResponse, "stop_execution", _reading_reason, expects=["self"])
    wrap(Execution, "stop", _stopping_with_reason, expects=["self", "stop_date", "error", "cause"])
    wrap(BaseExecutionWorkerCommunication, "_reflect_execution_status", _keeping_reason, expects=["self"])
