"""Lambda runtime shim run as a script: an execution environment that runs invocations one at a time.

Run as `python bootstrap.py <handler> <code_dir> <token>`. Each stdin line is an invocation,
{"request_id": ..., "deadline": <epoch s>, "event": "<the payload's text>"}; the handler's output
(stdout and stderr) goes to stdout, followed by one line "<token> <outcome JSON>" per invocation.
The handler's module is imported at the first invocation and kept, as on Lambda: module-level state
(clients, caches) lives on into the next invocations. An import failure ends the environment (Lambda
starts a new one for the next invocation); so does the end of stdin.
"""

# It must not import mlstack, so the handler sees the code directory first on sys.path, as on Lambda
# (/var/task).
from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, request_id: str, deadline: float) -> None:
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = env.get("_MLSTACK_FUNCTION_ARN", "")
        self.memory_limit_in_mb = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _error(error_type: str, message: str, stack: list[str]) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": stack}


def _load(handler: str) -> Any:
    module_name, _, func_name = handler.rpartition(".")
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # Lambda reports any import failure the same way
        raise _RuntimeError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    func = getattr(module, func_name, None)
    if func is None:
        raise _RuntimeError(
            "Runtime.HandlerNotFound", f"Handler '{func_name}' missing on module '{module_name}'"
        )
    return func


class _RuntimeError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _invoke(load: Any, request: dict[str, Any]) -> dict[str, Any]:
    """One invocation's outcome: {"ok": bool, "payload": JSON text, "init_error": bool}."""
    try:
        handler = load()
    except _RuntimeError as exc:
        return {"ok": False, "payload": json.dumps(_error(exc.error_type, str(exc), [])), "init_error": True}
    try:
        event = json.loads(request["event"] or "{}")
        result = handler(event, LambdaContext(request["request_id"], request["deadline"]))
        try:
            return {"ok": True, "payload": json.dumps(result)}
        except (TypeError, ValueError) as exc:
            return {"ok": False, "payload": json.dumps(_error("Runtime.MarshalError", str(exc), []))}
    except Exception as exc:
        stack = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
        print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
        return {"ok": False, "payload": json.dumps(_error(type(exc).__name__, str(exc), stack))}


def main() -> int:
    handler, code_dir, token = sys.argv[1:4]
    sys.path[0:1] = [code_dir]  # drop this script's folder, put the code first like /var/task
    os.chdir(code_dir)
    requests = sys.stdin
    sys.stdin = open(os.devnull)  # noqa: SIM115, PTH123 - the handler reads no invocation of ours
    loaded: list[Any] = []

    def load() -> Any:
        if not loaded:
            loaded.append(_load(handler))
        return loaded[0]

    for line in requests:
        outcome = _invoke(load, json.loads(line))
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout.write(f"{token} {json.dumps(outcome)}\n")
        sys.stdout.flush()
        if outcome.get("init_error"):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
