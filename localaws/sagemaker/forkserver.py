"""The fork server: one interpreter that has imported what jobs need and forks one process per job.

Started by procs.py as `python -m localaws.sagemaker.forkserver FD`, FD being its end of a
SOCK_SEQPACKET socket pair. It never starts a thread (it is started with one thread per library
pool, jemalloc's background thread off), so every fork is from a clean single-threaded process, never
from the threaded server. One JSON object per packet:

  <- {"op": "ready", "threads": T, "preload_s": S}      once the modules are imported
  -> {"op": "spawn", "id": N, "module": M, "argv": [...], "env": {...}, "cwd": D}
     with the job's stdout (stderr goes there too) attached as an SCM_RIGHTS descriptor
  <- {"op": "spawned", "id": N, "pid": P}  or  {"op": "failed", "id": N, "error": "..."}
  -> {"op": "signal", "pid": P, "signal": S}            to the job's process group, until it is reaped
  <- {"op": "exited", "pid": P, "returncode": R}        R < 0: killed by signal -R (as subprocess says)

A job runs `python -m M argv...` as a fresh interpreter would: its own process group, `os.environ`
exactly `env` (nothing of the server's or another job's), `cwd`, new stdio, `SystemExit` codes. When
a job's leader exits, whatever it left in its group is killed before the job is reported exited.
When the socket closes (the local AWS is gone) every job's group is killed and the server exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import io
import json
import os
import runpy
import select
import signal
import socket
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any, NoReturn

# The libraries training, AutoML and endpoint processes import before they do anything (measured:
# ~1 s, xgboost ~0.8 s of it). The project's own modules are not among them: they import in
# milliseconds, and a job then runs the code as it is now, not as it was when the server started.
PRELOAD = (
    "numpy",
    "pandas",
    "xgboost",
    "autogluon.core.metrics",
    "autogluon.tabular",
    "autogluon.tabular.models",
    "lightgbm",
    "sklearn.ensemble",
)
# The environment the server itself starts with (procs.py sets it): one thread per library pool,
# so that importing numpy or pyarrow starts no thread a fork would leave behind.
THREAD_LIMITS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}
MAX_PACKET = 1 << 20
_PR_SET_PDEATHSIG = 1


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.send(json.dumps(message).encode())


def thread_count() -> int:
    return sum(1 for _ in Path("/proc/self/task").iterdir())


def preload(modules: tuple[str, ...] = PRELOAD) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # import-time chatter belongs to no job
        for name in modules:
            importlib.import_module(name)
        _warm_up()


def _warm_up() -> None:
    """Do once here what each job would otherwise do first (lazy imports, XGBoost's and OpenMP's set-up):
    a first fit in a forked job took ~0.1 s longer than the next."""
    import numpy as np
    import pandas as pd
    import xgboost as xgb

    pd.read_csv(io.StringIO("1,2\n0,3\n"), header=None, dtype=np.float32)
    data = xgb.DMatrix(np.array([[0.0], [1.0]], dtype=np.float32), label=np.array([0.0, 1.0]))
    params = {"objective": "binary:logistic", "tree_method": "hist", "nthread": 1}
    xgb.train(params, data, 1, evals=[(data, "t")], verbose_eval=False)


# --- the child ---------------------------------------------------------------------------------
def _die_with(parent: int) -> None:
    """SIGKILL this job if the fork server dies (a killed server cannot kill its jobs)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(128 + signal.SIGKILL)


