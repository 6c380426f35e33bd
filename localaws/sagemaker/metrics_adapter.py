"""Metric lines read with training/metrics.py, the one regex train.py prints and tuning reads."""

from __future__ import annotations

from training.metrics import final_metrics, parse_metric_lines


def per_round(line: str) -> list[tuple[str, int, float]]:
    """(metric, round, value) for each per-round metric on the line (final lines excluded)."""
    return [
        (name, step, value) for name, series in parse_metric_lines(line).items() for step, value in series
    ]


def last_values(line: str) -> dict[str, float]:
    """The value of each metric on the line, final lines included (what SageMaker's regex keeps)."""
    return final_metrics(line)
