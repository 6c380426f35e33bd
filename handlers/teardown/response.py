"""The answer CloudFormation waits for: a JSON body PUT to the request's pre-signed ResponseURL."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from handlers.teardown.request import Envelope

# CloudFormation rejects response bodies larger than 4096 bytes.
MAX_BODY_BYTES = 4096
ATTEMPTS = 4
Opener = Callable[..., Any]


def response_body(
    envelope: Envelope, status: str, reason: str, physical_id: str, data: Mapping[str, str]
) -> bytes:
    """The JSON body, with Reason and Data values shortened as needed to stay under the size limit."""
    reason_limit, value_limit = 2000, 1000
    while True:
        body = {
            "Status": status,
            "Reason": _cut(reason, reason_limit),
            "PhysicalResourceId": physical_id,
            "StackId": envelope.stack_id,
            "RequestId": envelope.request_id,
            "LogicalResourceId": envelope.logical_id,
            "Data": {key: _cut(value, value_limit) for key, value in data.items()},
        }
        encoded = json.dumps(body).encode()
        if len(encoded) <= MAX_BODY_BYTES or reason_limit <= 40:
            return encoded
        reason_limit, value_limit = reason_limit // 2, value_limit // 2


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def send(
    url: str,
    body: bytes,
    opener: Opener = urllib.request.urlopen,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """PUT the body to the pre-signed URL as given (re-encoding it would break the signature).

    The URL is signed without a content type, so the request must send an empty one (urllib would
    otherwise add form encoding). Transient failures are retried; the last one is raised.
    """
    request = urllib.request.Request(
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with opener(request, timeout=15) as answer:
                answer.read()
            return
        except urllib.error.HTTPError as err:
            if err.code < 500 or attempt == ATTEMPTS:
                raise
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            if attempt == ATTEMPTS:
                raise
        sleep(2.0**attempt)
