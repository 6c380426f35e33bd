"""How a local run grows with the work: wall time, share per phase and peak memory, by rows and trials.

One stack on its own local AWS; one run per size, on the generated binary set (`imbalanced`: any
number of rows, the same distribution at every size). Peak memory is the resident memory of the
local AWS and every process it started (fork server, jobs, model servers, Lambda runs), sampled
every 0.2 s.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import psutil  # type: ignore[import-untyped]  # a dependency of AutoGluon; no stubs

from benchmarks.pipeline import local_stack, run_once
from localaws import children

ROWS = (5_000, 41_000, 200_000)
TRIALS = (6, 40)
DATASET = "imbalanced"
# The phases a reader compares across sizes; the rest (validation, quotas, cleanup) are summed as "other".
PHASES = ("TrainCandidates", "WaitForEndpoint", "Evaluate")
SAMPLE_EVERY_S = 0.2


class PeakMemory:
    """The largest total RSS of a process tree seen while in the `with` block, in GiB."""

    def __init__(self, root_pid: int) -> None:
        self.root = root_pid
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _total(self) -> int:
        pids = {self.root, *children.marked_processes(self.root)}
        try:
            pids |= {child.pid for child in psutil.Process(self.root).children(recursive=True)}
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for pid in pids:
            try:
                total += psutil.Process(pid).memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def _watch(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.peak_bytes = max(self.peak_bytes, self._total())

    def __enter__(self) -> PeakMemory:
        self.peak_bytes = self._total()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def gib(self) -> float:
        return round(self.peak_bytes / 2**30, 2)


def _phases(states: dict[str, float], wall: float) -> dict[str, float]:
    """Each phase's share of the wall time; what the listed phases leave is 'other'."""
    shares = {phase: round(states.get(phase, 0.0) / wall, 3) for phase in PHASES}
    shares["other"] = round(max(0.0, 1 - sum(shares.values())), 3)
    return shares


def measure() -> dict[str, Any]:
    rows_out: list[dict[str, Any]] = []
    with local_stack() as stack:
        sfn, machine = stack.client("stepfunctions"), stack.outputs["StateMachineArn"]
        for rows in ROWS:
            dataset = stack.dataset(DATASET, rows)
            for trials in TRIALS:
                overrides = {"tuning_max_jobs": trials, "tuning_max_parallel_jobs": 2}
                with PeakMemory(stack.server_pid) as memory:
                    wall, states, _ = run_once(sfn, machine, dataset, f"scale-{rows}-{trials}", overrides)
                rows_out.append(
                    {
                        "rows": rows,
                        "trials": trials,
                        "wall_s": round(wall, 1),
                        "share": _phases(states, wall),
                        "peak_rss_gib": memory.gib,
                    }
                )
    return {"scale": rows_out, "scale_peak_rss_gib": max(r["peak_rss_gib"] for r in rows_out)}


if __name__ == "__main__":  # pragma: no cover - manual use
    print(json.dumps(measure(), indent=2))
