"""The execution input's schema: known keys, types and ranges, merged over the stage defaults."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.instance_types import Use, instance_type_problem
from contracts.run_input import (
    AUTOPILOT_MODES,
    INPUT_KEYS,
    MAX_JOB_RUNTIME_S,
    MAX_TRAINING_RUNTIME_S,
    MIN_RUNTIME_S,
    STAGE_KEYS,
    STRATEGIES,
)
from handlers.common.errors import ConfigurationError, InvalidInput

MAX_TTL_HOURS = 30 * 24

KNOWN_KEYS = tuple(sorted((*INPUT_KEYS, *STAGE_KEYS)))


@dataclass(frozen=True)
class RunOptions:
    """The validated input of one execution, stage defaults filled in."""

    dataset: str
    training_instance_type: str
    endpoint_instance_type: str
    tuning_max_jobs: int
    tuning_max_parallel_jobs: int
    tuning_strategy: str
    use_spot_training: bool
    training_max_runtime_s: int
    autopilot_max_candidates: int
    autopilot_max_runtime_s: int
    autopilot_mode: str
    poll_seconds: int
    endpoint_ttl_hours: float
    keep_endpoint: bool
    tuning_ranges: Mapping[str, Any] | None
    objective: str | None


def _integer(low: int, high: int) -> Callable[[str, Any], int]:
    def check(field: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"{field}: expected an integer from {low} to {high}, got {value!r}")
        return value

    return check


def _boolean(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field}: expected true or false, got {value!r}")
    return value


def _choice(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(field: str, value: Any) -> str:
        if value not in choices:
            raise InvalidInput(f"{field}: expected one of {', '.join(choices)}, got {value!r}")
        return str(value)

    return check


def _instance_type(use: Use) -> Callable[[str, Any], str]:
    def check(field: str, value: Any) -> str:
        problem = instance_type_problem(value, use)
        if problem:
            raise InvalidInput(f"{field}: {problem}")
        return str(value)

    return check


def _hours(field: str, value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not 0 < value <= MAX_TTL_HOURS:
        raise InvalidInput(
            f"{field}: expected a number of hours above 0 and at most {MAX_TTL_HOURS}, got {value!r}"
        )
    return float(value)


_CHECKS: Mapping[str, Callable[[str, Any], Any]] = {
    "training_instance_type": _instance_type("training"),
    "endpoint_instance_type": _instance_type("endpoint"),
    "tuning_max_jobs": _integer(1, 750),
    "tuning_max_parallel_jobs": _integer(1, 100),
    "tuning_strategy": _choice(STRATEGIES),
    "use_spot_training": _boolean,
    "training_max_runtime_s": _integer(MIN_RUNTIME_S, MAX_TRAINING_RUNTIME_S),
    "autopilot_max_candidates": _integer(1, 750),
    "autopilot_max_runtime_s": _integer(MIN_RUNTIME_S, MAX_JOB_RUNTIME_S),
    "autopilot_mode": _choice(AUTOPILOT_MODES),
    "poll_seconds": _integer(1, 3600),
    "endpoint_ttl_hours": _hours,
}


def _stage_value(key: str, given: Mapping[str, Any], defaults: Mapping[str, Any]) -> Any:
    if key in given:
        return _CHECKS[key](key, given[key])
    if key not in defaults:
        raise ConfigurationError(f"STAGE_DEFAULTS lacks {key!r} (set by the stack from cdk.json)")
    try:
        return _CHECKS[key](key, defaults[key])
    except InvalidInput as err:
        raise ConfigurationError(f"STAGE_DEFAULTS: {err}") from None


def _optional_text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field}: expected a non-empty string, got {value!r}")
    return value


def parse_options(given: Any, defaults: Mapping[str, Any]) -> RunOptions:
    """Validate an execution input and merge it over the stage defaults; raise InvalidInput."""
    if not isinstance(given, Mapping):
        raise InvalidInput(f'input: expected a JSON object such as {{"dataset": "s3://..."}}, got {given!r}')
    unknown = sorted(set(given) - set(KNOWN_KEYS))
    if unknown:
        raise InvalidInput(f"input: unknown keys {', '.join(unknown)}; known keys: {', '.join(KNOWN_KEYS)}")
    if "dataset" not in given:
        raise InvalidInput(
            'dataset: missing; give the prepared dataset, e.g. {"dataset": "s3://<data-bucket>/datasets/<name>/"}'
        )
    values = {key: _stage_value(key, given, defaults) for key in STAGE_KEYS}
    jobs, parallel = values["tuning_max_jobs"], values["tuning_max_parallel_jobs"]
    if parallel > jobs:
        if "tuning_max_parallel_jobs" in given:
            raise InvalidInput(
                f"tuning_max_parallel_jobs: {parallel} is more than tuning_max_jobs ({jobs}); "
                "it must be at most the number of jobs"
            )
        values["tuning_max_parallel_jobs"] = jobs  # a smaller budget than the stage's: narrow its default
    ranges = given.get("tuning_ranges")
    if ranges is not None and not isinstance(ranges, Mapping):
        example = '{"eta": {"min": 0.05, "max": 0.3}}'
        raise InvalidInput(f"tuning_ranges: expected an object such as {example}, got {ranges!r}")
    return RunOptions(
        dataset=given["dataset"],
        keep_endpoint=_boolean("keep_endpoint", given.get("keep_endpoint", False)),
        tuning_ranges=ranges,
        objective=_optional_text("objective", given.get("objective")),
        **values,
    )
