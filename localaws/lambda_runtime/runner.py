"""Invoke a Lambda function's handler in an execution environment with Lambda's variables, timeout and
error shape."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from localaws import children
from localaws.iam.principals import session_for
from localaws.lambda_runtime import environments
from localaws.settings import CHILD_MARKER_ENV, DUMMY_CREDENTIALS, REGION, endpoint_url, state_dir

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


def _environment(spec: FunctionSpec, port: int, task_root: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in children.SANDBOX_ENV if key in os.environ}
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
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(task_root),
            "_HANDLER": spec.handler,
            "_MLSTACK_FUNCTION_ARN": spec.arn,
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            CHILD_MARKER_ENV: os.environ.get(CHILD_MARKER_ENV, str(os.getpid())),
        }
    )
    return env


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": []}).encode()


def invoke(spec: FunctionSpec, event: bytes, port: int) -> Invocation:
    """Run the handler once, in a warm environment of the function if one is idle.
    Errors come back as Lambda reports them (FunctionError 'Unhandled')."""
    request_id = str(uuid.uuid4())
    if not spec.runtime.startswith("python"):
        message = f"the local AWS runs Python functions only; {spec.name} uses {spec.runtime}"
        return Invocation(_error_payload("Runtime.InvalidRuntime", message), "Unhandled", message, request_id)
    task_root = code_dir(spec.code_zip)
    env = _environment(spec, port, task_root)
    # One environment per version of the code and configuration: the variables hold both.
    key = hashlib.sha256(json.dumps([spec.handler, sorted(env.items())]).encode()).hexdigest()
    environment = environments.pool.take(key)
    if environment is None:
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = f"{spec.version}/{uuid.uuid4().hex}"
        environment = environments.start(key, spec.handler, task_root, env)
    outcome = environment.invoke(event, request_id, spec.timeout_s)
    if outcome.timed_out:
        message = f"RequestId: {request_id} Error: Task timed out after {spec.timeout_s:.2f} seconds"
        return Invocation(
            _error_payload("Sandbox.Timedout", message), "Unhandled", outcome.logs + message, request_id
        )
    if outcome.result is None:
        message = (
            f"RequestId: {request_id} Error: Runtime exited with error: exit status {outcome.exit_status}"
        )
        return Invocation(
            _error_payload("Runtime.ExitError", message), "Unhandled", outcome.logs + message, request_id
        )
    result = outcome.result
    if result.get("init_error"):
        environment.end()  # Lambda starts the next invocation in a new environment
    else:
        environments.pool.give_back(environment)
    return Invocation(
        result["payload"].encode(), None if result["ok"] else "Unhandled", outcome.logs, request_id
    )
