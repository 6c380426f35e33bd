"""Tuning objective overrides: the built-in XGBoost validation metrics that fit each problem type."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.common.errors import InvalidInput
from training.tuning_ranges import tuning_objective

# Metrics built-in XGBoost emits as `validation:<name>` that are also XGBoost eval_metric values,
# so the objective and the trial's early stopping watch the same number.
ALLOWED_OBJECTIVES: Mapping[str, Mapping[str, str]] = {
    "binary": {"auc": "Maximize", "aucpr": "Maximize", "logloss": "Minimize", "error": "Minimize"},
    "multiclass": {"mlogloss": "Minimize", "merror": "Minimize"},
    "regression": {"rmse": "Minimize", "mae": "Minimize"},
}
_PREFIX = "validation:"


def resolve_objective(problem_type: str, override: str | None) -> dict[str, str]:
    """The tuning objective {Type, MetricName}: the problem type's default or a checked override."""
    if override is None:
        return tuning_objective(problem_type)
    metric = override.removeprefix(_PREFIX)
    allowed = ALLOWED_OBJECTIVES[problem_type]
    if metric not in allowed:
        names = ", ".join(f"{_PREFIX}{m}" for m in allowed)
        raise InvalidInput(
            f"objective: {override!r} does not fit a {problem_type} problem; use one of {names}"
        )
    return {"Type": allowed[metric], "MetricName": f"{_PREFIX}{metric}"}
