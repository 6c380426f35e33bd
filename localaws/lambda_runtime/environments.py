"""Lambda's execution environments: a function's process is kept warm and reused, one invocation at a time.

As on Lambda, an environment belongs to one version of one function's code and configuration; a
second concurrent invocation gets an environment of its own; a timeout or a crash ends the
environment, and the next invocation starts a new one (a cold start). Idle environments are ended
after IDLE_S, and beyond MAX_IDLE the longest idle first; the local AWS's shutdown ends them all
(each is a registered child).
"""

from __future__ import annotations

import contextlib
import json
import queue
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws import children

_BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
IDLE_S = 300.0
MAX_IDLE = 16
# How long the rest of a dead environment's output may take to arrive.
_DRAIN_S = 5.0


@dataclass
class Outcome:
    """What one invocation produced: the bootstrap's outcome (None if the environment died), its logs."""

    result: dict[str, Any] | None
    logs: str
    timed_out: bool = False
    exit_status: int | None = None


@dataclass
class Environment:
    """One warm process of a function: invocations go in on stdin, output and outcomes come out on stdout."""

    key: str
    proc: subprocess.Popen[bytes]
    token: str
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    idle_since: float = 0.0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def invoke(self, event: bytes, request_id: str, timeout_s: float) -> Outcome:
        """Run one invocation; a timeout kills the environment (its process group)."""
        deadline = time.monotonic() + timeout_s
        text = event.decode(errors="replace")  # not UTF-8: not JSON either, which the handler's load says
        request = {"request_id": request_id, "deadline": time.time() + timeout_s, "event": text}
        assert self.proc.stdin is not None
        logs: list[str] = []
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:  # it had ended: its output is still to be read
            return self._died(self._rest(logs))
        marker = self.token + " "
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.end()
                return Outcome(None, self._rest(logs), timed_out=True)
            if line is None:
                return self._died("".join(logs))
            if line.startswith(marker):
                result: dict[str, Any] = json.loads(line[len(marker) :])
                return Outcome(result, "".join(logs))
            logs.append(line)

    def _died(self, logs: str) -> Outcome:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=_DRAIN_S)
        exit_status = self.proc.returncode
        self.end()
        return Outcome(None, logs, exit_status=exit_status)

    def _rest(self, logs: list[str]) -> str:
        """The logs so far and whatever the ended process still had in its pipe."""
        with contextlib.suppress(queue.Empty):
            while (line := self.lines.get(timeout=_DRAIN_S)) is not None:
                logs.append(line)
        return "".join(logs)

    def end(self) -> None:
        children.kill_tree(self.proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=_DRAIN_S)
        children.forget(self.proc)


def start(key: str, handler: str, task_root: Path, env: dict[str, str]) -> Environment:
    """A new environment of the function; its handler is imported at its first invocation (as Lambda's
    init phase runs before the first invocation is handled)."""
    token = secrets.token_hex(16)  # marks the outcome lines: no handler prints it by chance
    proc = subprocess.Popen(
        [sys.executable, str(_BOOTSTRAP), handler, str(task_root), token],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=task_root,
        start_new_session=True,  # so a timeout kills whatever the handler started too
    )
    children.register(proc)
    environment = Environment(key, proc, token)
    threading.Thread(
        target=_read, args=(proc, environment.lines), name=f"lambda-env-{proc.pid}", daemon=True
    ).start()
    return environment


def _read(proc: subprocess.Popen[bytes], lines: queue.Queue[str | None]) -> None:
    assert proc.stdout is not None
    with contextlib.suppress(OSError, ValueError):
        for raw in proc.stdout:
            lines.put(raw.decode(errors="replace"))
    lines.put(None)


class Pool:
    """The idle environments of every function, by key (a function's code and configuration)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[Environment] = []

    def take(self, key: str) -> Environment | None:
        """An idle, live environment of `key` (the most recently used), or None: start one."""
        expired = []
        found = None
        with self._lock:
            now = time.monotonic()
            for environment in reversed(self._idle):
                if now - environment.idle_since > IDLE_S or not environment.alive():
                    expired.append(environment)
                elif found is None and environment.key == key:
                    found = environment
            for environment in [*expired, *([found] if found else [])]:
                self._idle.remove(environment)
        for environment in expired:
            environment.end()
        return found

    def give_back(self, environment: Environment) -> None:
        """An environment whose invocation ended normally waits for the next one."""
        if not environment.alive():
            environment.end()
            return
        environment.idle_since = time.monotonic()
        with self._lock:
            self._idle.append(environment)
            surplus, self._idle = self._idle[:-MAX_IDLE], self._idle[-MAX_IDLE:]
        for extra in surplus:
            extra.end()


pool = Pool()
