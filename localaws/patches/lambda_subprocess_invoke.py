"""moto runs Lambda handlers only in Docker (none here): run them in execution environments of our own
(localaws.lambda_runtime) with Lambda's semantics."""

from __future__ import annotations

import base64
from typing import Any

from localaws.deliver import send_to_arn
from localaws.lambda_runtime import async_invoke, runner
from localaws.patches._patching import after_cfn_writes, replace
from localaws.settings import moto_port

# Lambda returns at most the last 4 KB of the log in X-Amz-Log-Result.
_LOG_TAIL_BYTES = 4096


def spec_of(fn: Any) -> runner.FunctionSpec:
    """Read what the runner needs from moto's LambdaFunction."""
    return runner.FunctionSpec(
        name=fn.function_name,
        arn=fn.function_arn,
        handler=fn.handler or "",
        runtime=fn.run_time or "",
        code_zip=fn.code_bytes,
        timeout_s=float(fn.timeout or 3),
        memory_mb=int(fn.memory_size or 128),
        version=str(fn.version),
        environment={str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
        log_group=fn.logs_group_name,
        role=str(fn.role or ""),
    )


def _header(headers: Any, name: str, default: str) -> str:
    if not headers:
        return default
    for key, value in dict(headers).items():
        if key.lower() == name.lower():
            return str(value)
    return default


def _as_bytes(body: Any) -> bytes:
    if not body:
        return b"{}"
    return body if isinstance(body, bytes) else str(body).encode()


def run_sync(fn: Any, event: bytes) -> runner.Invocation:
    """Run once and record the output in the function's log group like Lambda does."""
    result = runner.invoke(spec_of(fn), event, moto_port())
    fn.logs_backend.ensure_log_group(fn.logs_group_name)
    fn.save_logs(f"START RequestId: {result.request_id}\n{result.logs}\nEND RequestId: {result.request_id}")
    return result


def _policy(fn: Any) -> async_invoke.AsyncPolicy:
    config: dict[str, Any] = fn.event_invoke_config[-1].config if fn.event_invoke_config else {}
    destinations = config.get("DestinationConfig", {})
    dead_letter = getattr(fn, "dead_letter_config", None) or {}
    return async_invoke.AsyncPolicy(
        max_retries=int(config.get("MaximumRetryAttempts", 2)),
        on_success=destinations.get("OnSuccess", {}).get("Destination"),
        on_failure=destinations.get("OnFailure", {}).get("Destination"),
        dead_letter_arn=dead_letter.get("TargetArn"),
    )


def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    """LambdaFunction.invoke: RequestResponse runs now, Event runs in the background, DryRun does nothing."""
    event = _as_bytes(body)
    invocation_type = _header(request_headers, "X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":

        def run(payload: bytes) -> tuple[bytes, str | None]:
            result = run_sync(self, payload)
            return result.payload, result.function_error

        request_id = async_invoke.submit(self.function_arn, event, run, _policy(self), send_to_arn)
        response_headers["x-amzn-RequestId"] = request_id
        return b""
    result = run_sync(self, event)
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    response_headers["x-amz-executed-version"] = "$LATEST"
    tail = result.logs.encode()[-_LOG_TAIL_BYTES:]
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
    return result.payload


def _keep_dead_letter_config(fn: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
    # moto drops DeadLetterConfig; async invocations need it.
    fn.dead_letter_config = properties.get("DeadLetterConfig")


def apply() -> None:
    from moto.awslambda.models import LambdaFunction

    replace(LambdaFunction, "invoke", invoke, expects=["self", "body", "request_headers", "response_headers"])
    after_cfn_writes(LambdaFunction, _keep_dead_letter_config)
