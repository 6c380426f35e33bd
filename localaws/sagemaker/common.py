"""Shared helpers of the local SageMaker: errors, clocks, paths, backends."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TypeVar

from moto.core.exceptions import ServiceException
from moto.sagemaker.models import sagemaker_backends

PYTHON = sys.executable
# Local polling cadence: AWS polls every 60 s, a local run should spend its time training.
POLL_SECONDS = 0.5


class ValidationException(ServiceException):
    code = "ValidationException"


class ResourceInUse(ServiceException):
    code = "ResourceInUse"


class ResourceNotFound(ServiceException):
    code = "ResourceNotFound"


T = TypeVar("T")


def register(store: MutableMapping[str, Any], name: str, item: T, exists: ServiceException) -> T:
    """Add `item` under `name`, or raise `exists`: one atomic step, so two creates cannot both win."""
    if store.setdefault(name, item) is not item:
        raise exists
    return item


def lookup(store: Mapping[str, Any], name: str, kind: type[T], missing: ServiceException) -> T:
    """The `kind` stored under `name`, or raise `missing` (SageMaker's error for that kind)."""
    item = store.get(name)
    if not isinstance(item, kind):
        raise missing
    return item


class ThrottlingException(ServiceException):
    code = "ThrottlingException"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def seed_from(name: str) -> int:
    """A deterministic 32-bit seed from a job name."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)


def backend(account_id: str, region: str) -> Any:
    """moto's SageMaker backend; typed Any because its stores hold our records, not moto's."""
    return sagemaker_backends[account_id][region]


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
