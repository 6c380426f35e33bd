"""The run options: one table of what a stage sets in cdk.json and an execution may override.

`RunDefaults` is the table: each field is one option, its annotation the value's type, and its
`option(rule, help)` the bounds or choices and what it does. Everything else is derived from it:
the stage config (`stacks.config.StageConfig` extends it and checks cdk.json with these rules), the
stage defaults the stack hands ValidateInput (`stage_defaults`), ValidateInput's parser
(`handlers.validate_input.options.RunOptions` extends it), the flags of `mlstack run` and the
README's configuration table (`mlstack.config_docs`). A stage that synthesizes can therefore also run.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Generic, TypeVar, cast

from contracts.instance_types import EXAMPLES, Use, instance_type_problem

T = TypeVar("T")

STRATEGIES = ("Bayesian", "Random", "Grid", "Hyperband")
AUTOPILOT_MODES = ("ENSEMBLING", "HYPERPARAMETER_TUNING", "AUTO")
MIN_RUNTIME_S = 60
MAX_TRAINING_RUNTIME_S = 28 * 24 * 3600  # SageMaker's limit for one training job
MAX_JOB_RUNTIME_S = 30 * 24 * 3600  # tuning and AutoML jobs
MAX_TUNING_JOBS = 750  # training jobs of one tuning job, its warm-start parents' included

_RULE = "rule"
_HELP = "help"


class OptionError(ValueError):
    """A value its rule refuses: `expected` says what fits; `reason`, if set, is the rule's own words."""

    def __init__(self, value: object, expected: str, reason: str | None = None) -> None:
        super().__init__(reason or f"expected {expected}, got {value!r}")
        self.value = value
        self.expected = expected
        self.reason = reason


class Rule(ABC, Generic[T]):
    """How one option's value is checked, and how what it expects reads in messages, help and docs."""

    # Whether the key must be present; an optional one is parsed from None when absent.
    required: ClassVar[bool] = True

    @property
    @abstractmethod
    def expected(self) -> str:
        """What fits, as a noun phrase: "an integer from 1 to 750"."""

    @property
    def cli_type(self) -> Callable[[str], Any]:
        """What a command-line flag's text is converted to before the rule sees it."""
        return str

    @property
    def metavar(self) -> str:
        """How a command-line flag's value is named in its usage."""
        return "VALUE"

    @abstractmethod
    def parse(self, value: object) -> T:
        """The value, checked; raise OptionError."""


@dataclass(frozen=True)
class Integer(Rule[int]):
    """A whole number within [low, high] (JSON true/false are not numbers)."""

    low: int
    high: int

    @property
    def expected(self) -> str:
        return f"an integer from {self.low} to {self.high}"

    @property
    def cli_type(self) -> Callable[[str], Any]:
        return int

    @property
    def metavar(self) -> str:
        return "N"

    def parse(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            raise OptionError(value, self.expected)
        return value


@dataclass(frozen=True)
class Number(Rule[float]):
    """A finite number above `above` and at most `at_most`, in `unit`; integers stay integers."""

    above: float
    at_most: float
    unit: str

    @property
    def expected(self) -> str:
        return f"a number of {self.unit} above {self.above:g} and at most {self.at_most:g}"

    @property
    def cli_type(self) -> Callable[[str], Any]:
        return float

    @property
    def metavar(self) -> str:
        return self.unit.upper()

    def parse(self, value: object) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not self.above < value <= self.at_most
        ):
            raise OptionError(value, self.expected)
        return value


