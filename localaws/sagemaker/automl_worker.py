"""The AutoML search process: AutoGluon-Tabular (Autopilot's ENSEMBLING engine) on a CSV with a header.

Run as `python -m localaws.sagemaker.automl_worker SPEC.json OUT_DIR`. Prints `STAGE <status>`
lines for the parent; writes OUT_DIR/result.json and one deployable predictor per candidate under
OUT_DIR/candidates/<model>/ (with the serve.py manifest).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import logging
import os
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autogluon.core.callbacks import AbstractCallback

# Autopilot objective -> AutoGluon eval_metric.
METRICS = {
    "Accuracy": "accuracy",
    "BalancedAccuracy": "balanced_accuracy",
    "AUC": "roc_auc",
    "F1": "f1",
    "F1macro": "f1_macro",
    "Precision": "precision",
    "PrecisionMacro": "precision_macro",
    "Recall": "recall",
    "RecallMacro": "recall_macro",
    "LogLoss": "log_loss",
    "MSE": "mean_squared_error",
    "RMSE": "root_mean_squared_error",
    "MAE": "mean_absolute_error",
    "R2": "r2",
    "MAPE": "mean_absolute_percentage_error",
}
PROBLEM_TYPES = {
    "BinaryClassification": "binary",
    "MulticlassClassification": "multiclass",
    "Regression": "regression",
}
# Model families in the order candidates are added; torch-based families are never used (no torch here).
FAMILIES: list[tuple[str, dict[str, Any]]] = [
    ("GBM", {}),
    ("XGB", {}),
    ("RF", {}),
    ("XT", {}),
    ("GBM", {"extra_trees": True, "ag_args": {"name_suffix": "XT"}}),
    (
        "GBM",
        {
            "learning_rate": 0.03,
            "num_leaves": 128,
            "feature_fraction": 0.9,
            "min_data_in_leaf": 3,
            "ag_args": {"name_suffix": "Large", "priority": 0},
        },
    ),
    ("LR", {}),
    (
        "RF",
        {
            "criterion": "entropy",
            "ag_args": {"name_suffix": "Entr", "problem_types": ["binary", "multiclass"]},
        },
    ),
    (
        "XT",
        {
            "criterion": "entropy",
            "ag_args": {"name_suffix": "Entr", "problem_types": ["binary", "multiclass"]},
        },
    ),
]
# Past FAMILIES (MaxCandidates may be far larger), boosted trees over this grid, then again reseeded.
GBM_GRID = {"learning_rate": (0.05, 0.1, 0.02), "num_leaves": (15, 63, 127), "feature_fraction": (0.8, 0.6)}
XGB_GRID = {"max_depth": (4, 8, 10), "learning_rate": (0.05, 0.1, 0.02), "colsample_bytree": (0.8, 0.6)}
# Of the search's time, what the base models share equally; the rest is for the ensemble and cloning.
BASE_MODELS_SHARE = 0.9
# A candidate's feature importance is only computed with at least this much of the search's time left.
EXPLAIN_MIN_S = 0.5


def stage(name: str) -> None:
    print(f"STAGE {name}", flush=True)


def _grid(grid: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def _variants() -> Iterator[tuple[str, dict[str, Any]]]:
    """Further boosted-tree configurations, each named apart, in a fixed order (endless)."""
    number = 0
    for reseed in itertools.count():
        for gbm, xgb in zip(_grid(GBM_GRID), _grid(XGB_GRID), strict=True):
            for family, config in (("GBM", gbm), ("XGB", xgb)):
                number += 1
                seeded = {"seed": reseed} if reseed else {}
                yield family, {**config, **seeded, "ag_args": {"name_suffix": f"V{number}"}}


def base_models(max_candidates: int, problem_type: str) -> list[tuple[str, dict[str, Any]]]:
    """One model configuration per candidate but the weighted ensemble, all fit for `problem_type`."""
    wanted = max(1, max_candidates - 1)
    suited = (
        (family, config)
        for family, config in itertools.chain(FAMILIES, _variants())
        if problem_type in config.get("ag_args", {}).get("problem_types", [problem_type])
    )
    return list(itertools.islice(suited, wanted))


def hyperparameters(models: list[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """AutoGluon's `hyperparameters`: the configurations by family."""
    out: dict[str, list[dict[str, Any]]] = {}
    for family, config in models:
        out.setdefault(family, []).append(config)
    return out


def share_per_model(fit_budget_s: float, models: int, per_model_cap_s: float | None) -> float:
    """Each base model's equal part of the search's time (never above MaxRuntimePerTrainingJob)."""
    share = fit_budget_s * BASE_MODELS_SHARE / max(1, models)
    return min(share, per_model_cap_s) if per_model_cap_s else share


