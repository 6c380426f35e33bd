"""The execution input's schema: the run options' table, plus the keys only an execution gives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from contracts import completion, warm_start
from contracts.run_options import RUN_OPTIONS, Flag, Option, OptionError, Rule, RunDefaults
from handlers.common.errors import ConfigurationError, InvalidInput
from handlers.validate_input.script import ScriptInput, parse_script

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class RunOptions(RunDefaults):
    """The validated input of one execution: the run options (stage defaults filled in) and its own keys."""

    dataset: str
    keep_endpoint: bool
    tuning_ranges: Mapping[str, Any] | None
    objective: str | None
    warm_start: tuple[str, ...] = ()  # run ids of the parents: their tuning jobs start this one
    warm_start_type: str | None = None  # None: chosen from the parents' data
    script: ScriptInput | None = None  # the user's own training script; None: built-in XGBoost


KNOWN_KEYS = tuple(sorted(f.name for f in fields(RunOptions)))


def _checked(key: str, rule: Rule[T], value: Any) -> T:
    try:
        return rule.parse(value)
    except OptionError as err:
        raise InvalidInput(f"{key}: {err}") from None


def _stage_value(item: Option, given: Mapping[str, Any], defaults: Mapping[str, Any]) -> Any:
    if item.key in given:
        return _checked(item.key, item.rule, given[item.key])
    if item.key not in defaults and not item.rule.required:
        return _checked(item.key, item.rule, None)  # an optional option a stack deployed before it had
    if item.key not in defaults:
        raise ConfigurationError(f"STAGE_DEFAULTS lacks {item.key!r} (set by the stack from cdk.json)")
    try:
        return _checked(item.key, item.rule, defaults[item.key])
    except InvalidInput as err:
        raise ConfigurationError(f"STAGE_DEFAULTS: {err}") from None


def _optional_text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field}: expected a non-empty string, got {value!r}")
    return value


def _fit_criteria_to_strategy(values: dict[str, Any], given: Mapping[str, Any]) -> None:
    """Refuse a completion criterion the run's strategy does not allow; drop the stage's default of one.

    A stage's criterion is a default for the strategies that take it: a run that picks another strategy
    runs without it, as a run that lowers tuning_max_jobs narrows the stage's parallelism.
    """
    strategy = values["tuning_strategy"]
    asked = completion.criteria(
        values["tuning_target_objective"],
        values["tuning_max_jobs_not_improving"],
        values["tuning_complete_on_convergence"],
    )
    for name in completion.not_allowed(strategy, asked):
        key = completion.OPTIONS[name]
        if key in given:
            allowed = " and ".join(completion.STRATEGIES[name])
            raise InvalidInput(
                f"{key}: SageMaker's {name} works with {allowed} search only, not {strategy}; "
                f"leave {key} out, or choose tuning_strategy {completion.STRATEGIES[name][0]}"
            )
        values[key] = False if key == completion.OPTIONS[completion.CONVERGENCE] else None


def _warm_start(given: Mapping[str, Any]) -> tuple[tuple[str, ...], str | None]:
    runs, kind = given.get("warm_start"), given.get("warm_start_type")
    example = '["bank-2026-1a2b3c4d"]'
    if runs is None:
        if kind is not None:
            raise InvalidInput(
                "warm_start_type: given without warm_start; name the parent runs in warm_start"
            )
        return (), None
    if not isinstance(runs, list) or not runs or not all(isinstance(r, str) and r for r in runs):
        raise InvalidInput(f"warm_start: expected a list of run ids such as {example}, got {runs!r}")
    if len(runs) > warm_start.MAX_PARENTS:
        raise InvalidInput(
            f"warm_start: {len(runs)} runs given; SageMaker takes at most {warm_start.MAX_PARENTS} parents"
        )
    if len(set(runs)) != len(runs):
        raise InvalidInput(f"warm_start: a run is named twice in {runs}; name each parent once")
    if kind is not None and kind not in warm_start.TYPES:
        raise InvalidInput(
            f"warm_start_type: expected one of {', '.join(warm_start.TYPES)}, got {kind!r} "
            "(or leave it out: IdenticalDataAndAlgorithm when the parents ran on this dataset)"
        )
    return tuple(runs), kind


def parse_options(given: Any, defaults: Mapping[str, Any]) -> RunOptions:
    """Validate an execution input and merge it over the stage defaults; raise InvalidInput."""
    if not isinstance(given, Mapping):
        raise InvalidInput(f'input: expected a JSON object such as {{"dataset": "s3://..."}}, got {given!r}')
    unknown = sorted(set(given) - set(KNOWN_KEYS))
    if unknown:
        raise InvalidInput(f"input: unknown keys {', '.join(unknown)}; known keys: {', '.join(KNOWN_KEYS)}")
    # null means "not given" for every key, as in AWS's JSON APIs: the stage default applies.
    given = {key: value for key, value in given.items() if value is not None}
    if "dataset" not in given:
        raise InvalidInput(
            'dataset: missing; give the prepared dataset, e.g. {"dataset": "s3://<data-bucket>/datasets/<name>/"}'
        )
    values = {item.key: _stage_value(item, given, defaults) for item in RUN_OPTIONS}
    jobs, parallel = values["tuning_max_jobs"], values["tuning_max_parallel_jobs"]
    if parallel > jobs:
        if "tuning_max_parallel_jobs" in given:
            raise InvalidInput(
                f"tuning_max_parallel_jobs: {parallel} is more than tuning_max_jobs ({jobs}); "
                "it must be at most the number of jobs"
            )
        values["tuning_max_parallel_jobs"] = jobs  # a smaller budget than the stage's: narrow its default
    _fit_criteria_to_strategy(values, given)
    ranges = given.get("tuning_ranges")
    if ranges is not None and not isinstance(ranges, Mapping):
        example = '{"eta": {"min": 0.05, "max": 0.3}}'
        raise InvalidInput(f"tuning_ranges: expected an object such as {example}, got {ranges!r}")
    parents, kind = _warm_start(given)
    return RunOptions(
        dataset=given["dataset"],
        warm_start=parents,
        warm_start_type=kind,
        keep_endpoint=_checked("keep_endpoint", Flag(), given.get("keep_endpoint", False)),
        tuning_ranges=ranges,
        objective=_optional_text("objective", given.get("objective")),
        script=parse_script(given.get("script")),
        **values,
    )
