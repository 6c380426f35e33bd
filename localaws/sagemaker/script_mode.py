"""A framework container's training entry point, locally: what sagemaker-training-toolkit does for a script.

Run by the fork server as `python -m localaws.sagemaker.script_mode` in a job's /opt/ml tree (its
SAGEMAKER_BASE_DIR). Like the toolkit's `train()`: read the tree, unpack `sagemaker_submit_directory` into
<base>/code, run `python <sagemaker_program> --<hyperparameter> <value> ...` there with the SM_* variables
(training/container.py's Script), and on a non-zero exit write <base>/output/failure (unless the script
wrote one) with the end of what it wrote to stderr, as the toolkit's ExecuteUserScriptError says it.

Unlike the toolkit, it runs the script in this (forked) interpreter, whose libraries are already imported,
and it installs nothing: a requirements.txt is reported, not installed. The script sees none of this
project's modules, as in SageMaker's container.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import shlex
import shutil
import sys
import tarfile
import threading
import traceback
from collections import deque
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from contracts.script_mode import REQUIREMENTS_FILE
from localaws.sagemaker.forkserver import exit_code
from training.container import JOB_NAME_ENV, Container, Paths, Script, base_dir

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# How much of the script's stderr a FailureReason (1024 characters in all) carries.
STDERR_LINES = 20
STDERR_CHARS = 700
# Libraries whose versions a job's log names: what a script runs with here, whatever its image's are.
LIBRARIES = ("scikit-learn", "xgboost", "numpy", "pandas", "scipy")


class ClientError(Exception):
    """What the toolkit reports as a client error: the message becomes the FailureReason."""


def library_versions() -> str:
    """`scikit-learn 1.9.1, xgboost 3.2.0, ...`: the libraries this environment gives a script."""
    found = []
    for name in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join([f"Python {sys.version.split()[0]}", *found])


def requirements_note(source: Path) -> str | None:
    """What the job's log and the CLI say when the source directory has a requirements.txt."""
    if not (source / REQUIREMENTS_FILE).is_file():
        return None
    return (
        f"{REQUIREMENTS_FILE} found in the source directory: the local SageMaker does not install it "
        f"(SageMaker's container pip-installs it before the script runs); offline the script runs with "
        f"this project's environment: {library_versions()}"
    )


def unpack(script: Script) -> Path:
    """The source directory in <base>/code, from the archive or directory sagemaker_submit_directory names."""
    paths = script.container.paths
    target = paths.code_dir
    if not script.submit_directory:
        raise ClientError("the sagemaker_submit_directory hyperparameter is missing: nothing to run")
    source = paths.local(script.submit_directory)
    if target.exists():
        shutil.rmtree(target)
    if source.is_file():
        try:
            with tarfile.open(source, "r:*") as tar:
                tar.extractall(target, filter="data")
        except (tarfile.TarError, OSError) as err:
            raise ClientError(
                f"sagemaker_submit_directory {script.submit_directory}: not a tar.gz archive ({err})"
            ) from None
    elif source.is_dir():
        shutil.copytree(source, target)
    else:
        raise ClientError(
            f"sagemaker_submit_directory {script.submit_directory}: no such file in the container (with "
            "network isolation the source archive comes as the 'code' channel, as the SageMaker SDK sends it)"
        )
    return target


def _ours(path: str) -> bool:
    """Whether `path` is this project's code (its virtual environment, the interpreter's, is not)."""
    return path.startswith(str(PROJECT_ROOT)) and not path.startswith(sys.prefix)


def isolate(code_dir: Path) -> None:
    """sys.path and sys.modules as a fresh `python train.py` in the container would have them: the source
    directory first, then the interpreter's own; none of this project's modules."""
    job_dir = sys.path[0]  # the fork server put the job's directory (its /opt/ml) first
    sys.path[:] = [str(code_dir), *(p for p in sys.path[1:] if p and p != job_dir and not _ours(p))]
    for name, module in list(sys.modules.items()):
        if _ours(getattr(module, "__file__", None) or "") and name != __name__:
            del sys.modules[name]
    # An editable install of this project finds its packages whatever sys.path says.
    sys.meta_path[:] = [
        finder
        for finder in sys.meta_path
        if not str(getattr(finder, "__module__", "") or type(finder).__module__).startswith("__editable__")
    ]