@dataclass(frozen=True)
class FiniteNumber(Rule[float]):
    """Any finite number (a metric's value has no bounds of its own)."""

    @property
    def expected(self) -> str:
        return "a number"

    @property
    def cli_type(self) -> Callable[[str], Any]:
        return float

    def parse(self, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise OptionError(value, self.expected)
        return value


@dataclass(frozen=True)
class OrNone(Rule[T | None]):
    """What `rule` accepts, or none at all (null, or no key): the option is off."""

    required = False
    rule: Rule[T]
    absent: str  # what no value means, for messages and docs

    @property
    def expected(self) -> str:
        return f"{self.rule.expected}, or none ({self.absent})"

    @property
    def cli_type(self) -> Callable[[str], Any]:
        return self.rule.cli_type

    @property
    def metavar(self) -> str:
        return self.rule.metavar

    def parse(self, value: object) -> T | None:
        if value is None:
            return None
        try:
            return self.rule.parse(value)
        except OptionError:
            raise OptionError(value, self.expected) from None


@dataclass(frozen=True)
class Flag(Rule[bool]):
    """true or false, nothing that merely looks like it ("yes", 1)."""

    @property
    def expected(self) -> str:
        return "true or false"

    def parse(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise OptionError(value, self.expected)
        return value


@dataclass(frozen=True)
class Choice(Rule[T]):
    """One of a fixed list."""

    choices: tuple[T, ...]

    @property
    def expected(self) -> str:
        return f"one of {', '.join(map(str, self.choices))}"

    @property
    def metavar(self) -> str:
        return "NAME"

    def parse(self, value: object) -> T:
        # True == 1: a flag must not pass for a number in a list of numbers.
        if isinstance(value, bool) or value not in self.choices:
            raise OptionError(value, self.expected)
        return value


@dataclass(frozen=True)
class InstanceType(Rule[str]):
    """A SageMaker instance type for `use`, as contracts.instance_types decides (it says why not)."""

    use: Use

    @property
    def expected(self) -> str:
        used_by = "training jobs" if self.use == "training" else "endpoints"
        return (
            f"an instance type SageMaker accepts for {used_by} (botocore's list), without local NVMe "
            f"storage (SageMaker will not encrypt it with the stack's key), e.g. {EXAMPLES[self.use]}"
        )

    @property
    def metavar(self) -> str:
        return "TYPE"

    def parse(self, value: object) -> str:
        problem = instance_type_problem(value, self.use)
        if problem:
            raise OptionError(value, self.expected, problem)
        return str(value)


def option(rule: Rule[T], help: str) -> T:
    """A field of an options table: `rule` checks its value, `help` says what it does (CLI, README)."""
    return cast(T, field(metadata={_RULE: rule, _HELP: help}))


@dataclass(frozen=True)
class Option:
    """One row of an options table."""

    key: str
    rule: Rule[Any]
    help: str

    @property
    def flag(self) -> str:
        """The `mlstack run` flag that overrides it."""
        return "--" + self.key.replace("_", "-")


def options_of(table: type) -> tuple[Option, ...]:
    """The rows of an options table (a dataclass whose fields come from `option`), in field order."""
    return tuple(
        Option(f.name, f.metadata[_RULE], f.metadata[_HELP]) for f in fields(table) if _RULE in f.metadata
    )


@dataclass(frozen=True, kw_only=True)
class RunDefaults:
    """The run options: cdk.json sets each per stage (the default), an execution's input may override it."""

    training_instance_type: str = option(InstanceType("training"), "instance type of the tuning trials")
    endpoint_instance_type: str = option(
        InstanceType("endpoint"), "instance type of the evaluation endpoint (one instance per finalist)"
    )
    tuning_max_jobs: int = option(Integer(1, MAX_TUNING_JOBS), "tuning budget: training jobs in all")
    tuning_max_parallel_jobs: int = option(
        Integer(1, 100),
        "training jobs at once, at most tuning_max_jobs (a run that lowers tuning_max_jobs narrows it)",
    )
    tuning_strategy: str = option(Choice(STRATEGIES), "how the tuning job picks hyperparameters")
    tuning_target_objective: float | None = option(
        OrNone(FiniteNumber(), "no target"),
        "stop tuning once a trial's objective reaches this value (SageMaker's TargetObjectiveMetricValue)",
    )
    tuning_max_jobs_not_improving: int | None = option(
        OrNone(Integer(3, MAX_TUNING_JOBS), "no such stop"),
        "stop tuning after this many trials in a row that do not improve the best objective by 1% "
        "(BestObjectiveNotImproving; Bayesian and Random only)",
    )
    tuning_complete_on_convergence: bool = option(
        Flag(),
        "stop tuning once it converges: no trial improves the best objective by more than 1% "
        "(ConvergenceDetected; Bayesian and Random only)",
    )
    use_spot_training: bool = option(Flag(), "managed spot capacity for the tuning trials")
    training_max_runtime_s: int = option(
        Integer(MIN_RUNTIME_S, MAX_TRAINING_RUNTIME_S), "runtime cap of one tuning trial, in seconds"
    )
    autopilot_max_candidates: int = option(Integer(1, 750), "Autopilot budget: candidates in all")
    autopilot_max_runtime_s: int = option(
        Integer(MIN_RUNTIME_S, MAX_JOB_RUNTIME_S), "runtime cap of the Autopilot job, in seconds"
    )
    autopilot_mode: str = option(Choice(AUTOPILOT_MODES), "how Autopilot trains its candidates")
    poll_seconds: int = option(
        Integer(1, 3600), "how often the state machine polls Autopilot and the endpoint, in seconds"
    )
    endpoint_ttl_hours: float = option(
        Number(0, 30 * 24, "hours"), "how long a kept endpoint may live before the sweeper deletes it"
    )
    max_cost_usd: float | None = option(
        OrNone(Number(0, 1_000_000, "USD"), "no limit"),
        "budget: ValidateInput refuses a run whose upper bound (on-demand prices) is above it",
    )


RUN_OPTIONS = options_of(RunDefaults)


def stage_defaults(config: RunDefaults) -> dict[str, Any]:
    """A stage's value of every run option: what the stack passes ValidateInput as STAGE_DEFAULTS."""
    return {item.key: getattr(config, item.key) for item in RUN_OPTIONS}
