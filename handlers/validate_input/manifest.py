"""The prepared dataset's manifest.json, as `mlstack data prepare` writes it, checked field by field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.dataset_layout import (
    AUTOPILOT_MIN_ROWS,
    CHANNEL_NAMES,
    MANIFEST,
    NUMERIC_CHANNELS,
    SUPPORTED_FORMAT_VERSIONS,
    ClassCounts,
)
from handlers.common.errors import InvalidInput
from handlers.validate_input.class_counts import parse_class_counts
from training.tuning_ranges import PROBLEM_TYPES

_FIX = "prepare the dataset again with mlstack data prepare --upload"


@dataclass(frozen=True)
class Manifest:
    """What the run needs from the manifest."""

    target: str
    problem_type: str
    classes: tuple[str, ...]
    channels: Mapping[str, str]
    class_counts: ClassCounts = field(default_factory=dict)


def _fail(problem: str) -> InvalidInput:
    return InvalidInput(f"dataset: {MANIFEST} {problem}; {_FIX}")


def _channels(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise _fail("has no 'channels' object")
    missing = [c for c in CHANNEL_NAMES if c not in raw]
    if missing:
        raise _fail(f"lacks the channels {', '.join(missing)}")
    channels: dict[str, str] = {}
    for name in CHANNEL_NAMES:
        prefix = raw[name]
        relative = isinstance(prefix, str) and not prefix.startswith("/") and ".." not in prefix
        if not relative or not prefix.endswith("/"):
            raise _fail(f"channel {name!r} must be a relative prefix ending in '/', got {prefix!r}")
        channels[name] = prefix
    return channels


def _classes(problem_type: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise _fail("'classes' must be a list of strings")
    classes = tuple(raw)
    if len(set(classes)) != len(classes):
        raise _fail("'classes' has duplicates")
    expected = {"binary": "exactly 2", "multiclass": "at least 3", "regression": "none"}[problem_type]
    fits = {"binary": len(classes) == 2, "multiclass": len(classes) >= 3, "regression": not classes}
    if not fits[problem_type]:
        raise _fail(f"has {len(classes)} classes for a {problem_type} problem; expected {expected}")
    return classes


def _rows(raw: Any) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise _fail("has no 'rows' object")
    rows: dict[str, int] = {}
    for split in NUMERIC_CHANNELS:
        count = raw.get(split)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise _fail(f"rows.{split} must be a positive integer, got {count!r}")
        rows[split] = count
    return rows


def parse_manifest(body: bytes) -> Manifest:
    """Parse and check manifest.json (see contracts.dataset_layout.ManifestFields); raise InvalidInput."""
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise _fail(f"is not valid JSON ({err})") from None
    if not isinstance(raw, Mapping):
        raise _fail("is not a JSON object")
    version = raw.get("format_version")
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise _fail(f"has format_version {version!r}; this stack reads {SUPPORTED_FORMAT_VERSIONS}")
    problem_type = raw.get("problem_type")
    if problem_type not in PROBLEM_TYPES:
        raise InvalidInput(
            f"dataset: {MANIFEST} has unknown problem_type {problem_type!r}; "
            f"expected one of {', '.join(PROBLEM_TYPES)} ({_FIX})"
        )
    target = raw.get("target")
    if not isinstance(target, str) or not target:
        raise _fail("has no 'target' column name")
    rows = _rows(raw.get("rows"))
    autopilot_rows = rows["train"] + rows["validation"]
    if autopilot_rows < AUTOPILOT_MIN_ROWS:
        raise InvalidInput(
            f"dataset: its autopilot channel has {autopilot_rows} rows (train + validation), and SageMaker "
            f"Autopilot needs at least {AUTOPILOT_MIN_ROWS}; prepare a larger dataset (mlstack data prepare "
            "--rows, or a bigger CSV)"
        )
    classes = _classes(str(problem_type), raw.get("classes", []))
    return Manifest(
        target=target,
        problem_type=str(problem_type),
        classes=classes,
        channels=_channels(raw.get("channels")),
        class_counts=parse_class_counts(raw.get("class_counts"), classes, rows),
    )
