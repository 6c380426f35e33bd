"""An XGBoost training script for SageMaker's XGBoost container (script mode).

Training: reads the `train` and `validation` channels (SM_CHANNEL_TRAIN, SM_CHANNEL_VALIDATION: CSV files,
label first, no header, as `mlstack data prepare` writes them), trains with early stopping and XGBoost's
own evaluation log, one line per round:

    [12]	train-auc:0.93210	validation-auc:0.91234

then one line with the best round's score, so that the last match of a metric's regex is the model that
was saved, and saves the model to SM_MODEL_DIR as `xgboost-model`.

Serving: the container imports this file and calls model_fn; its default input_fn (CSV rows to a
DMatrix), predict_fn (the booster's predictions: probabilities for a classifier) and output_fn (one CSV
line per row) give what the pipeline's evaluation reads.

    mlstack run --dataset s3://<data-bucket>/datasets/bank/ --entry-point examples/xgboost/train.py \\
      --framework xgboost \\
      --tuning-ranges '{"eta": {"min": 0.05, "max": 0.5, "scaling": "Logarithmic"},
                        "max_depth": {"min": 2, "max": 8}}' \\
      --metric 'validation:auc=validation-auc:([0-9.]+)' --objective validation:auc
"""

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

MODEL_FILE = "xgboost-model"
MAX_CLASSES = 50  # more distinct whole-number labels than this: a regression target
# What each task optimizes and reports (the name after `validation-` in the log).
TASKS = {
    "binary": ("binary:logistic", "auc"),
    "multiclass": ("multi:softprob", "mlogloss"),
    "regression": ("reg:squarederror", "rmse"),
}


def parse_args(argv=None):
    """Hyperparameters as arguments (SageMaker passes every one as --name value), paths from SM_*."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--eta", type=float, default=0.3)
    parser.add_argument("--max_depth", type=int, default=6)
    parser.add_argument("--min_child_weight", type=float, default=1.0)
    parser.add_argument("--subsample", type=float, default=1.0)
    parser.add_argument("--num_round", type=int, default=200)
    parser.add_argument("--early_stopping_rounds", type=int, default=10)
    parser.add_argument("--task", choices=("auto", *TASKS), default="auto")
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "train"))
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION", "validation"))
    return parser.parse_args(argv)


def read_channel(directory):
    """A DMatrix of every CSV file in a channel directory (label first), and its labels."""
    files = sorted(p for p in Path(directory).rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise FileNotFoundError(f"no data files in {directory}")
    frame = pd.concat([pd.read_csv(f, header=None) for f in files], ignore_index=True)
    labels = frame.iloc[:, 0].to_numpy()
    return xgb.DMatrix(frame.iloc[:, 1:].to_numpy(dtype=np.float32), label=labels), labels


def task_of(labels, asked):
    if asked != "auto":
        return asked
    classes = np.unique(labels)
    if np.all(np.mod(classes, 1) == 0) and len(classes) <= MAX_CLASSES:
        return "binary" if len(classes) == 2 else "multiclass"
    return "regression"


def train(args):
    train_set, labels = read_channel(args.train)
    validation_set, _ = read_channel(args.validation)
    task = task_of(labels, args.task)
    objective, metric = TASKS[task]
    params = {
        "objective": objective,
        "eval_metric": metric,
        "eta": args.eta,
        "max_depth": args.max_depth,
        "min_child_weight": args.min_child_weight,
        "subsample": args.subsample,
        "tree_method": "hist",
        "seed": 0,
    }
    if task == "multiclass":
        params["num_class"] = int(labels.max()) + 1
    booster = xgb.train(
        params,
        train_set,
        num_boost_round=args.num_round,
        evals=[(train_set, "train"), (validation_set, "validation")],
        early_stopping_rounds=args.early_stopping_rounds,
        verbose_eval=True,
    )
    print(f"best round {booster.best_iteration}\tvalidation-{metric}:{booster.best_score:.6f}", flush=True)
    Path(args.model_dir).mkdir(parents=True, exist_ok=True)
    booster[: booster.best_iteration + 1].save_model(str(Path(args.model_dir) / MODEL_FILE))


# --- serving: the container calls this; its defaults do the rest --------------------------------------


def model_fn(model_dir):
    booster = xgb.Booster()
    booster.load_model(str(Path(model_dir) / MODEL_FILE))
    return booster


if __name__ == "__main__":
    train(parse_args())
