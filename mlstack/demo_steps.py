"""The pieces `mlstack demo` is made of: announced steps, the CDK CLI as a subprocess, and what to undo."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mlstack.commands import tty_console

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NODE_BIN = PROJECT_ROOT / "node_modules" / ".bin"
CDK = NODE_BIN / "cdk"


class StepError(RuntimeError):
    """A demo step failed; the message says which and why."""


@dataclass
class Steps:
    """Numbered announcements, and the undo actions of what was started (run last-in first-out)."""

    total: int
    done: int = 0
    undo: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.done += 1
        announce(f"[{self.done}/{self.total}] {title}")
        started = time.monotonic()
        yield
        print(f"      done in {time.monotonic() - started:.1f} s", flush=True)

    def teardown(self) -> list[str]:
        """Run every undo action even if one fails; the failures' messages."""
        failures = []
        while self.undo:
            title, action = self.undo.pop()
            announce(f"[teardown] {title}")
            try:
                action()
            except Exception as err:
                failures.append(f"{title}: {err}")
        return failures


def announce(text: str) -> None:
    console = tty_console()
    if console is None:
        print(f"==> {text}", flush=True)
    else:
        console.print(f"[bold cyan]==>[/] [bold]{text}[/]", highlight=False)


def tool_env(base: Mapping[str, str]) -> dict[str, str]:
    """PATH with node_modules/.bin first (Node 22 for jsii and the CLI) and this Python's bin next."""
    path = os.pathsep.join([str(NODE_BIN), str(Path(sys.executable).parent), base.get("PATH", "")])
    return {**base, "PATH": path, "CDK_DISABLE_VERSION_CHECK": "1"}


def cdk(args: list[str], env: Mapping[str, str], out_dir: Path, log: Path, timeout: float = 900) -> None:
    """Run the CDK CLI from the repository root; its output goes to `log`, shown only on failure."""
    if not CDK.exists():
        raise StepError(f"the CDK CLI is not installed at {CDK}; run make setup")
    command = [str(CDK), *args, "--output", str(out_dir), "--no-notices", "--ci"]
    with log.open("w") as out:
        try:
            code = subprocess.run(
                command,
                cwd=PROJECT_ROOT,
                env=tool_env({**os.environ, **env}),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            ).returncode
        except subprocess.TimeoutExpired:
            code = -1
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise StepError(f"cdk {args[0]} failed (exit {code}; log {log}):\n{tail}")
    print(f"      log: {log}", flush=True)


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ with `values` on top, restored afterwards (the in-process commands read it)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
