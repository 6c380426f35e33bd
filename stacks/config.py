"""Stage configuration: one frozen dataclass built from cdk.json context, validated at synth."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from contracts.run_options import Choice, Integer, OptionError, Rule, RunDefaults, option, options_of

RemovalPolicyName = Literal["destroy", "retain"]

_REMOVAL_POLICIES: tuple[RemovalPolicyName, ...] = ("destroy", "retain")
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9]{1,7}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
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


class ConfigError(ValueError):
    """A cdk.json context value is missing or invalid; the message names the key and what is expected."""


@dataclass(frozen=True)
class Matching(Rule[str]):
    """A string matching `pattern`; `what` says in words what that is."""

    pattern: re.Pattern[str]
    what: str

    @property
    def expected(self) -> str:
        return self.what

    def parse(self, value: object) -> str:
        if not isinstance(value, str) or not self.pattern.match(value):
            raise OptionError(value, self.expected)
        return value


@dataclass(frozen=True)
class OptionalMatching(Rule[str | None]):
    """Like Matching, or "" (or no key at all) for none: the CDK CLI drops null context values."""

    required = False
    pattern: re.Pattern[str]
    what: str

    @property
    def expected(self) -> str:
        return f'{self.what} or ""'

    def parse(self, value: object) -> str | None:
        if value in ("", None):
            return None
        if not isinstance(value, str) or not self.pattern.match(value):
            raise OptionError(value, self.expected)
        return value


@dataclass(frozen=True, kw_only=True)
class StageConfig(RunDefaults):
    """Everything a stage decides; read once at synth, never from the environment.

    The run options come from RunDefaults; the fields below are the stage's alone: no execution
    overrides them, and only the stack reads them.
    """

    stage: str
    stack_name: str = option(
        Matching(_STACK_NAME, "a CloudFormation stack name"), "CloudFormation stack name"
    )
    name_prefix: str = option(
        Matching(_NAME_PREFIX, "2-8 lowercase letters/digits, starting with a letter"),
        "starts every SageMaker resource name; IAM is scoped to it",
    )
    removal_policy: RemovalPolicyName = option(
        Choice(_REMOVAL_POLICIES),
        "`destroy`: buckets and key go with the stack; `retain`: they outlive it",
    )
    notification_email: str | None = option(
        OptionalMatching(_EMAIL, "an e-mail address"), "address subscribed to run notifications"
    )
    execution_timeout_minutes: int = option(Integer(1, 365 * 24 * 60), "hard limit of one execution")
    data_expiration_days: int = option(
        Integer(1, 3650), "when job outputs (`jobs/` in the artifacts bucket) expire"
    )
    log_retention_days: int = option(
        Choice(_LOG_RETENTION_DAYS), "CloudWatch Logs retention (a value CloudWatch accepts)"
    )

    @property
    def retain_data(self) -> bool:
        """Whether buckets and the key outlive the stack (prod) or go with it (dev, local)."""
        return self.removal_policy == "retain"


# Every key of a stage's table in cdk.json: the run options, then the stage's own.
STAGE_OPTIONS = options_of(StageConfig)


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
    known = sorted(item.key for item in STAGE_OPTIONS)
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown key(s) in 'stages.{stage}': {', '.join(unknown)} (known: {', '.join(known)})"
        )
    return _validated(stage, raw)


def _validated(stage: str, raw: dict[str, Any]) -> StageConfig:
    values: dict[str, Any] = {}
    for item in STAGE_OPTIONS:
        path = f"stages.{stage}.{item.key}"
        if item.key not in raw and item.rule.required:
            raise ConfigError(f"context key '{path}' is missing")
        try:
            values[item.key] = item.rule.parse(raw.get(item.key))
        except OptionError as err:
            if err.reason:
                raise ConfigError(f"context key '{path}': {err.reason}") from None
            raise ConfigError(f"context key '{path}' must be {err.expected}, got {err.value!r}") from None
    config = StageConfig(stage=stage, **values)
    if config.tuning_max_parallel_jobs > config.tuning_max_jobs:
        raise ConfigError(
            f"'stages.{stage}.tuning_max_parallel_jobs' ({config.tuning_max_parallel_jobs}) must not exceed "
            f"'tuning_max_jobs' ({config.tuning_max_jobs})"
        )
    return config
