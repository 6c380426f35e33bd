"""Tuning ranges, objectives and static hyperparameters for built-in XGBoost, as data (standard library only).

The ValidateInput Lambda imports this module too: keep it free of third-party and project imports.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PROBLEM_TYPES = ("binary", "multiclass", "regression")
SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
DEFAULT_EARLY_STOPPING_ROUNDS = 10


class RangeError(ValueError):
    """A tuning range SageMaker or its XGBoost would reject."""


@dataclass(frozen=True)
class Limit:
    """The values a hyperparameter accepts: an interval, each end closed unless marked open."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def contains(self, value: float) -> bool:
        """Whether `value` lies inside the interval (and is whole, for integer hyperparameters)."""
        if math.isnan(value) or (self.integer and not float(value).is_integer()):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def __str__(self) -> str:
        low = "-inf" if self.low is None else _number(self.low)
        high = "inf" if self.high is None else _number(self.high)
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        kind = "an integer" if self.integer else "a number"
        return f"{kind} in {left}{low}, {high}{right}"


# What SageMaker's built-in XGBoost accepts for its tunable hyperparameters (XGBoost hyperparameters page).
# Only these: scale_pos_weight, for one, is a static hyperparameter there (a binary run sets it).
XGBOOST_LIMITS: Mapping[str, Limit] = {
    "alpha": Limit(0),
    "colsample_bylevel": Limit(0, 1, low_open=True),
    "colsample_bynode": Limit(0, 1, low_open=True),
    "colsample_bytree": Limit(0, 1, low_open=True),
    "eta": Limit(0, 1),
    "gamma": Limit(0),
    "lambda": Limit(0),
    "max_delta_step": Limit(0),
    "max_depth": Limit(0, integer=True),
    "min_child_weight": Limit(0),
    "num_round": Limit(1, integer=True),
    "subsample": Limit(0, 1, low_open=True),
}


def _number(value: float) -> str:
    """Render a number the way the SageMaker API takes it: a short decimal string."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


@dataclass(frozen=True)
class ParameterRange:
    """One tunable hyperparameter: continuous or integer, with SageMaker's ScalingType."""

    name: str
    min_value: float
    max_value: float
    scaling: str = "Linear"
    integer: bool = False

    def validate(self, xgboost: bool = True) -> None:
        """Raise RangeError if SageMaker (and, for built-in XGBoost, XGBoost) would reject this range;
        a script's hyperparameters take whatever names and values the script does."""
        limit = XGBOOST_LIMITS.get(self.name) if xgboost else None
        if xgboost and limit is None:
            tunable = ", ".join(XGBOOST_LIMITS)
            raise RangeError(f"{self.name!r} is not a tunable XGBoost hyperparameter; use one of {tunable}")
        if limit is not None and limit.integer != self.integer:
            kind = "IntegerParameterRanges" if limit.integer else "ContinuousParameterRanges"
            raise RangeError(f"{self.name!r} belongs in {kind}")
        if self.scaling not in SCALING_TYPES:
            raise RangeError(f"{self.name!r}: ScalingType must be one of {', '.join(SCALING_TYPES)}")
        for value in (self.min_value, self.max_value):
            if limit is not None and not limit.contains(value):
                raise RangeError(f"{self.name!r}: {_number(value)} is out of range; it must be {limit}")
        if not self.min_value < self.max_value:
            raise RangeError(
                f"{self.name!r}: MinValue {_number(self.min_value)} must be below MaxValue "
                f"{_number(self.max_value)} (a fixed value belongs in the static hyperparameters)"
            )
        if self.scaling == "Logarithmic" and self.min_value <= 0:
            raise RangeError(f"{self.name!r}: Logarithmic scaling needs MinValue > 0")
        if self.scaling == "ReverseLogarithmic" and (
            self.integer or self.min_value < 0 or self.max_value >= 1
        ):
            raise RangeError(f"{self.name!r}: ReverseLogarithmic needs a continuous range inside [0, 1)")

    def to_api(self) -> dict[str, str]:
        """The range as one entry of SageMaker's ParameterRanges (values are strings)."""
        return {
            "Name": self.name,
            "MinValue": _number(self.min_value),
            "MaxValue": _number(self.max_value),
            "ScalingType": self.scaling,
        }


