"""SageMaker built-in XGBoost hyperparameters: names, types and limits, parsed from strings."""

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from training.errors import HyperparameterError
from training.tuning_ranges import XGBOOST_LIMITS, Limit


@dataclass(frozen=True)
class _Spec:
    kind: type
    limit: Limit | None = None
    choices: tuple[str, ...] = ()


OBJECTIVES = (
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "multi:softmax",
    "multi:softprob",
    "reg:squarederror",
    "reg:linear",
    "reg:logistic",
    "reg:absoluteerror",
    "reg:pseudohubererror",
    "reg:squaredlogerror",
    "reg:gamma",
    "reg:tweedie",
    "count:poisson",
)
EVAL_METRICS = (
    "rmse",
    "rmsle",
    "mae",
    "mape",
    "mphe",
    "logloss",
    "error",
    "merror",
    "mlogloss",
    "auc",
    "aucpr",
    "ndcg",
    "map",
    "pre",
    "poisson-nloglik",
    "gamma-nloglik",
    "gamma-deviance",
    "tweedie-nloglik",
)
# Names of other XGBoost front ends that SageMaker's XGBoost spells differently.
ALIASES = {
    "learning_rate": "eta",
    "reg_alpha": "alpha",
    "reg_lambda": "lambda",
    "min_split_loss": "gamma",
    "n_estimators": "num_round",
    "num_boost_round": "num_round",
    "nrounds": "num_round",
    "random_state": "seed",
    "n_jobs": "nthread",
}
SPECS: Mapping[str, _Spec] = {
    **{name: _Spec(int if limit.integer else float, limit) for name, limit in XGBOOST_LIMITS.items()},
    "num_class": _Spec(int, Limit(2, integer=True)),
    "early_stopping_rounds": _Spec(int, Limit(1, integer=True)),
    "objective": _Spec(str, choices=OBJECTIVES),
    "eval_metric": _Spec(str),
    "seed": _Spec(int, Limit(integer=True)),
    "scale_pos_weight": _Spec(float, Limit(0, low_open=True)),
    "base_score": _Spec(float),
    "booster": _Spec(str, choices=("gbtree", "gblinear", "dart")),
    "tree_method": _Spec(str, choices=("auto", "exact", "approx", "hist")),
    "grow_policy": _Spec(str, choices=("depthwise", "lossguide")),
    "max_leaves": _Spec(int, Limit(0, integer=True)),
    "max_bin": _Spec(int, Limit(2, integer=True)),
    "nthread": _Spec(int, Limit(1, integer=True)),
    "num_parallel_tree": _Spec(int, Limit(1, integer=True)),
    "verbosity": _Spec(int, Limit(0, 3, integer=True)),
    "sketch_eps": _Spec(float, Limit(0, 1, low_open=True, high_open=True)),
    "tweedie_variance_power": _Spec(float, Limit(1, 2, low_open=True, high_open=True)),
    "rate_drop": _Spec(float, Limit(0, 1)),
    "skip_drop": _Spec(float, Limit(0, 1)),
    "one_drop": _Spec(int, Limit(0, 1, integer=True)),
    "sample_type": _Spec(str, choices=("uniform", "weighted")),
    "normalize_type": _Spec(str, choices=("tree", "forest")),
    "monotone_constraints": _Spec(str),
    "interaction_constraints": _Spec(str),
}
TUNING_OBJECTIVE = "_tuning_objective_metric"  # SageMaker adds it to every trial of a tuning job
_NOT_XGBOOST_PARAMS = {"num_round", "early_stopping_rounds", "eval_metric"}