def main(spec_path: str, out_dir: str) -> int:
    began = time.monotonic()  # the search's budget counts from here, reading the data included
    warnings.filterwarnings("ignore")
    logging.getLogger("autogluon").setLevel(logging.ERROR)
    spec = json.loads(Path(spec_path).read_text())
    out = Path(out_dir)
    stage("AnalyzingData")
    import numpy as np
    import pandas as pd
    from autogluon.core.metrics import get_metric
    from autogluon.tabular import TabularPredictor

    _no_torch_no_gpu()

    train = pd.read_csv(spec["train_csv"])
    target = spec["target"]
    if target not in train.columns:
        fail(out, f"ClientError: The target attribute '{target}' is not a column of the dataset header.")
        return 1
    train = train.dropna(subset=[target])
    if len(train) < 10:
        fail(
            out,
            f"ClientError: The dataset has {len(train)} rows with a target value; at least 10 are needed.",
        )
        return 1
    problem = PROBLEM_TYPES.get(spec.get("problem_type") or "")
    if problem is None:
        problem = infer_problem_type(train[target])
    if spec.get("validation_csv"):
        valid = pd.read_csv(spec["validation_csv"]).dropna(subset=[target])
    else:
        rng = np.random.default_rng(spec["seed"])
        mask = rng.random(len(train)) < float(spec.get("validation_fraction", 0.2))
        valid, train = train[mask], train[~mask]
    objective = (
        spec.get("objective") or {"binary": "F1", "multiclass": "Accuracy", "regression": "MSE"}[problem]
    )
    if objective not in METRICS:
        fail(out, f"ClientError: The objective metric {objective} is not supported.")
        return 1
    scorer = get_metric(METRICS[objective], problem_type=problem)
    stage("TrainingModels")
    predictor = TabularPredictor(
        label=target,
        problem_type=problem,
        eval_metric=METRICS[objective],
        path=str(out / "predictor"),
        verbosity=0,
        learner_kwargs={"cache_data": False},  # no copy of the dataset on disk: nothing refits from it
    )
    features = [c for c in train.columns if c != target]
    rows = {"train": len(train), "validation": len(valid)}
    models = base_models(int(spec["max_candidates"]), problem)
    fit_budget = max(1.0, float(spec["time_limit_s"]) - (time.monotonic() - began))
    per_model = share_per_model(fit_budget, len(models), spec.get("max_time_per_model_s"))
    timer = FitTimer()
    predictor.fit(
        train,
        tuning_data=valid,
        time_limit=fit_budget,
        hyperparameters=hyperparameters(models),
        fit_weighted_ensemble=int(spec["max_candidates"]) > 1,
        num_cpus=int(spec.get("num_cpus", 1)),
        # Every candidate gets its share: without it the first models could use the whole budget.
        ag_args_fit={"max_time_limit": per_model},
        callbacks=[timer],
    )
    fitted = time.time()
    del train  # AutoGluon keeps what it needs: no second copy of the training rows from here on
    # Scores on the validation data it was given (tuning_data), computed during the fit.
    board = predictor.leaderboard(silent=True)
    described = describe_candidates(predictor, valid, problem, [str(m) for m in board["model"]], spec, began)
    del valid
    failures = predictor.model_failures()
    timed_out = (
        sorted(failures.loc[failures["exc_type"] == "TimeLimitExceeded", "model"]) if len(failures) else []
    )
    labels = [str(c) for c in predictor.class_labels] if problem != "regression" else []
    candidates = []
    for _, row in board.iterrows():
        name = str(row["model"])
        dest = out / "candidates" / name
        servable_copy(
            Path(predictor.path), dest / "predictor", predictor._trainer.get_minimum_model_set(name)
        )
        manifest = {
            "kind": "autogluon",
            "predictor_dir": "predictor",
            "model": name,
            "feature_columns": features,
            "target": target,
            "problem_type": problem,
            "labels": labels,
        }
        (dest / "mlstack-model.json").write_text(json.dumps(manifest))
        fit_time = float(row.get("fit_time", 0.0) or 0.0)
        ended = timer.ended.get(name, fitted)
        candidates.append(
            {
                "model": name,
                "value": float(scorer.convert_score_to_original(float(row["score_val"]))),
                "fit_time_s": fit_time,
                "predict_time_s": float(row.get("pred_time_val", 0.0) or 0.0),
                # Wall clock (epoch seconds) of its fit: the candidate's CreationTime and EndTime.
                "started_at": timer.started.get(name, ended - fit_time),
                "ended_at": ended,
                **described[name],
            }
        )
    result = {
        "problem_type": problem,
        "objective": objective,
        "minimize": not scorer.greater_is_better_internal,
        "feature_columns": features,
        "labels": labels,
        "candidates": candidates,
        "rows": rows,
        "budget": {"fit_s": fit_budget, "per_model_s": per_model, "base_models": len(models)},
        # Base models that never started or were cut for time: the runtime budget ran out.
        "ran_out_of_time": bool(timed_out) or timer.base_models_fit + len(failures) < len(models),
        "timed_out": timed_out,
    }
    (out / "result.json").write_text(json.dumps(result))
    stage("Completed")
    return 0


