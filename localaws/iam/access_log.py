"""Every authorization decision of the local AWS, one JSON line each, for `mlstack local access-log`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    """One decision: who asked to do what to which resource, the answer and the statement behind it."""

    principal: str
    action: str
    resource: str
    decision: str  # Allowed | ImplicitlyDenied | ExplicitlyDenied | Administrator
    statement: str | None
    call: str  # the API call that needed it, e.g. "sagemaker:CreateEndpoint"
    time: float = 0.0

    @property
    def denied(self) -> bool:
        return self.decision in ("ImplicitlyDenied", "ExplicitlyDenied")


class AccessLog:
    """Appends entries to a JSON-lines file, kept open (every request writes; thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._out = path.open("a", encoding="utf-8", buffering=1)  # line-buffered: readable at once

    def write(self, entry: Entry) -> None:
        line = json.dumps(asdict(entry) | {"time": entry.time or round(time.time(), 3)})
        with self._lock:
            self._out.write(line + "\n")

    def close(self) -> None:
        with self._lock:
            self._out.close()


def read(path: Path) -> Iterator[Entry]:
    """The entries of an access log, oldest first (nothing if there is no log yet)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield Entry(**json.loads(line))
