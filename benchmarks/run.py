"""`make bench`: run every benchmark, write benchmarks/results.json and benchmarks/results.md."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.common import run_checked, tool_env

HERE = Path(__file__).resolve().parent
# Module → what it measures; run in this order, cheapest first.
BENCHMARKS = (
    "synth",
    "handlers",
    "iam_overhead",
    "local_sagemaker",
    "pipeline",
    "scale",
    "demo",
    "tuning_efficiency",
    "narrowing",
    "test_suite",
)
TARGETS: dict[str, tuple[str, Callable[[float], bool]]] = {
    "synth_s": ("<= 8 s", lambda v: v <= 8),
    "pipeline_s": ("<= 6 s", lambda v: v <= 6),
    "tuning_wall_over_compute": ("<= 1.3", lambda v: v <= 1.3),
    "endpoint_start_s": ("<= 0.5 s", lambda v: v <= 0.5),
    "bayes_trials_to_match_random": ("<= N/4 = 10", lambda v: v <= 10),
    "test_suite_s": ("< 600 s", lambda v: v < 600),
    "scale_peak_rss_gib": ("< 6 GiB", lambda v: v < 6),
}


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    packages = ("aws-cdk-lib", "cdk-nag", "boto3", "moto", "xgboost-cpu", "optuna", "autogluon.tabular")
    found = {name: version(name) for name in packages}
    found["cdk-cli"] = run_checked(["cdk", "--version"], tool_env()).split()[0]
    found["node"] = run_checked(["node", "--version"], tool_env()).strip()
    return found


def table(results: dict[str, Any]) -> str:
    """The markdown table the README quotes."""
    rows = ["| figure | value | target |", "|---|---|---|"]
    for key, value in results.items():
        if key in ("machine", "versions") or isinstance(value, (dict, list)):
            continue
        target, met = TARGETS.get(key, ("", None))
        mark = "" if met is None or value is None else (" ✅" if met(value) else " ❌")
        rows.append(f"| `{key}` | {value} | {target}{mark} |")
    for key in ("pipeline_states_s", "handler_import_ms", "handler_asset_kb", "iam_request_ms"):
        for name, value in (results.get(key) or {}).items():
            rows.append(f"| `{key}.{name}` | {value} | |")
    for run in results.get("scale") or []:
        shares = ", ".join(f"{phase} {share:.0%}" for phase, share in run["share"].items())
        rows.append(
            f"| `scale.{run['rows']}x{run['trials']}` | {run['wall_s']} s, peak {run['peak_rss_gib']} GiB "
            f"({shares}) | |"
        )
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these benchmarks")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    for name in args.only or BENCHMARKS:
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        start = time.perf_counter()
        results.update(importlib.import_module(f"benchmarks.{name}").measure())
        print(f"bench: {name} done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    results["machine"] = machine()
    results["versions"] = versions()
    previous = (
        json.loads((HERE / "results.json").read_text())
        if args.only and (HERE / "results.json").exists()
        else {}
    )
    merged = {**previous, **results}
    (HERE / "results.json").write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    (HERE / "results.md").write_text(table(merged))
    print(table(merged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
