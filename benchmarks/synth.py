"""`cdk synth` wall time of the full app (target: <= 8 s on 2 cores)."""

from __future__ import annotations

import tempfile
from typing import Any

from benchmarks.common import median_of, run_checked, tool_env

RUNS = 3


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as out:
        command = ["cdk", "synth", "--quiet", "--context", "stage=dev", "--output", out]
        run_checked(command, tool_env())  # warm-up: staged assets and the jsii runtime cache
        median, samples = median_of(RUNS, lambda: run_checked(command, tool_env()))
    return {"synth_s": round(median, 2), "synth_samples_s": [round(s, 2) for s in samples]}