def _continuous(name: str, low: float, high: float, scaling: str = "Linear") -> ParameterRange:
    return ParameterRange(name, low, high, scaling)


def _integer(name: str, low: int, high: int) -> ParameterRange:
    return ParameterRange(name, low, high, "Linear", integer=True)


# Wide ranges, as tuning examples for built-in XGBoost publish them,
# with log scaling where the value spans orders of magnitude.
WIDE_RANGES: tuple[ParameterRange, ...] = (
    _continuous("alpha", 0.0001, 0.9999, "Logarithmic"),
    _continuous("eta", 0.0001, 0.9999, "Logarithmic"),
    _continuous("min_child_weight", 1, 20),
    _continuous("colsample_bytree", 0.0001, 0.9999),
    _continuous("subsample", 0.0001, 0.9999),
    _integer("max_depth", 5, 30),
    _integer("num_round", 100, 2000),
)

# The same hyperparameters narrowed for a fast run: shallow trees, few rounds (early stopping cuts more).
DEFAULT_RANGES: tuple[ParameterRange, ...] = (
    _continuous("alpha", 0.0001, 1.0, "Logarithmic"),
    _continuous("eta", 0.01, 0.5, "Logarithmic"),
    _continuous("min_child_weight", 1, 20),
    _continuous("colsample_bytree", 0.3, 1.0),
    _continuous("subsample", 0.5, 1.0),
    _integer("max_depth", 3, 10),
    _integer("num_round", 50, 300),
)


def validate_ranges(ranges: Iterable[ParameterRange], xgboost: bool = True) -> tuple[ParameterRange, ...]:
    """Check every range and that no hyperparameter appears twice; return them as a tuple."""
    checked = tuple(ranges)
    if not checked:
        raise RangeError("at least one tuning range is needed")
    seen: set[str] = set()
    for item in checked:
        item.validate(xgboost)
        if item.name in seen:
            raise RangeError(f"{item.name!r} has more than one range")
        seen.add(item.name)
    return checked


def parameter_ranges(ranges: Iterable[ParameterRange] = DEFAULT_RANGES) -> dict[str, list[dict[str, str]]]:
    """Render validated ranges as SageMaker's `ParameterRanges` (HyperParameterTuningJobConfig)."""
    checked = validate_ranges(ranges)
    return {
        "IntegerParameterRanges": [r.to_api() for r in checked if r.integer],
        "ContinuousParameterRanges": [r.to_api() for r in checked if not r.integer],
        "CategoricalParameterRanges": [],
    }


def _api_number(entry: Mapping[str, object], key: str) -> float:
    value = entry.get(key)
    try:
        return float(str(value))
    except ValueError:
        raise RangeError(f"{entry.get('Name')!r}: {key} must be a number, got {value!r}") from None


def parse_parameter_ranges(api: Mapping[str, object], xgboost: bool = True) -> tuple[ParameterRange, ...]:
    """Read (and validate) the numeric ranges given in SageMaker's `ParameterRanges` shape, e.g. an
    execution override; built-in XGBoost's (the default) have no categorical ones, a script's may."""
    known = {"IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges"}
    unknown = sorted(set(api) - known)
    if unknown:
        raise RangeError(f"unknown ParameterRanges keys {unknown}; use {sorted(known)}")
    if xgboost and api.get("CategoricalParameterRanges"):
        raise RangeError("categorical ranges are not supported for XGBoost's numeric hyperparameters")
    parsed: list[ParameterRange] = []
    for key, integer in (("IntegerParameterRanges", True), ("ContinuousParameterRanges", False)):
        entries = api.get(key) or []
        if not isinstance(entries, list):
            raise RangeError(f"{key} must be a list")
        for entry in entries:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("Name"), str):
                raise RangeError(f"each entry of {key} needs a Name, MinValue and MaxValue")
            parsed.append(
                ParameterRange(
                    entry["Name"],
                    _api_number(entry, "MinValue"),
                    _api_number(entry, "MaxValue"),
                    str(entry.get("ScalingType", "Auto")),
                    integer,
                )
            )
    return validate_ranges(parsed, xgboost)


@dataclass(frozen=True)
class Objective:
    """A tuning objective as `HyperParameterTuningJobObjective` names it."""

    metric_name: str
    type: str

    def to_api(self) -> dict[str, str]:
        """The objective in the SageMaker API's shape."""
        return {"MetricName": self.metric_name, "Type": self.type}


