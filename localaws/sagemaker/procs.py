"""Every process the local SageMaker starts (jobs, model servers), so that shutdown leaves none behind.

Each is forked by one fork server (forkserver.py) that has already imported what jobs need, so a
job starts in milliseconds; each is still a process of its own, the leader of its own process group,
with exactly the environment built here: a Stop kills the group, a crash fails one job.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from localaws.children import SANDBOX_ENV
from localaws.iam.as_role import SESSION_NAME
from localaws.iam.principals import session_for
from localaws.sagemaker.common import PYTHON
from localaws.sagemaker.forkserver import MAX_PACKET, THREAD_LIMITS
from localaws.settings import CHILD_MARKER_ENV, PROJECT_ROOT, endpoint_url

# How long a job waits for the fork server's first start (its preload takes about a second).
READY_TIMEOUT_S = 120.0


class WorkerError(RuntimeError):
    """A job's process could not be started."""


class Worker:
    """A job's process: leader of its own group, its output (stderr merged) line by line, its exit code."""

    def __init__(self, pid: int, label: str, stdout: TextIO, server: ForkServer) -> None:
        self.pid = pid
        self.label = label
        self.stdout = stdout
        self.returncode: int | None = None
        self._server = server
        self._exited = threading.Event()

    def _ended(self, returncode: int) -> None:
        self.returncode = returncode
        self._exited.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """The exit code (negative: the signal that killed it), as subprocess reports it."""
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(self.label, timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        """Signal the job's whole process group (a no-op once it has exited)."""
        if self.returncode is None:
            self._server.signal(self.pid, signum)


@dataclass
class _Pending:
    label: str
    stdout: TextIO
    done: threading.Event = field(default_factory=threading.Event)
    worker: Worker | None = None
    error: str | None = None


def _pythonpath() -> str:
    return os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)


def _marker() -> str:
    return os.environ.get(CHILD_MARKER_ENV, str(os.getpid()))


def server_environment() -> dict[str, str]:
    """The fork server's own environment: what Python needs, one thread per library pool, no secrets."""
    env = {key: os.environ[key] for key in SANDBOX_ENV if key in os.environ}
    # The marker lets `mlstack local down` find the server and every job it forks (/proc/*/environ).
    env.update(THREAD_LIMITS, PYTHONPATH=_pythonpath(), **{CHILD_MARKER_ENV: _marker()})
    return env


def environment(role_arn: str | None, region: str, extra: Mapping[str, str]) -> dict[str, str]:
    """A job's whole environment: what Python needs, where the local AWS is, a session of the job's
    role (as SageMaker hands a container its execution role), then `extra`. Nothing else of the server's."""
    env = {key: os.environ[key] for key in SANDBOX_ENV if key in os.environ}
    env.update(
        {
            "PYTHONPATH": _pythonpath(),
            "PYTHONUNBUFFERED": "1",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            CHILD_MARKER_ENV: _marker(),
        }
    )
    port = os.environ.get("MOTO_PORT")  # set when the local AWS serves HTTP (localaws.server)
    if port:
        env["AWS_ENDPOINT_URL"] = endpoint_url(int(port))
    if role_arn:
        env.update(session_for(role_arn, SESSION_NAME).as_environment())
    env.update(extra)
    return env


