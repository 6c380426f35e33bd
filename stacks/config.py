"""Stage configuration: one frozen dataclass built from cdk.json context, validated at synth."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Literal, cast

from contracts.instance_types import Use, instance_type_problem
from contracts.run_input import (
    AUTOPILOT_MODES,
    MAX_JOB_RUNTIME_S,
    MAX_TRAINING_RUNTIME_S,
    MIN_RUNTIME_S,
    STRATEGIES,
)

RemovalPolicyName = Literal["destroy", "retain"]

_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9]{1,7}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(ValueError):
    """A cdk.json context value is missing or invalid; the message names the key and what is expected."""


@dataclass(frozen=True)
class StageConfig:
    """Everything a stage decides; read once at synth, never from the environment."""

    stage: str
    stack_name: str
    name_prefix: str
    removal_policy: RemovalPolicyName
    notification_email: str | None
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
    execution_timeout_minutes: int
    endpoint_ttl_hours: int
    data_expiration_days: int
    log_retention_days: int

    @property
    def retain_data(self) -> bool:
        """Whether buckets and the key outlive the stack (prod) or go with it (dev, local)."""
        return self.removal_policy == "retain"


def load_config(context: dict[str, Any]) -> StageConfig:
    """Build the config of the stage named by `context["stage"]` from the `stages` table."""
    stage = context.get("stage")
    stages = context.get("stages")
    if not isinstance(stages, dict) or not stages:
        raise ConfigError("context key 'stages' is missing: cdk.json must define a table of stages")
    if not isinstance(stage, str) or stage not in stages:
        raise ConfigError(
            f"context key 'stage' must be one of {sorted(stages)}, got {stage!r} (use -c stage=dev)"
        )
    raw = stages[stage]
    if not isinstance(raw, dict):
        raise ConfigError(f"context key 'stages.{stage}' must be an object")
    known = {f.name for f in fields(StageConfig)} - {"stage"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(
            f"unknown key(s) in 'stages.{stage}': {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    return _validated(stage, raw)


def _validated(stage: str, raw: dict[str, Any]) -> StageConfig:
    v = _Reader(stage, raw)
    config = StageConfig(
        stage=stage,
        stack_name=v.matching("stack_name", _STACK_NAME, "a CloudFormation stack name"),
        name_prefix=v.matching(
            "name_prefix", _NAME_PREFIX, "2-8 lowercase letters/digits, starting with a letter"
        ),
        removal_policy=cast(RemovalPolicyName, v.choice("removal_policy", ("destroy", "retain"))),
        notification_email=v.optional_matching("notification_email", _EMAIL, 'an e-mail address or ""'),
        training_instance_type=v.instance_type("training_instance_type", "training"),
        endpoint_instance_type=v.instance_type("endpoint_instance_type", "endpoint"),
        tuning_max_jobs=v.integer("tuning_max_jobs", 1, 750),
        tuning_max_parallel_jobs=v.integer("tuning_max_parallel_jobs", 1, 100),
        tuning_strategy=v.choice("tuning_strategy", STRATEGIES),
        use_spot_training=v.boolean("use_spot_training"),
        training_max_runtime_s=v.integer("training_max_runtime_s", MIN_RUNTIME_S, MAX_TRAINING_RUNTIME_S),
        autopilot_max_candidates=v.integer("autopilot_max_candidates", 1, 750),
        autopilot_max_runtime_s=v.integer("autopilot_max_runtime_s", MIN_RUNTIME_S, MAX_JOB_RUNTIME_S),
        autopilot_mode=v.choice("autopilot_mode", AUTOPILOT_MODES),
        poll_seconds=v.integer("poll_seconds", 1, 3600),
        execution_timeout_minutes=v.integer("execution_timeout_minutes", 1, 365 * 24 * 60),
        endpoint_ttl_hours=v.integer("endpoint_ttl_hours", 1, 24 * 30),
        data_expiration_days=v.integer("data_expiration_days", 1, 3650),
        log_retention_days=v.choice_int("log_retention_days", _LOG_RETENTION_DAYS),
    )
    if config.tuning_max_parallel_jobs > config.tuning_max_jobs:
        raise ConfigError(
            f"'stages.{stage}.tuning_max_parallel_jobs' ({config.tuning_max_parallel_jobs}) must not exceed "
            f"'tuning_max_jobs' ({config.tuning_max_jobs})"
        )
    return config


# The values CloudWatch Logs accepts for a retention period.
_LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


class _Reader:
    """Typed access to one stage's raw values, raising ConfigError that names the key."""

    def __init__(self, stage: str, raw: dict[str, Any]) -> None:
        self._stage = stage
        self._raw = raw

    def _get(self, key: str) -> Any:
        if key not in self._raw:
            raise ConfigError(f"context key 'stages.{self._stage}.{key}' is missing")
        return self._raw[key]

    def _fail(self, key: str, expected: str) -> ConfigError:
        return ConfigError(
            f"context key 'stages.{self._stage}.{key}' must be {expected}, got {self._raw[key]!r}"
        )

    def matching(self, key: str, pattern: re.Pattern[str], expected: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not pattern.match(value):
            raise self._fail(key, expected)
        return value

    def instance_type(self, key: str, use: Use) -> str:
        value = self._get(key)
        problem = instance_type_problem(value, use)
        if problem:
            raise ConfigError(f"context key 'stages.{self._stage}.{key}': {problem}")
        return str(value)

    def optional_matching(self, key: str, pattern: re.Pattern[str], expected: str) -> str | None:
        # The CDK CLI drops null context values, so "" is how cdk.json says "none".
        if self._raw.get(key, "") in ("", None):
            return None
        return self.matching(key, pattern, expected)

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self._get(key)
        if value not in options:
            raise self._fail(key, f"one of {', '.join(options)}")
        return cast(str, value)

    def choice_int(self, key: str, options: tuple[int, ...]) -> int:
        value = self._get(key)
        if isinstance(value, bool) or value not in options:
            raise self._fail(key, f"one of {', '.join(map(str, options))}")
        return cast(int, value)

    def integer(self, key: str, low: int, high: int) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._fail(key, f"an integer from {low} to {high}")
        return value

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value
