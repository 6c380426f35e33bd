"""Where custom-resource providers PUT their answer (the ResponseURL), and who waits for it."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from localaws.settings import CFN_RESPONSE_PREFIX, endpoint_url


@dataclass
class PendingResponse:
    """One request sent to a provider; `wait()` returns the provider's JSON answer."""

    token: str
    url: str
    _done: threading.Event = field(default_factory=threading.Event)
    _body: dict[str, Any] = field(default_factory=dict)

    def wait(self, timeout: float) -> dict[str, Any] | None:
        """The answer, or None if the provider did not answer in time."""
        return self._body if self._done.wait(timeout) else None


_lock = threading.Lock()
_pending: dict[str, PendingResponse] = {}


def expect(port: int) -> PendingResponse:
    """Register a new ResponseURL on this server."""
    token = uuid.uuid4().hex
    pending = PendingResponse(token=token, url=f"{endpoint_url(port)}{CFN_RESPONSE_PREFIX}{token}")
    with _lock:
        _pending[token] = pending
    return pending


def forget(pending: PendingResponse) -> None:
    with _lock:
        _pending.pop(pending.token, None)


def deliver(token: str, raw: bytes) -> bool:
    """Record a provider's answer; False if nobody waits for this token (unknown or already answered)."""
    with _lock:
        pending = _pending.pop(token, None)
    if pending is None:
        return False
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = {"Status": "FAILED", "Reason": f"invalid response body: {raw[:200]!r}"}
    pending._body.update(body if isinstance(body, dict) else {"Status": "FAILED", "Reason": "not an object"})
    pending._done.set()
    return True
