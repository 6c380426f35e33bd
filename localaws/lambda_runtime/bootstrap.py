"""Lambda runtime shim run as a script: import the handler, call it with stdin's event, write the result."""

# Run as `python bootstrap.py <handler> <code_dir> <result_file>`; it must not import mlstack, so the
# handler sees the code directory first on sys.path, as on Lambda (/var/task).
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

    def __init__(self, deadline: float) -> None:
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = env.get("_MLSTACK_FUNCTION_ARN", "")
        self.memory_limit_in_mb = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = env.get("_MLSTACK_REQUEST_ID", "")
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


def main() -> int:
    handler, code_dir, result_file = sys.argv[1:4]
    sys.path[0:1] = [code_dir]  # drop this script's folder, put the code first like /var/task
    os.chdir(code_dir)
    deadline = time.time() + float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    event = json.loads(sys.stdin.buffer.read() or b"{}")
    outcome: dict[str, Any]
    try:
        result = _load(handler)(event, LambdaContext(deadline))
        try:
            outcome = {"ok": True, "payload": json.dumps(result)}
        except (TypeError, ValueError) as exc:
            outcome = {"ok": False, "payload": json.dumps(_error("Runtime.MarshalError", str(exc), []))}
    except _RuntimeError as exc:
        outcome = {"ok": False, "payload": json.dumps(_error(exc.error_type, str(exc), []))}
    except Exception as exc:
        stack = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
        body = _error(type(exc).__name__, str(exc), stack)
        print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
        outcome = {"ok": False, "payload": json.dumps(body)}
    with open(result_file, "w", encoding="utf-8") as out:  # noqa: PTH123 - keep the shim minimal
        json.dump(outcome, out)
    sys.stdout.flush()
    sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
