"""Grid search needs categorical ranges: numeric ranges become a few evenly spread values each."""

from __future__ import annotations

import math
from dataclasses import dataclass

from training.tuning_ranges import ParameterRange

# Which hyperparameters get more grid values first when the job budget is small.
PRIORITY = ("eta", "max_depth", "num_round", "min_child_weight", "subsample", "colsample_bytree", "alpha")


@dataclass(frozen=True)
class Grid:
    """A grid within the job budget: categorical ranges, fixed values for the rest, and its size."""

    categorical: list[dict[str, object]]
    fixed: dict[str, str]
    size: int


def _render(value: float, integer: bool) -> str:
    if integer:
        return str(round(value))
    return f"{value:.6g}"


def grid_values(item: ParameterRange, count: int) -> list[str]:
    """`count` values at the centres of equal slices of the range (on a log scale when it is one)."""
    log = item.scaling == "Logarithmic" and item.min_value > 0
    low, high = item.min_value, item.max_value
    if log:
        low, high = math.log(low), math.log(high)
    points = [low + (high - low) * (i + 0.5) / count for i in range(count)]
    values = [_render(math.exp(p) if log else p, item.integer) for p in points]
    return list(dict.fromkeys(values))  # integer ranges narrower than `count` collapse duplicates


def build_grid(ranges: tuple[ParameterRange, ...], max_jobs: int) -> Grid:
    """Spread the job budget over the ranges: each gets 2+ values while the grid size stays ≤ max_jobs."""
    order = sorted(ranges, key=lambda r: PRIORITY.index(r.name) if r.name in PRIORITY else len(PRIORITY))
    counts = {r.name: 1 for r in ranges}
    grown = True
    while grown:
        grown = False
        for item in order:
            trial = math.prod(counts.values()) // counts[item.name] * (counts[item.name] + 1)
            if trial <= max_jobs:
                counts[item.name] += 1
                grown = True
    categorical: list[dict[str, object]] = []
    fixed: dict[str, str] = {}
    size = 1
    for item in ranges:
        values = grid_values(item, counts[item.name])
        if len(values) == 1:
            fixed[item.name] = values[0]
        else:
            categorical.append({"Name": item.name, "Values": values})
            size *= len(values)
    return Grid(categorical, fixed, size)