# multiclass uses mlogloss, not merror: it is smooth, so Bayesian search and early stopping see progress
# that a step-shaped error rate on a few hundred validation rows hides behind ties.
OBJECTIVES: Mapping[str, Objective] = {
    "binary": Objective("validation:auc", "Maximize"),
    "multiclass": Objective("validation:mlogloss", "Minimize"),
    "regression": Objective("validation:rmse", "Minimize"),
}
XGBOOST_OBJECTIVES: Mapping[str, str] = {
    "binary": "binary:logistic",
    "multiclass": "multi:softprob",
    "regression": "reg:squarederror",
}
AUTOPILOT_PROBLEM_TYPES: Mapping[str, str] = {
    "binary": "BinaryClassification",
    "multiclass": "MulticlassClassification",
    "regression": "Regression",
}
# F1macro for multiclass: the evaluation reports macro-F1, and Autopilot has no log-loss objective.
AUTOPILOT_OBJECTIVES: Mapping[str, str] = {"binary": "AUC", "multiclass": "F1macro", "regression": "RMSE"}


def _check_problem_type(problem_type: str) -> None:
    if problem_type not in PROBLEM_TYPES:
        raise RangeError(f"unknown problem type {problem_type!r}: use one of {', '.join(PROBLEM_TYPES)}")


def tuning_objective(problem_type: str) -> dict[str, str]:
    """The `HyperParameterTuningJobObjective` for a problem type."""
    _check_problem_type(problem_type)
    return OBJECTIVES[problem_type].to_api()


def scale_pos_weight(negatives: int, positives: int) -> str:
    """XGBoost's scale_pos_weight for a binary training set: negatives / positives, as a string.

    The value SageMaker's and XGBoost's docs suggest for unbalanced classes: each positive row's
    gradient counts that many times, so both classes weigh the same in the loss.
    """
    if isinstance(negatives, bool) or isinstance(positives, bool) or negatives < 1 or positives < 1:
        raise RangeError(
            f"scale_pos_weight needs at least one row of each class, got {negatives} negative and "
            f"{positives} positive training rows"
        )
    return _number(float(f"{negatives / positives:.6g}"))


def static_hyperparameters(
    problem_type: str,
    *,
    num_class: int | None = None,
    train_class_counts: tuple[int, int] | None = None,
    early_stopping_rounds: int = DEFAULT_EARLY_STOPPING_ROUNDS,
) -> dict[str, str]:
    """The hyperparameters every trial shares (strings, as `StaticHyperParameters` wants them).

    `train_class_counts` (binary only): rows of class 0 and of class 1 in the training channel; they
    set scale_pos_weight, which SageMaker's XGBoost does not let a tuning job tune.
    """
    _check_problem_type(problem_type)
    if early_stopping_rounds < 1:
        raise RangeError("early_stopping_rounds must be at least 1")
    metric = OBJECTIVES[problem_type].metric_name.split(":", 1)[1]
    static = {
        "objective": XGBOOST_OBJECTIVES[problem_type],
        "eval_metric": metric,
        "early_stopping_rounds": str(early_stopping_rounds),
    }
    if problem_type == "multiclass":
        if num_class is None or num_class < 3:
            raise RangeError("multiclass needs num_class, the number of classes (at least 3)")
        static["num_class"] = str(num_class)
    elif num_class is not None:
        raise RangeError(f"num_class is only for multiclass, not {problem_type}")
    if train_class_counts is not None:
        if problem_type != "binary":
            raise RangeError(f"scale_pos_weight is only for binary problems, not {problem_type}")
        static["scale_pos_weight"] = scale_pos_weight(*train_class_counts)
    return static


def autopilot_problem_type(problem_type: str) -> str:
    """Autopilot's `ProblemType` for our problem type."""
    _check_problem_type(problem_type)
    return AUTOPILOT_PROBLEM_TYPES[problem_type]


def autopilot_objective(problem_type: str) -> dict[str, str]:
    """Autopilot's `AutoMLJobObjective` for our problem type."""
    _check_problem_type(problem_type)
    return {"MetricName": AUTOPILOT_OBJECTIVES[problem_type]}