def _print_traceback() -> None:
    """The traceback `python train.py` prints: from the script's frames on, not this runner's."""
    kind, error, tb = sys.exc_info()
    while tb is not None and (tb.tb_frame.f_code.co_filename in (__file__, "<frozen runpy>")):
        tb = tb.tb_next
    traceback.print_exception(kind, error, tb)


@contextlib.contextmanager
def stderr_tail(lines: int = STDERR_LINES) -> Iterator[deque[str]]:
    """Copy everything written to fd 2 (Python's and C libraries' alike) on to it, keeping its last lines."""
    tail: deque[str] = deque(maxlen=lines)
    sys.stderr.flush()
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def copy() -> None:
        with os.fdopen(read_end, "rb") as stream:
            for raw in stream:
                os.write(original, raw)
                text = raw.decode("utf-8", "replace").rstrip()
                if text:
                    tail.append(text)

    reader = threading.Thread(target=copy, name="stderr-tail", daemon=True)
    reader.start()
    try:
        yield tail
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(original, 2)  # the pipe's last writer closes: the reader sees its end
        reader.join(timeout=5)  # a child the script left running may still hold the pipe
        os.close(original)


def run_script(script: Script, code_dir: Path) -> tuple[int, list[str]]:
    """Run the entry point as `python <program> <args>` would, in `code_dir`; (exit code, stderr tail)."""
    os.environ.update(script.environment())
    os.environ["PYTHONPATH"] = str(code_dir)  # its own subprocesses import from the source directory too
    os.chdir(code_dir)
    isolate(code_dir)
    sys.argv = [script.program, *script.args]
    with stderr_tail() as tail:
        try:
            # Relative, as `python train.py` names it: sys.argv[0] and __file__ are "train.py".
            runpy.run_path(script.program, run_name="__main__")
            code = 0
        except SystemExit as done:
            code = exit_code(done.code)
        except BaseException:  # what an uncaught exception does to `python train.py`: a traceback, exit 1
            _print_traceback()
            code = 1
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    return code, list(tail)


def failure_message(script: Script, code: int, stderr: list[str]) -> str:
    """The toolkit's ExecuteUserScriptError text, its ErrorMessage the last stderr lines that fit."""
    kept: list[str] = []
    for line in reversed(stderr):
        if sum(len(k) + 1 for k in kept) + len(line) > STDERR_CHARS:
            break
        kept.insert(0, line)
    command = " ".join([sys.executable, *(shlex.quote(a) for a in [script.program, *script.args])])
    message = "\n".join(kept) or "(nothing on stderr)"
    return f'ExecuteUserScriptError:\nExitCode {code}\nErrorMessage "{message}"\nCommand "{command}"'


def train(paths: Paths) -> int:
    """The toolkit's train(): 0 when the script succeeded; 1 with output/failure written otherwise."""
    try:
        container = Container.read(
            paths, job_name=os.environ.get(JOB_NAME_ENV, ""), num_cpus=int(os.environ.get("SM_NUM_CPUS") or 1)
        )
        script = Script.of(container)
        if not script.program:
            raise ClientError("the sagemaker_program hyperparameter is missing: name the entry point to run")
        code_dir = unpack(script)
        if not script.program.endswith(".py"):
            raise ClientError(
                f"entry point {script.program}: the local SageMaker runs Python scripts (.py) only"
            )
        if not (code_dir / script.program).is_file():
            present = sorted(p.relative_to(code_dir).as_posix() for p in code_dir.rglob("*") if p.is_file())
            raise ClientError(
                f"entry point {script.program} is not in the source directory ({script.submit_directory}); "
                f"it holds {', '.join(present[:20]) or 'nothing'}"
            )
        note = requirements_note(code_dir)
        if note:
            print(note, flush=True)
    except ClientError as err:
        return _fail(paths, f"ClientError: {err}")
    code, stderr = run_script(script, code_dir)
    if code != 0:
        return _fail(paths, failure_message(script, code, stderr))
    return 0


def _fail(paths: Paths, message: str) -> int:
    if not paths.failure_file.exists():  # the script's own reason comes first, as with the toolkit
        paths.write_failure(message)
    print(message, file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(train(Paths(base_dir(os.environ))))
