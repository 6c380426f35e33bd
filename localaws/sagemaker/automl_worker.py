"""The AutoML search process: AutoGluon-Tabular (Autopilot's ENSEMBLING engine) on a CSV with a header.

Run as `python -m localaws.sagemaker.automl_worker SPEC.json OUT_DIR`. Prints `STAGE <status>`
lines for the parent; writes OUT_DIR/result.json and one deployable predictor per candidate under
OUT_DIR/candidates/<model>/ (with the serve.py manifest).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

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


def stage(name: str) -> None:
    print(f"STAGE {name}", flush=True)


def hyperparameters(max_candidates: int) -> dict[str, list[dict[str, Any]]]:
    # One candidate is the weighted ensemble, the rest are base models.
    chosen = FAMILIES[: max(1, max_candidates - 1)]
    out: dict[str, list[dict[str, Any]]] = {}
    for family, config in chosen:
        out.setdefault(family, []).append(config)
    return out


def main(spec_path: str, out_dir: str) -> int:
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
    )
    fit_args: dict[str, Any] = {}
    if spec.get("max_time_per_model_s"):
        fit_args["ag_args_fit"] = {"max_time_limit": float(spec["max_time_per_model_s"])}
    predictor.fit(
        train,
        tuning_data=valid,
        time_limit=float(spec["time_limit_s"]),
        hyperparameters=hyperparameters(int(spec["max_candidates"])),
        fit_weighted_ensemble=int(spec["max_candidates"]) > 1,
        num_cpus=int(spec.get("num_cpus", 1)),
        **fit_args,
    )
    board = predictor.leaderboard(valid, silent=True)
    features = [c for c in train.columns if c != target]
    labels = [str(c) for c in predictor.class_labels] if problem != "regression" else []
    candidates = []
    for _, row in board.iterrows():
        name = str(row["model"])
        dest = out / "candidates" / name
        predictor.clone_for_deployment(str(dest / "predictor"), model=name)
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
        candidates.append(
            {
                "model": name,
                "value": float(scorer.convert_score_to_original(float(row["score_test"]))),
                "fit_time_s": float(row.get("fit_time", 0.0) or 0.0),
                "predict_time_s": float(row.get("pred_time_test", 0.0) or 0.0),
            }
        )
    result = {
        "problem_type": problem,
        "objective": objective,
        "minimize": not scorer.greater_is_better_internal,
        "feature_columns": features,
        "labels": labels,
        "candidates": candidates,
        "rows": {"train": len(train), "validation": len(valid)},
    }
    (out / "result.json").write_text(json.dumps(result))
    stage("Completed")
    return 0


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
