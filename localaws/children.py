"""Track and stop the processes the local AWS spawns (lambda runs, endpoint servers)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from localaws.settings import CHILD_MARKER_ENV

# What a sandboxed child (a SageMaker job, its fork server) takes from the host: enough to run Python.
SANDBOX_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONHASHSEED")
_lock = threading.Lock()
_children: set[subprocess.Popen[bytes]] = set()


def register(proc: subprocess.Popen[bytes]) -> None:
    """Remember a child so shutdown() stops it; call forget() once it has exited."""
    with _lock:
        _children.add(proc)


def forget(proc: subprocess.Popen[bytes]) -> None:
    with _lock:
        _children.discard(proc)


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal a process and its process group if it leads one (children started with a new session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
            return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def shutdown() -> None:
    """Kill every registered child (and its group)."""
    with _lock:
        procs = list(_children)
        _children.clear()
    for proc in procs:
        if proc.poll() is None:
            kill_tree(proc.pid)


def marked_processes(server_pid: int) -> list[int]:
    """Pids (other than the server) whose environment carries the marker of this server (Linux /proc)."""
    marker = f"{CHILD_MARKER_ENV}={server_pid}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (server_pid, os.getpid()):
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def kill_marked(server_pid: int, timeout: float = 5.0) -> list[int]:
    """TERM then KILL every process marked as spawned by `server_pid`; return the pids found."""
    pids = marked_processes(server_pid)
    for pid in pids:
        kill_tree(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            kill_tree(pid, signal.SIGKILL)
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def group_members(pgid: int) -> list[int]:
    """Pids of the live (non-zombie) processes in process group `pgid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp.
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    return _alive(pid)
