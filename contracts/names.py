"""SageMaker resource names of a run, derived from the execution alone so every tier agrees on them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from typing import TypedDict, cast

# SageMaker's name rules (botocore service model): tuning and AutoML jobs 32, everything else 63.
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
MAX_JOB_NAME = 32
MAX_NAME = 63
_SLUG_LENGTH = 10
_HASH_LENGTH = 8
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9]+")


@dataclass(frozen=True)
class RunNames:
    """Every name one execution uses; deterministic in (state machine, execution name)."""

    run_id: str
    tuning_job: str
    automl_job: str
    tuning_model: str
    autopilot_model: str
    endpoint_config: str
    endpoint: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def as_run_names(self) -> RunNamesDict:
        """The same dict, typed as the run object's `names` (contracts.run.Run)."""
        return cast(RunNamesDict, self.as_dict())


class RunNamesDict(TypedDict):
    """RunNames as JSON (the run object's `names`): the same fields, checked equal by the tests."""

    run_id: str
    tuning_job: str
    automl_job: str
    tuning_model: str
    autopilot_model: str
    endpoint_config: str
    endpoint: str


def run_names(name_prefix: str, state_machine_arn: str, execution_name: str) -> RunNames:
    """Names for one execution: a slug of the execution name plus a hash of (state machine, name).

    The hash makes two executions (or two stacks) never collide, even when their slugs do; the
    cleanup paths recompute the same names from an execution ARN without reading any state.
    """
    if not execution_name:
        raise ValueError("execution name must not be empty")
    digest = hashlib.sha256(f"{state_machine_arn}/{execution_name}".encode()).hexdigest()[:_HASH_LENGTH]
    slug = _NOT_ALLOWED.sub("-", execution_name).strip("-")[:_SLUG_LENGTH].strip("-").lower() or "run"
    run_id = f"{slug}-{digest}"
    base = f"{name_prefix}-{run_id}"
    names = RunNames(
        run_id=run_id,
        tuning_job=tuning_job_name(name_prefix, run_id),
        automl_job=f"{base}-apl",
        tuning_model=f"{base}-xgb",
        autopilot_model=f"{base}-apl",
        endpoint_config=base,
        endpoint=base,
    )
    for field, name in names.as_dict().items():
        if field != "run_id":
            check_name(name, MAX_JOB_NAME if field.endswith("_job") else MAX_NAME)
    return names


def tuning_job_name(name_prefix: str, run_id: str) -> str:
    """The tuning job of a run, from its run id alone: how a warm start names its parents."""
    return f"{name_prefix}-{run_id}-hpo"


def check_name(name: str, limit: int) -> None:
    """Raise ValueError unless `name` is a valid SageMaker name within `limit` characters."""
    if len(name) > limit or not NAME_PATTERN.match(name):
        raise ValueError(
            f"{name!r} is not a valid SageMaker name (max {limit} chars, {NAME_PATTERN.pattern})"
        )