@dataclass(frozen=True)
class Hyperparameters:
    """Validated hyperparameters, split into XGBoost's params and xgb.train's arguments."""

    num_round: int
    params: dict[str, int | float | str] = field(default_factory=dict)
    eval_metrics: tuple[str, ...] = ()
    early_stopping_rounds: int | None = None
    tuning_objective: str | None = None

    @property
    def objective(self) -> str:
        """XGBoost's objective (reg:squarederror unless given, as in SageMaker's XGBoost)."""
        return str(self.params.get("objective", "reg:squarederror"))

    @property
    def num_class(self) -> int | None:
        """The number of classes of a multi:* objective."""
        value = self.params.get("num_class")
        return None if value is None else int(value)


def _unknown(name: str) -> HyperparameterError:
    hint = ""
    if name in ALIASES:
        hint = f" (SageMaker's XGBoost calls it {ALIASES[name]!r})"
    elif close := difflib.get_close_matches(name, list(SPECS), n=1):
        hint = f" (did you mean {close[0]!r}?)"
    return HyperparameterError(f"unknown hyperparameter {name!r}{hint}")


def _convert(name: str, raw: str) -> int | float | str:
    spec = SPECS[name]
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]  # script-mode SDKs JSON-encode string values
    if spec.kind is str:
        if spec.choices and text not in spec.choices:
            raise HyperparameterError(
                f"hyperparameter {name!r} must be one of {', '.join(spec.choices)}, got {raw!r}"
            )
        return text
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or (spec.limit is not None and not spec.limit.contains(number)):
        raise HyperparameterError(f"hyperparameter {name!r} must be {spec.limit or 'a number'}, got {raw!r}")
    return int(number) if spec.kind is int else number


def _eval_metrics(raw: str) -> tuple[str, ...]:
    metrics = tuple(m.strip() for m in raw.strip().strip('"').split(",") if m.strip())
    for metric in metrics:
        base = metric.split("@", 1)[0].rstrip("-")
        if base not in EVAL_METRICS:
            raise HyperparameterError(f"unknown eval_metric {metric!r}; use one of {', '.join(EVAL_METRICS)}")
    return metrics


def parse_hyperparameters(raw: Mapping[str, str]) -> Hyperparameters:
    """Validate string hyperparameters as SageMaker passes them, skipping reserved `_*`/`sagemaker_*` keys."""
    values: dict[str, int | float | str] = {}
    for name, value in raw.items():
        if name == TUNING_OBJECTIVE or name.startswith(("_", "sagemaker_")):
            continue
        if name not in SPECS:
            raise _unknown(name)
        values[name] = _convert(name, str(value))
    if "num_round" not in values:
        raise HyperparameterError("hyperparameter 'num_round' is required (the number of boosting rounds)")
    if values.get("objective") == "reg:linear":
        # XGBoost's name for it since 1.0; older tuning examples still use the old one.
        values["objective"] = "reg:squarederror"
    objective = str(values.get("objective", "reg:squarederror"))
    if objective.startswith("multi:") and "num_class" not in values:
        raise HyperparameterError(f"objective {objective!r} needs 'num_class' (the number of classes)")
    if "num_class" in values and not objective.startswith("multi:"):
        raise HyperparameterError(f"'num_class' is only for multi:softmax/multi:softprob, not {objective!r}")

    metrics = _eval_metrics(str(raw.get("eval_metric", "")))
    tuning_objective = raw.get(TUNING_OBJECTIVE)
    if tuning_objective:
        channel, _, metric = str(tuning_objective).partition(":")
        if not channel or not metric:
            raise HyperparameterError(
                f"{TUNING_OBJECTIVE} must look like 'validation:auc', got {tuning_objective!r}"
            )
        _eval_metrics(metric)
        # Early stopping watches the last metric, so the tuning objective goes last.
        metrics = (*(m for m in metrics if m != metric), metric)
    params = {k: v for k, v in values.items() if k not in _NOT_XGBOOST_PARAMS}
    early = values.get("early_stopping_rounds")
    return Hyperparameters(
        num_round=int(values["num_round"]),
        params=params,
        eval_metrics=metrics,
        early_stopping_rounds=None if early is None else int(early),
        tuning_objective=str(tuning_objective) if tuning_objective else None,
    )
