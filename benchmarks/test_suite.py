"""Test suite wall time (target: < 10 min on 2 cores), as recorded by the last `make test`."""

from __future__ import annotations

import json
from typing import Any

from benchmarks.common import ROOT

RECORD = ROOT / "build" / "test-suite.json"


def measure() -> dict[str, Any]:
    # Running the suite here would double `make bench`; `make test` records its own wall time.
    if not RECORD.exists():
        return {
            "test_suite_s": None,
            "test_suite_note": "run `make test` first: it records build/test-suite.json",
        }
    record = json.loads(RECORD.read_text())
    return {
        "test_suite_s": record["seconds"],
        "test_suite_exit_code": record["exit_code"],
        "test_suite_note": "wall time of the last `make test` (build/test-suite.json)",
    }
