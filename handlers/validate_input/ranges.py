"""Tuning ranges for a run: the defaults of training.tuning_ranges with an execution's partial overrides."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from handlers.common.errors import InvalidInput
from training.tuning_ranges import (
    DEFAULT_RANGES,
    XGBOOST_LIMITS,
    ParameterRange,
    RangeError,
    parse_parameter_ranges,
    validate_ranges,
)

_API_KEYS = {"IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges"}
_OVERRIDE_KEYS = {"min", "max", "scaling"}
_EXAMPLE = '{"eta": {"min": 0.05, "max": 0.3}}'


def range_bound(name: str, key: str, value: Any) -> float:
    """A range's min or max: a finite number, else InvalidInput naming the field."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"tuning_ranges: {name}.{key} must be a number, got {value!r}")
    return float(value)


def _override(base: ParameterRange | None, name: str, spec: Any) -> ParameterRange:
    if not isinstance(spec, Mapping):
        raise InvalidInput(f"tuning_ranges: {name} must be an object such as {_EXAMPLE}, got {spec!r}")
    unknown = sorted(set(spec) - _OVERRIDE_KEYS)
    if unknown:
        raise InvalidInput(f"tuning_ranges: {name} has unknown keys {unknown}; use min, max, scaling")
    if base is None:
        limit = XGBOOST_LIMITS.get(name)
        if limit is None:
            raise InvalidInput(
                f"tuning_ranges: {name!r} is not a tunable XGBoost hyperparameter; "
                f"use one of {', '.join(XGBOOST_LIMITS)}"
            )
        if "min" not in spec or "max" not in spec:
            raise InvalidInput(f"tuning_ranges: {name} is not tuned by default; give both min and max")
        base = ParameterRange(name, 0, 0, "Auto", integer=limit.integer)
    scaling = spec.get("scaling", base.scaling)
    if not isinstance(scaling, str):
        raise InvalidInput(f"tuning_ranges: {name}.scaling must be a string, got {scaling!r}")
    low = range_bound(name, "min", spec["min"]) if "min" in spec else base.min_value
    high = range_bound(name, "max", spec["max"]) if "max" in spec else base.max_value
    return dataclasses.replace(base, min_value=low, max_value=high, scaling=scaling)


def resolve_ranges(override: Mapping[str, Any] | None) -> tuple[ParameterRange, ...]:
    """The run's ranges: defaults, partially overridden by name, or a full SageMaker ParameterRanges."""
    try:
        if not override:
            return validate_ranges(DEFAULT_RANGES)
        if set(override) & _API_KEYS:
            return parse_parameter_ranges(override)
        by_name = {r.name: r for r in DEFAULT_RANGES}
        for name, spec in override.items():
            by_name[name] = _override(by_name.get(name), name, spec)
        return validate_ranges(by_name.values())
    except RangeError as err:
        raise InvalidInput(f"tuning_ranges: {err}") from None
