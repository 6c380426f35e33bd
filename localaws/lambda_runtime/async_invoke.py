"""Lambda's asynchronous invocation (Event): queue, retry on error, then on-failure destination or DLQ."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LOG = logging.getLogger(__name__)

# AWS waits about 1 and 2 minutes between the retries of an async invocation; locally we keep the
# count (so a flaky handler behaves the same) and shorten the waits.
RETRY_DELAYS_S = [1.0, 2.0]


@dataclass(frozen=True)
class AsyncPolicy:
    """What the function's EventInvokeConfig and DeadLetterConfig say about failures."""

    max_retries: int = 2
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter_arn: str | None = None


# A sync invocation returning (payload, function_error or None).
Runner = Callable[[bytes], tuple[bytes, str | None]]
# Delivers a message to an ARN (SQS, SNS, Lambda, EventBridge bus).
Sender = Callable[[str, str, dict[str, str]], None]


def submit(function_arn: str, event: bytes, run: Runner, policy: AsyncPolicy, send: Sender) -> str:
    """Start the invocation in the background; return its request id at once (HTTP 202)."""
    request_id = str(uuid.uuid4())
    thread = threading.Thread(
        target=_deliver,
        args=(function_arn, request_id, event, run, policy, send),
        name=f"lambda-async-{request_id[:8]}",
        daemon=True,
    )
    thread.start()
    return request_id


def _deliver(
    function_arn: str, request_id: str, event: bytes, run: Runner, policy: AsyncPolicy, send: Sender
) -> None:
    attempts = 1 + max(0, min(policy.max_retries, len(RETRY_DELAYS_S)))
    payload, error = b"", None
    for attempt in range(attempts):
        if attempt:
            time.sleep(RETRY_DELAYS_S[attempt - 1])
        try:
            payload, error = run(event)
        except Exception as exc:  # the invocation machinery itself failed: treat it as a function error
            LOG.exception("async invocation of %s failed", function_arn)
            payload, error = (
                json.dumps({"errorMessage": str(exc), "errorType": "ServiceException"}).encode(),
                "Unhandled",
            )
        if error is None:
            if policy.on_success:
                record = _record(function_arn, request_id, event, payload, None, "Success", attempt + 1)
                _safe_send(send, policy.on_success, json.dumps(record), {})
            return
    LOG.warning("async invocation of %s failed after %d attempts", function_arn, attempts)
    if policy.on_failure:
        record = _record(function_arn, request_id, event, payload, error, "RetriesExhausted", attempts)
        _safe_send(send, policy.on_failure, json.dumps(record), {})
    elif policy.dead_letter_arn:
        attributes = {"RequestID": request_id, "ErrorCode": "200", "ErrorMessage": _message_of(payload)}
        _safe_send(send, policy.dead_letter_arn, event.decode(errors="replace"), attributes)


def _message_of(payload: bytes) -> str:
    try:
        return str(json.loads(payload).get("errorMessage", ""))
    except (ValueError, AttributeError):
        return payload.decode(errors="replace")


def _record(
    function_arn: str,
    request_id: str,
    event: bytes,
    payload: bytes,
    error: str | None,
    condition: str,
    attempts: int,
) -> dict[str, Any]:
    """The invocation record Lambda sends to destinations."""
    try:
        response: Any = json.loads(payload) if payload else None
    except ValueError:
        response = payload.decode(errors="replace")
    context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if error:
        context["functionError"] = error
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": json.loads(event or b"{}"),
        "responseContext": context,
        "responsePayload": response,
    }


def _safe_send(send: Sender, arn: str, body: str, attributes: dict[str, str]) -> None:
    try:
        send(arn, body, attributes)
    except Exception:  # a missing destination must not kill the worker thread
        LOG.exception("could not deliver to %s", arn)