def describe_candidates(
    predictor: Any, valid: Any, problem: str, models: list[str], spec: dict[str, Any], began: float
) -> dict[str, dict[str, Any]]:
    """Each model's definition, validation metrics and feature importance (automl_insight).

    The importance shuffles every feature once per model: it gets what is left of the search's time,
    shared equally; a model it cannot afford gets none, saying why.
    """
    from localaws.sagemaker import automl_insight

    shared = automl_insight.job_preprocessing(predictor)
    metrics = automl_insight.validation_metrics(predictor, valid, problem)
    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(models):
        left = float(spec["time_limit_s"]) - (time.monotonic() - began)
        share = left / (len(models) - i) if left > 0 else 0.0
        entry: dict[str, Any] = {
            "definition": automl_insight.definition(predictor, name, shared),
            "validation_metrics": metrics.get(name, {}),
            "validation_rows": len(valid),
            "explainability": None,
            "explainability_note": None,
        }
        if share >= EXPLAIN_MIN_S:
            entry["explainability"] = automl_insight.explainability(
                predictor, valid, name, int(spec["seed"]), share
            )
        else:
            entry["explainability_note"] = (
                "no feature importance: the runtime budget ran out before it could be computed"
            )
        out[name] = entry
    return out


def servable_copy(predictor_dir: Path, dest: Path, models: list[str]) -> None:
    """What serving one candidate needs: the predictor's files and the directories of `models` (the
    candidate and the models it ensembles), hard-linked, so a candidate costs no copy and no time.

    AutoGluon's clone_for_deployment copies every model of the search for each candidate (~0.2 s
    each, quadratic in the candidates); a predictor loads the models it predicts with only.
    """
    keep = {"trainer.pkl", *models}

    def skipped(directory: str, names: list[str]) -> list[str]:
        if Path(directory) == predictor_dir:
            return ["utils"]  # feature-importance and data caches, never read to predict
        if Path(directory) == predictor_dir / "models":
            return [n for n in names if n not in keep]
        return []

    shutil.copytree(predictor_dir, dest, ignore=skipped, copy_function=os.link)


class FitTimer(AbstractCallback):  # type: ignore[misc]
    """Notes when each model's fit began and ended (wall clock) and how many base models were fit.

    At module level: AutoGluon pickles its callbacks with the trainer while it fits (not in the
    predictor it finally saves).
    """

    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        self.base_models_fit = 0

    def _before_model_fit(
        self,
        trainer: Any,
        model: Any,
        time_limit: float | None = None,
        stack_name: str = "core",
        level: int = 1,
    ) -> tuple[bool, bool]:
        self.started[model.name] = time.time()  # also for a model it then skips for lack of time
        return False, False

    def _after_model_fit(
        self, trainer: Any, model_names: list[str], stack_name: str = "core", level: int = 1
    ) -> bool:
        for name in model_names:
            self.ended[name] = time.time()
        if stack_name == "core":
            self.base_models_fit += len(model_names)
        return False


def _no_torch_no_gpu() -> None:
    # Without torch, AutoGluon's GPU probe logs "Failed to import torch" at ERROR level on every
    # resource check; no torch means no usable GPU, which is what the probe would conclude anyway.
    if importlib.util.find_spec("torch") is None:
        from autogluon.common.utils.resource_utils import ResourceManager

        ResourceManager.get_gpu_count_torch = staticmethod(lambda cuda_only=False: 0)


def infer_problem_type(column: Any) -> str:
    import pandas as pd

    unique = column.nunique()
    if unique == 2:
        return "binary"
    if pd.api.types.is_float_dtype(column) and unique > 20:
        return "regression"
    if pd.api.types.is_numeric_dtype(column) and unique > 50:
        return "regression"
    return "multiclass"


def fail(out: Path, reason: str) -> None:
    (out / "failure").write_text(reason)


if __name__ == "__main__":
    os.environ.setdefault("AUTOGLUON_TEXT_TRAIN_WITHOUT_GPU", "1")
    sys.exit(main(sys.argv[1], sys.argv[2]))
