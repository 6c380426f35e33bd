"""Where a run's reports live: planned by ValidateInput, written by Evaluate and Cleanup."""

from __future__ import annotations


def report_key(run_id: str, name: str = "") -> str:
    """`reports/<run_id>/<name>` (the prefix itself when `name` is empty)."""
    return f"reports/{run_id}/{name}"
