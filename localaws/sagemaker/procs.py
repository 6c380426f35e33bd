"""Every subprocess the local SageMaker starts, so that shutdown leaves none behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from typing import Any

_lock = threading.Lock()
_live: dict[int, tuple[subprocess.Popen[Any], str]] = {}


def spawn(args: list[str], label: str, **kwargs: Any) -> subprocess.Popen[Any]:
    """Start a subprocess in its own process group (so its children die with it) and track it."""
    proc = subprocess.Popen(args, start_new_session=True, **kwargs)
    with _lock:
        _live[proc.pid] = (proc, label)
    return proc


def spawn_worker(args: list[str], label: str, workdir: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """spawn() a worker whose output (stderr merged) is read line by line, as a job's log."""
    return spawn(
        args,
        label,
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )


def forget(proc: subprocess.Popen[Any]) -> None:
    with _lock:
        _live.pop(proc.pid, None)


def terminate(proc: subprocess.Popen[Any], grace_s: float = 5.0) -> None:
    """SIGTERM the process group (as SageMaker does on stop), then SIGKILL after the grace period."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # Reap leftovers of the group even when the leader already exited.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    forget(proc)


def live() -> list[dict[str, Any]]:
    with _lock:
        return [
            {"pid": pid, "label": label, "running": proc.poll() is None}
            for pid, (proc, label) in sorted(_live.items())
        ]


def kill_all() -> None:
    with _lock:
        procs = [p for p, _ in _live.values()]
    for proc in procs:
        terminate(proc, grace_s=2.0)