def _stdio(output_fd: int) -> None:
    """The job's stdout and stderr both go to `output_fd`, line by line; stdin is empty."""
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    stdin = open(0, closefd=False)  # noqa: SIM115 - the job's, for its lifetime
    sys.stdin = stdin
    sys.__stdin__ = stdin  # type: ignore[misc]
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = io.TextIOWrapper(
            io.FileIO(fd, "w", closefd=False),
            encoding="utf-8",
            errors="backslashreplace",
            line_buffering=True,
            write_through=True,
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _fresh_state(env: dict[str, str]) -> None:
    """What a new interpreter would not share with its siblings: RNG state, SDK sessions, thread limits."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()  # from the OS, as in a new process (Python's `random` reseeds at fork)
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None  # type: ignore[attr-defined]  # no session made before the fork
    wanted = env.get("OMP_NUM_THREADS", "")
    if wanted.isdigit() and wanted != THREAD_LIMITS["OMP_NUM_THREADS"]:
        _openmp_threads(int(wanted))


def _openmp_threads(count: int) -> None:
    """OpenMP read the server's OMP_NUM_THREADS when it was loaded: apply the job's own."""
    loaded = {
        parts[5]
        for line in Path("/proc/self/maps").read_text().splitlines()
        if len(parts := line.split()) >= 6 and Path(parts[5]).name.startswith(("libgomp", "libomp"))
    }
    for library in loaded:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(library).omp_set_num_threads(count)


def _sys_path(pythonpath: str, cwd: str) -> None:
    """sys.path as `python -m` in `cwd` with this PYTHONPATH has it: cwd, its entries, then the
    interpreter's own (the server's cwd and PYTHONPATH entries are not the job's)."""
    ours = set(filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    interpreter = [entry for entry in sys.path[1:] if entry not in ours]
    sys.path[:] = [cwd, *filter(None, pythonpath.split(os.pathsep)), *interpreter]


def exit_code(code: object) -> int:
    """The process exit status `python -m` gives a SystemExit code (a message is printed, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _run_module(module: str) -> int:
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as done:
        return exit_code(done.code)
    return 0


def _child(request: dict[str, Any], output_fd: int, closing: list[int], parent: int) -> NoReturn:
    code = 1
    try:
        gc.enable()
        os.setpgid(0, 0)
        _die_with(parent)
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in closing:
            os.close(fd)
        _stdio(output_fd)
        os.chdir(request["cwd"])
        _sys_path(request["env"].get("PYTHONPATH", ""), request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _fresh_state(request["env"])
        sys.argv = [request["module"], *request["argv"]]
        code = _run_module(request["module"])
    except BaseException:  # what an uncaught exception does to `python -m`: a traceback, exit 1
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


# --- the server loop ---------------------------------------------------------------------------
class Server:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.jobs: set[int] = set()
        self.wakeup_r, self.wakeup_w = os.pipe()
        os.set_blocking(self.wakeup_r, False)
        os.set_blocking(self.wakeup_w, False)

    def serve(self) -> None:
        signal.set_wakeup_fd(self.wakeup_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a Python handler, so the wakeup fd is written
        try:
            while True:
                readable, _, _ = select.select([self.sock.fileno(), self.wakeup_r], [], [])
                if self.wakeup_r in readable:
                    with contextlib.suppress(BlockingIOError):
                        while os.read(self.wakeup_r, 512):
                            pass
                    self.reap()
                if self.sock.fileno() in readable and not self.receive():
                    return
        finally:
            self.kill_all()

    def receive(self) -> bool:
        """Handle one packet; False once the local AWS has gone."""
        try:
            data, fds, flags, _ = socket.recv_fds(self.sock, MAX_PACKET, 4)
        except ConnectionError:
            return False
        if not data:
            for fd in fds:
                os.close(fd)
            return False
        message = json.loads(data)
        if message["op"] == "spawn":
            if flags & socket.MSG_TRUNC or len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                send(self.sock, {"op": "failed", "id": message.get("id"), "error": "bad spawn packet"})
                return True
            self.spawn(message, fds[0])
        elif message["op"] == "signal":
            self.signal(int(message["pid"]), int(message["signal"]))
        return True

    def spawn(self, request: dict[str, Any], output_fd: int) -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # nothing buffered here may be written again by the child
        me = os.getpid()
        gc.freeze()  # the child's collections then never touch (and copy) the pages it inherits
        try:
            pid = os.fork()
        except OSError as err:
            os.close(output_fd)
            send(self.sock, {"op": "failed", "id": request["id"], "error": str(err)})
            return
        if pid == 0:
            _child(request, output_fd, [self.sock.fileno(), self.wakeup_r, self.wakeup_w], me)
        os.close(output_fd)
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # also here: a signal sent at once must find the group
        self.jobs.add(pid)
        send(self.sock, {"op": "spawned", "id": request["id"], "pid": pid})

    def signal(self, pid: int, signum: int) -> None:
        if pid not in self.jobs:
            return  # reaped already: its pid may belong to someone else by now
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signum)

    def reap(self) -> None:
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid == 0:
                return
            pid = info.si_pid
            # The leader is a zombie: its group id cannot be reused yet, so end what it left behind.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self.jobs.discard(pid)
            code = info.si_status if info.si_code == os.CLD_EXITED else -info.si_status
            with contextlib.suppress(OSError):
                send(self.sock, {"op": "exited", "pid": pid, "returncode": code})

    def kill_all(self) -> None:
        for pid in list(self.jobs):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        for pid in list(self.jobs):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.jobs.clear()


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[0]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the local AWS, not us
    # As the gc module advises for fork without exec: no collection here leaves holes in the pages
    # jobs share; each job turns it back on for itself.
    gc.disable()
    started = time.perf_counter()
    preload()
    send(sock, {"op": "ready", "threads": thread_count(), "preload_s": time.perf_counter() - started})
    Server(sock).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
