"""Injected faults for fault-tolerance tests: forced failures, API errors, slow endpoints."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import ServiceException

# "invocation": InvokeEndpoint answers ModelError, as when the model server fails on a request.
KINDS = ("training", "tuning", "automl", "endpoint", "invocation")
# The API errors a call can meet, with messages worded as SageMaker words them. The first three are
# not in SageMaker's service model, so clients (and Step Functions) see them as the generic error.
API_ERRORS = {
    "ThrottlingException": "Rate exceeded",
    "ValidationException": "1 validation error detected: injected by a test",
    "AccessDeniedException": "User: injected by a test is not authorized to perform: sagemaker:{action}",
    "ResourceLimitExceeded": "The account-level service limit for {action} is exceeded (injected by a test)",
    "ResourceInUse": "Cannot create an already existing resource (injected by a test)",
}
# moto serializes a ServiceException by its class (code) and module (service).
_ERROR_CLASSES = {
    code: type(code, (ServiceException,), {"code": code, "__module__": __name__}) for code in API_ERRORS
}


@dataclass
class _Faults:
    # kind -> [reason, remaining count or None for "until cleared"]
    fail: dict[str, list[Any]] = field(default_factory=dict)
    # action -> [error code, remaining count]
    errors: dict[str, list[Any]] = field(default_factory=dict)
    delay_endpoint_s: float = 0.0


_lock = threading.Lock()
_faults = _Faults()


def add(spec: dict[str, Any]) -> dict[str, Any]:
    """Register faults from a JSON spec; raise ValueError on an unknown kind or key."""
    known = {"fail", "reason", "count", "throttle", "error", "action", "delay_endpoint_s"}
    unknown = set(spec) - known
    if unknown:
        raise ValueError(f"unknown fault keys: {sorted(unknown)}; known: {sorted(known)}")
    with _lock:
        if "fail" in spec:
            kind = spec["fail"]
            if kind not in KINDS:
                raise ValueError(f"fail must be one of {KINDS}, got {kind!r}")
            reason = str(spec.get("reason") or f"Injected {kind} failure.")
            _faults.fail[kind] = [reason, spec.get("count")]
        if "throttle" in spec:
            _faults.errors[str(spec["throttle"])] = ["ThrottlingException", int(spec.get("count", 1))]
        if "error" in spec:
            code, action = spec["error"], spec.get("action")
            if code not in API_ERRORS or not action:
                raise ValueError(f"error must be one of {sorted(API_ERRORS)}, with the API action it hits")
            _faults.errors[str(action)] = [code, int(spec.get("count", 1))]
        if "delay_endpoint_s" in spec:
            _faults.delay_endpoint_s = float(spec["delay_endpoint_s"])
    return snapshot()


def clear() -> None:
    global _faults
    with _lock:
        _faults = _Faults()


def snapshot() -> dict[str, Any]:
    with _lock:
        return {
            "fail": {k: {"reason": v[0], "count": v[1]} for k, v in _faults.fail.items()},
            "errors": {a: {"code": v[0], "count": v[1]} for a, v in _faults.errors.items()},
            "delay_endpoint_s": _faults.delay_endpoint_s,
        }


def raise_injected(action: str) -> None:
    """Raise the API error injected for `action`, if it still has uses left."""
    with _lock:
        entry = _faults.errors.get(action)
        if entry is None or entry[1] <= 0:
            return
        entry[1] -= 1
        code = entry[0]
    raise _ERROR_CLASSES[code](API_ERRORS[code].format(action=action))


def take_failure(kind: str) -> str | None:
    """The reason of an injected failure for `kind`, consuming one use; None if none."""
    with _lock:
        entry = _faults.fail.get(kind)
        if entry is None:
            return None
        reason, count = entry
        if count is not None:
            if count <= 1:
                del _faults.fail[kind]
            else:
                entry[1] = count - 1
        return str(reason)


def endpoint_delay() -> float:
    with _lock:
        return _faults.delay_endpoint_s
