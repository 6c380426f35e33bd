"""Shared helpers for the benchmarks: timing, medians, the repository's tools on PATH."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mlstack import demo_steps

ROOT = Path(__file__).resolve().parents[1]


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the demo gives the CDK CLI (Node 22 first on PATH), plus `extra`."""
    return demo_steps.tool_env({**os.environ, **(extra or {})})


def timed(action: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_of(runs: int, action: Callable[[], object]) -> tuple[float, list[float]]:
    """Median wall seconds over `runs` calls, and every sample."""
    samples = [timed(action) for _ in range(runs)]
    return statistics.median(samples), samples


def run_checked(command: Sequence[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> str:
    """Run a command, raising with its output if it fails."""
    result = subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout
