"""Shared helpers of the local SageMaker: errors, clocks, ARNs, JSON."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

from moto.core.exceptions import ServiceException

PYTHON = sys.executable
# Local polling cadence: AWS polls every 60 s, a local run should spend its time training.
POLL_SECONDS = 0.5


class ValidationException(ServiceException):
    code = "ValidationException"


class ResourceInUse(ServiceException):
    code = "ResourceInUse"


class ResourceNotFound(ServiceException):
    code = "ResourceNotFound"


class StoppedError(Exception):
    """The job was stopped: it writes nothing more."""


class OutputGate:
    """A job's S3 writes pass through here; once a Stop closes it, nothing more is written.

    close() waits for a write in progress, so no object lands after a Stop is accepted: the
    teardown of a stack stops its jobs and then empties their buckets.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        # Closed before the wait: a lock is not fair, so the writer could otherwise take it again for
        # its next write while this waits.
        self._closed = True
        with self._lock:  # the write in progress lands before close returns
            pass

    @contextlib.contextmanager
    def open(self) -> Iterator[None]:
        """Hold the gate for one write; raise StoppedError if the job was stopped."""
        with self._lock:
            if self._closed:
                raise StoppedError
            yield


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def seed_from(name: str) -> int:
    """A deterministic 32-bit seed from a job name."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)


def arn(account_id: str, region: str, kind: str, name: str) -> str:
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    return f"arn:{partition}:sagemaker:{region}:{account_id}:{kind}/{name.lower()}"


def json_safe(value: Any) -> Any:
    """Datetimes to ISO strings, recursively (Step Functions outputs must be JSON)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def drop_none(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}
