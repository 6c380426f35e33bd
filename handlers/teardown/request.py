"""A CloudFormation custom-resource request, validated (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from handlers.common.errors import InvalidInput

REQUEST_TYPES = ("Create", "Update", "Delete")
# The PhysicalResourceId answered with a FAILED Create: the Delete CloudFormation sends on rollback
# then has nothing to undo.
FAILED_CREATE_PREFIX = "teardown-not-created-"


@dataclass(frozen=True)
class Envelope:
    """What every answer must echo back, readable even when the rest of the request is not."""

    response_url: str
    stack_id: str
    request_id: str
    logical_id: str
    physical_id: str | None


@dataclass(frozen=True)
class Target:
    """What the stack tells the resource to tear down (its properties)."""

    name_prefix: str
    stack_name: str
    state_machine_arn: str
    buckets: tuple[str, ...]  # emptied in this order: the access-log bucket last
    empty_buckets: bool


@dataclass(frozen=True)
class TeardownRequest:
    """One request: the envelope, its type and, when they parse, the properties."""

    envelope: Envelope
    request_type: str
    target: Target


class MalformedRequest(InvalidInput):
    """The request cannot be acted on; answered FAILED when it has a ResponseURL."""

    def __init__(self, message: str, envelope: Envelope | None = None) -> None:
        super().__init__(message)
        self.envelope = envelope


def _text(source: Mapping[str, Any], key: str, where: str = "") -> str:
    value = source.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{where}{key}: a non-empty string is required")
    return value


def parse_envelope(event: Mapping[str, Any]) -> Envelope:
    """The fields an answer needs; raise MalformedRequest (without an envelope) when they are missing."""
    try:
        url = _text(event, "ResponseURL")
        if urlsplit(url).scheme not in ("https", "http"):
            raise InvalidInput(f"ResponseURL: {url[:60]!r} is not an http(s) URL")
        physical = event.get("PhysicalResourceId")
        return Envelope(
            response_url=url,
            stack_id=_text(event, "StackId"),
            request_id=_text(event, "RequestId"),
            logical_id=_text(event, "LogicalResourceId"),
            physical_id=physical if isinstance(physical, str) and physical else None,
        )
    except InvalidInput as err:
        raise MalformedRequest(str(err)) from None


def _target(properties: Any) -> Target:
    if not isinstance(properties, Mapping):
        raise InvalidInput("ResourceProperties: an object is required")
    buckets = properties.get("Buckets", [])
    if not isinstance(buckets, list) or not all(isinstance(b, str) and b for b in buckets):
        raise InvalidInput("ResourceProperties.Buckets: a list of bucket names is required")
    # CloudFormation passes every scalar property as a string.
    empty = str(properties.get("EmptyBuckets", "false")).lower()
    if empty not in ("true", "false"):
        raise InvalidInput(f"ResourceProperties.EmptyBuckets: 'true' or 'false', got {empty!r}")
    where = "ResourceProperties."
    return Target(
        name_prefix=_text(properties, "NamePrefix", where),
        stack_name=_text(properties, "StackName", where),
        state_machine_arn=_text(properties, "StateMachineArn", where),
        buckets=tuple(buckets),
        empty_buckets=empty == "true",
    )


def parse_request(event: Mapping[str, Any]) -> TeardownRequest:
    """Validate the whole request; MalformedRequest carries the envelope when it could be read."""
    envelope = parse_envelope(event)
    try:
        request_type = event.get("RequestType")
        if request_type not in REQUEST_TYPES:
            raise InvalidInput(f"RequestType: one of {', '.join(REQUEST_TYPES)}, got {request_type!r}")
        return TeardownRequest(envelope, str(request_type), _target(event.get("ResourceProperties")))
    except InvalidInput as err:
        raise MalformedRequest(str(err), envelope) from None
