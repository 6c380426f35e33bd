"""The manifest's class_counts (contracts.dataset_layout.ClassCounts), checked against classes and rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contracts.dataset_layout import MANIFEST, NUMERIC_CHANNELS, ClassCounts
from handlers.common.errors import InvalidInput

_FIX = "prepare the dataset again with mlstack data prepare --upload"


def _fail(problem: str) -> InvalidInput:
    return InvalidInput(f"dataset: {MANIFEST} {problem}; {_FIX}")


def parse_class_counts(raw: Any, classes: Sequence[str], rows: Mapping[str, int]) -> ClassCounts:
    """Rows per class in each numeric channel; {} when absent or for regression. Raise InvalidInput."""
    if raw is None or (not classes and raw == {}):
        return {}
    if not classes:
        raise _fail("has class_counts but no classes")
    if not isinstance(raw, Mapping):
        raise _fail("'class_counts' must be an object: channel -> class -> rows")
    unknown = sorted(set(raw) - set(NUMERIC_CHANNELS))
    if unknown:
        raise _fail(f"class_counts has unknown channels {unknown}; expected {list(NUMERIC_CHANNELS)}")
    counts: ClassCounts = {}
    for channel, per_class in raw.items():
        if not isinstance(per_class, Mapping) or set(per_class) != set(classes):
            raise _fail(f"class_counts.{channel} must give a row count for each class {list(classes)}")
        values = {name: per_class[name] for name in classes}
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values.values()):
            raise _fail(f"class_counts.{channel} must hold whole numbers of rows, got {dict(per_class)}")
        if sum(values.values()) != rows[channel]:
            raise _fail(
                f"class_counts.{channel} adds up to {sum(values.values())} rows, but rows.{channel} is "
                f"{rows[channel]}"
            )
        counts[channel] = values
    return counts
