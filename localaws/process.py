"""`mlstack local up|down|status`: run the local AWS as a background process with pid and log files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localaws import children, ports
from localaws.settings import DEFAULT_PORT, HEALTH_PATH, PROJECT_ROOT, endpoint_url, state_dir


class LocalAwsError(RuntimeError):
    """Starting or stopping the local AWS failed; the message says why and what to do."""


@dataclass(frozen=True)
class Status:
    """A running local AWS as `status` reports it."""

    pid: int
    port: int
    url: str
    uptime_s: float
    log: Path


def pid_file() -> Path:
    return state_dir() / "local-aws.json"


def log_file() -> Path:
    return state_dir() / "local-aws.log"


def health(port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    """The server's /_mlstack/health answer, or None if nothing ready answers there."""
    try:
        with urllib.request.urlopen(endpoint_url(port) + HEALTH_PATH, timeout=timeout) as response:
            body: dict[str, Any] = json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return body if body.get("status") == "ready" else None


def _record() -> dict[str, Any] | None:
    try:
        record: dict[str, Any] = json.loads(pid_file().read_text())
    except (OSError, ValueError):
        return None
    return record


def status() -> Status | None:
    """The running local AWS started by `up`, or None (a stale pid file is removed)."""
    record = _record()
    if record is None:
        return None
    pid, port = int(record["pid"]), int(record["port"])
    if not children.alive(pid):
        pid_file().unlink(missing_ok=True)
        return None
    return Status(pid, port, endpoint_url(port), time.time() - float(record["started"]), log_file())


def wait_ready(port: int, proc: subprocess.Popen[bytes] | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if health(port) is not None:
            return
        if proc is not None and proc.poll() is not None:
            raise LocalAwsError(f"the local AWS exited with code {proc.returncode}:\n{_log_tail()}")
        time.sleep(0.1)
    raise LocalAwsError(f"the local AWS did not become ready within {timeout:.0f} s:\n{_log_tail()}")


def _log_tail(lines: int = 20) -> str:
    try:
        return "\n".join(log_file().read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def up(port: int = DEFAULT_PORT, timeout: float = 60.0, iam: str = "enforce") -> Status:
    """Start the local AWS in the background (or return the one already running)."""
    running = status()
    if running is not None:
        if running.port != port:
            raise LocalAwsError(
                f"a local AWS already runs on port {running.port} (pid {running.pid}); run down first"
            )
        wait_ready(port, None, timeout)
        return running
    if not ports.is_free(port):
        raise LocalAwsError(
            f"port {port} is taken by {ports.holder(port) or 'another process'}; stop it or use --port"
        )
    state_dir().mkdir(parents=True, exist_ok=True)
    with log_file().open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localaws.server", "--port", str(port), "--iam", iam],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            start_new_session=True,  # survives the terminal; `down` signals its whole group
        )
    record = {"pid": proc.pid, "port": port, "started": time.time(), "log": str(log_file())}
    pid_file().write_text(json.dumps(record))
    try:
        wait_ready(port, proc, timeout)
    except LocalAwsError:
        _stop_pid(proc.pid, 5.0)
        pid_file().unlink(missing_ok=True)
        raise
    return Status(proc.pid, port, endpoint_url(port), 0.0, log_file())


def _stop_pid(pid: int, timeout: float) -> None:
    children.kill_tree(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and children.alive(pid):
        time.sleep(0.1)
    if children.alive(pid):
        children.kill_tree(pid, signal.SIGKILL)


def down(timeout: float = 15.0) -> int | None:
    """Stop the local AWS and every process it spawned; return its pid (None if none was running)."""
    record = _record()
    if record is None:
        return None
    pid = int(record["pid"])
    if children.alive(pid):
        _stop_pid(pid, timeout)
    # Endpoint servers and lambda runs carry the server's marker even if they left its process group.
    children.kill_marked(pid)
    pid_file().unlink(missing_ok=True)
    return pid


def environment(port: int) -> dict[str, str]:
    """os.environ plus what clients need to talk to the local AWS."""
    from localaws.settings import client_env

    return {**os.environ, **client_env(port)}
