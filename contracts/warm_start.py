"""Warm start: SageMaker's rules for a tuning job that starts from earlier ones (its parents).

SageMaker developer guide, "Run a warm start hyperparameter tuning job", restrictions: at most 5 parents,
each in a terminal state; the same objective metric; the same set of static plus tunable hyperparameters
(one may move between static and tunable); each tuned hyperparameter keeps its type (continuous, integer,
categorical); at most 10 changes from tunable to static plus changes of static values, where a categorical
range counts one per value and a changed static value counts as two (the guide's red → blue example).
ValidateInput and the local AWS both judge a warm start with these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_PARENTS = 5
MAX_CHANGES = 10
TERMINAL = ("Completed", "Stopped", "Failed")
IDENTICAL = "IdenticalDataAndAlgorithm"
TRANSFER = "TransferLearning"
TYPES = (IDENTICAL, TRANSFER)
_KINDS = {
    "ContinuousParameterRanges": "continuous",
    "IntegerParameterRanges": "integer",
    "CategoricalParameterRanges": "categorical",
}


def kinds(ranges: Mapping[str, Any] | None) -> dict[str, str]:
    """Each tuned hyperparameter's kind (continuous, integer, categorical), from a ParameterRanges."""
    found: dict[str, str] = {}
    for key, kind in _KINDS.items():
        for entry in (ranges or {}).get(key) or []:
            if isinstance(entry, Mapping) and isinstance(entry.get("Name"), str):
                found[entry["Name"]] = kind
    return found


def names(ranges: Mapping[str, Any] | None, static: Mapping[str, Any] | None) -> set[str]:
    """Static plus tuned hyperparameter names; SageMaker's own (a leading underscore) are not the user's."""
    return {name for name in {*kinds(ranges), *(static or {})} if not name.startswith("_")}


def changed_kinds(
    parent: Mapping[str, Any] | None, child: Mapping[str, Any] | None
) -> dict[str, tuple[str, str]]:
    """Hyperparameters tuned by both whose kind differs: name -> (parent's kind, child's kind)."""
    before, after = kinds(parent), kinds(child)
    return {
        name: (before[name], after[name])
        for name in before.keys() & after.keys()
        if before[name] != after[name]
    }


def _values(ranges: Mapping[str, Any] | None, name: str) -> int:
    for entry in (ranges or {}).get("CategoricalParameterRanges") or []:
        if isinstance(entry, Mapping) and entry.get("Name") == name:
            return len(entry.get("Values") or []) or 1
    return 1


def changes(
    parent_ranges: Mapping[str, Any] | None,
    parent_static: Mapping[str, Any] | None,
    child_ranges: Mapping[str, Any] | None,
    child_static: Mapping[str, Any] | None,
) -> int:
    """Tunable-to-static changes plus static value changes, counted as SageMaker counts them."""
    tuned_before, static_before, static_after = kinds(parent_ranges), parent_static or {}, child_static or {}
    count = sum(_values(parent_ranges, name) for name in tuned_before if name in static_after)
    count += sum(
        2
        for name, value in static_after.items()
        if not name.startswith("_") and name in static_before and str(static_before[name]) != str(value)
    )
    return count


def train_channel(definition: Mapping[str, Any] | None) -> str | None:
    """The S3 prefix of a training job definition's train channel: what a warm start calls its data."""
    for channel in (definition or {}).get("InputDataConfig") or []:
        if isinstance(channel, Mapping) and channel.get("ChannelName") == "train":
            source = (channel.get("DataSource") or {}).get("S3DataSource") or {}
            uri = source.get("S3Uri")
            return str(uri) if uri else None
    return None
