"""Injected faults for fault-tolerance tests: forced failures, throttling, slow endpoints."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from localaws.sagemaker.common import ThrottlingException

# "invocation": InvokeEndpoint answers ModelError, as when the model server fails on a request.
KINDS = ("training", "tuning", "automl", "endpoint", "invocation")


@dataclass
class _Faults:
    # kind -> [reason, remaining count or None for "until cleared"]
    fail: dict[str, list[Any]] = field(default_factory=dict)
    throttle: dict[str, int] = field(default_factory=dict)
    delay_endpoint_s: float = 0.0


_lock = threading.Lock()
_faults = _Faults()


def add(spec: dict[str, Any]) -> dict[str, Any]:
    """Register faults from a JSON spec; raise ValueError on an unknown kind or key."""
    known = {"fail", "reason", "count", "throttle", "delay_endpoint_s"}
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
            _faults.throttle[str(spec["throttle"])] = int(spec.get("count", 1))
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
            "throttle": dict(_faults.throttle),
            "delay_endpoint_s": _faults.delay_endpoint_s,
        }


def throttle(action: str) -> None:
    """Raise ThrottlingException if `action` still has injected throttles left."""
    with _lock:
        left = _faults.throttle.get(action, 0)
        if left <= 0:
            return
        _faults.throttle[action] = left - 1
    raise ThrottlingException("Rate exceeded")


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