class ForkServer:
    """The local AWS's side of the fork server: start it, ask for jobs and signals, learn their ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the server's state; also keeps each packet whole
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._workers: dict[int, Worker] = {}
        self.info: dict[str, Any] = {}
        self._atexit = False

    def start(self) -> None:
        """Start the server unless it runs; returns at once (spawn() waits until it is ready)."""
        with self._lock:
            if self._sock is not None:
                return
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                proc = subprocess.Popen(
                    [PYTHON, "-m", "localaws.sagemaker.forkserver", str(theirs.fileno())],
                    pass_fds=(theirs.fileno(),),
                    env=server_environment(),
                    cwd=PROJECT_ROOT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # a terminal's signals are for the local AWS
                )
            except OSError:
                ours.close()
                raise
            finally:
                theirs.close()
            self._sock, self._proc = ours, proc
            self._ready.clear()
            if not self._atexit:
                atexit.register(self.close)
                self._atexit = True
        threading.Thread(target=self._read, args=(ours, proc), name="forkserver-reader", daemon=True).start()

    def _read(self, sock: socket.socket, proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(OSError):
            while data := sock.recv(MAX_PACKET):
                self._dispatch(json.loads(data))
        self._lost(sock, proc)

    def _dispatch(self, message: dict[str, Any]) -> None:
        op = message["op"]
        if op == "ready":
            self.info = message
            self._ready.set()
            return
        with self._lock:
            if op == "exited":
                worker = self._workers.pop(int(message["pid"]), None)
                if worker is not None:
                    worker._ended(int(message["returncode"]))
                return
            pending = self._pending.pop(int(message["id"]), None)
            if pending is None:
                return
            if op == "spawned":
                pending.worker = Worker(int(message["pid"]), pending.label, pending.stdout, self)
                self._workers[pending.worker.pid] = pending.worker
            else:
                pending.error = str(message.get("error"))
            pending.done.set()

    def _lost(self, sock: socket.socket, proc: subprocess.Popen[bytes]) -> None:
        """The server is gone: its jobs die with it (SIGKILL on parent death); tell their waiters."""
        with self._lock:
            if self._sock is sock:
                self._sock = None
                self._ready.clear()
            workers, self._workers = list(self._workers.values()), {}
            pending, self._pending = list(self._pending.values()), {}
        sock.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        for worker in workers:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker._ended(-signal.SIGKILL)
        for waiting in pending:
            waiting.error = f"the fork server exited with code {proc.returncode}"
            waiting.done.set()

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Start the server if needed and wait until it has imported what jobs need."""
        self.start()
        if not self._ready.wait(timeout):
            raise WorkerError(f"the fork server did not get ready within {timeout:.0f} s")

    def spawn(self, module: str, argv: list[str], env: dict[str, str], cwd: str, label: str) -> Worker:
        """Fork `python -m module argv...` with exactly `env`, in `cwd`; its output is the Worker's stdout."""
        self.wait_ready()
        read_fd, write_fd = os.pipe()
        stdout = os.fdopen(read_fd, encoding="utf-8", errors="replace")
        pending = _Pending(label, stdout)
        try:
            with self._lock:
                if self._sock is None:
                    raise WorkerError("the fork server is not running")
                ident = next(self._ids)
                request = {"op": "spawn", "id": ident, "module": module, "argv": argv, "env": env, "cwd": cwd}
                self._pending[ident] = pending
                socket.send_fds(self._sock, [json.dumps(request).encode()], [write_fd])
        except (OSError, WorkerError):
            stdout.close()
            raise
        finally:
            os.close(write_fd)
        pending.done.wait()
        if pending.worker is None:
            stdout.close()
            raise WorkerError(f"could not start {label}: {pending.error}")
        return pending.worker

    def signal(self, pid: int, signum: int) -> None:
        with self._lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.send(json.dumps({"op": "signal", "pid": pid, "signal": signum}).encode())

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._proc.pid if self._proc is not None and self._sock is not None else None

    def describe(self) -> dict[str, Any]:
        """Its pid (None when not running), whether it is ready, and what its ready packet said."""
        return {
            "pid": self.pid,
            "ready": self._ready.is_set(),
            **{k: v for k, v in self.info.items() if k != "op"},
        }

    def close(self) -> None:
        """Stop the server; it kills whatever job is still running."""
        with self._lock:
            sock, proc = self._sock, self._proc
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


_server = ForkServer()
_lock = threading.Lock()
_live: dict[int, Worker] = {}


def warm_up() -> None:
    """Start the fork server now, so the first job does not wait for its imports."""
    _server.start()


def fork_server() -> ForkServer:
    return _server


def start(module: str, argv: list[str], label: str, workdir: str, env: dict[str, str]) -> Worker:
    """Run a job's process (`python -m module argv...`) and track it until forget()/terminate()."""
    worker = _server.spawn(module, argv, env, workdir, label)
    with _lock:
        _live[worker.pid] = worker
    return worker


def forget(worker: Worker) -> None:
    with _lock:
        _live.pop(worker.pid, None)


def terminate(worker: Worker, grace_s: float = 5.0) -> None:
    """SIGTERM the job's process group (as SageMaker does on stop), SIGKILL after the grace period;
    returns once the job has exited (the fork server has then killed anything left in its group)."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            worker.send_signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=30)
    forget(worker)


def live() -> list[dict[str, Any]]:
    with _lock:
        return [
            {"pid": pid, "label": worker.label, "running": worker.poll() is None}
            for pid, worker in sorted(_live.items())
        ]


def kill_all() -> None:
    with _lock:
        workers = list(_live.values())
    for worker in workers:
        terminate(worker, grace_s=2.0)
