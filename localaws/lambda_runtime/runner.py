"""Invoke a Lambda function's handler in a subprocess with Lambda's environment, timeout and error shape."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from localaws import children
from localaws.iam.principals import session_for
from localaws.settings import CHILD_MARKER_ENV, DUMMY_CREDENTIALS, REGION, endpoint_url, state_dir

_BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
# Variables a Lambda sandbox gets from the host environment: enough to run the venv's Python.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONHASHSEED")
_extract_lock = threading.Lock()


@dataclass(frozen=True)
class FunctionSpec:
    """What the runner needs to know about a function (read from moto's LambdaFunction)."""

    name: str
    arn: str
    handler: str
    runtime: str
    code_zip: bytes
    timeout_s: float
    memory_mb: int = 128
    version: str = "$LATEST"
    environment: dict[str, str] = field(default_factory=dict)
    log_group: str = ""
    role: str = ""  # the execution role: the handler calls AWS with a session of it, as on Lambda

    @property
    def region(self) -> str:
        parts = self.arn.split(":")
        return parts[3] if len(parts) > 3 and parts[3] else REGION


@dataclass(frozen=True)
class Invocation:
    """The outcome as Lambda reports it: payload, FunctionError header (None if fine), logs."""

    payload: bytes
    function_error: str | None
    logs: str
    request_id: str


def code_dir(code_zip: bytes) -> Path:
    """Extract the code zip once into a cache folder keyed by its hash; return the folder."""
    digest = hashlib.sha256(code_zip).hexdigest()
    target = state_dir() / "lambda-code" / digest
    with _extract_lock:
        if not target.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{digest[:12]}-"))
            with zipfile.ZipFile(io.BytesIO(code_zip)) as archive:
                archive.extractall(staging)
            staging.rename(target)  # atomic: a half-extracted folder is never used
    return target


def _credentials(spec: FunctionSpec) -> dict[str, str]:
    """A session of the function's execution role; a function without one signs as the administrator."""
    if not spec.role:
        return {**DUMMY_CREDENTIALS, "AWS_SESSION_TOKEN": "test"}
    return session_for(spec.role, spec.name).as_environment()


def _environment(spec: FunctionSpec, request_id: str, port: int) -> dict[str, str]:
    env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    env.update(spec.environment)
    # Reserved variables win over the function's own, as on Lambda.
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url(port),
            **_credentials(spec),
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_s),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": request_id,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "_HANDLER": spec.handler,
            "_MLSTACK_FUNCTION_ARN": spec.arn,
            "_MLSTACK_REQUEST_ID": request_id,
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            CHILD_MARKER_ENV: os.environ.get(CHILD_MARKER_ENV, str(os.getpid())),
        }
    )
    env["LAMBDA_TASK_ROOT"] = env.get("LAMBDA_TASK_ROOT", "")
    return env


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": []}).encode()


def invoke(spec: FunctionSpec, event: bytes, port: int) -> Invocation:
    """Run the handler once. Errors come back as Lambda reports them (FunctionError 'Unhandled')."""
    request_id = str(uuid.uuid4())
    if not spec.runtime.startswith("python"):
        message = f"the local AWS runs Python functions only; {spec.name} uses {spec.runtime}"
        return Invocation(_error_payload("Runtime.InvalidRuntime", message), "Unhandled", message, request_id)
    task_root = code_dir(spec.code_zip)
    env = _environment(spec, request_id, port)
    env["LAMBDA_TASK_ROOT"] = str(task_root)
    with tempfile.TemporaryDirectory(prefix="mlstack-lambda-") as tmp:
        result_file = Path(tmp) / "result.json"
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, str(_BOOTSTRAP), spec.handler, str(task_root), str(result_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=task_root,
            start_new_session=True,  # so a timeout kills whatever the handler started too
        )
        children.register(proc)
        try:
            output, _ = proc.communicate(event, timeout=spec.timeout_s)
        except subprocess.TimeoutExpired:
            children.kill_tree(proc.pid)
            output, _ = proc.communicate()
            elapsed = time.monotonic() - started
            message = f"RequestId: {request_id} Error: Task timed out after {elapsed:.2f} seconds"
            logs = output.decode(errors="replace") + message
            return Invocation(_error_payload("Sandbox.Timedout", message), "Unhandled", logs, request_id)
        finally:
            children.forget(proc)
        logs = output.decode(errors="replace")
        if not result_file.exists():
            message = (
                f"RequestId: {request_id} Error: Runtime exited with error: exit status {proc.returncode}"
            )
            return Invocation(
                _error_payload("Runtime.ExitError", message), "Unhandled", logs + message, request_id
            )
        outcome = json.loads(result_file.read_text(encoding="utf-8"))
    payload = outcome["payload"].encode()
    return Invocation(payload, None if outcome["ok"] else "Unhandled", logs, request_id)
