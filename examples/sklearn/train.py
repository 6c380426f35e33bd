"""A scikit-learn training script for SageMaker's scikit-learn container (script mode).

Training: reads the `train` and `validation` channels (SM_CHANNEL_TRAIN, SM_CHANNEL_VALIDATION: CSV files,
label first, no header, as `mlstack data prepare` writes them), fits a histogram gradient-boosting model
with the hyperparameters it is given as arguments, prints the validation score on a line such as

    validation:auc=0.912345

(binary: auc; multiclass: mlogloss; regression: rmse) and saves the model to SM_MODEL_DIR.

Serving: the container imports this file and calls model_fn, then input_fn (CSV rows to a 2-D float
array), predict_fn (probabilities for a classifier: what the pipeline's evaluation reads) and the
container's default output_fn (one CSV line per row).

    mlstack run --dataset s3://<data-bucket>/datasets/bank/ --entry-point examples/sklearn/train.py \\
      --tuning-ranges '{"learning_rate": {"min": 0.01, "max": 0.3, "scaling": "Logarithmic"},
                        "max_leaf_nodes": {"min": 8, "max": 64}}' \\
      --metric 'validation:auc=validation:auc=([0-9.eE+-]+)' --objective validation:auc
"""

import argparse
import io
import os
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score

MODEL_FILE = "model.joblib"
MAX_CLASSES = 50  # more distinct whole-number labels than this: a regression target


def parse_args(argv=None):
    """Hyperparameters as arguments (SageMaker passes every one as --name value), paths from SM_*."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--max_iter", type=int, default=100)
    parser.add_argument("--max_leaf_nodes", type=int, default=31)
    parser.add_argument("--min_samples_leaf", type=int, default=20)
    parser.add_argument("--l2_regularization", type=float, default=0.0)
    parser.add_argument("--task", choices=("auto", "binary", "multiclass", "regression"), default="auto")
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "train"))
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION", "validation"))
    return parser.parse_args(argv)


def read_channel(directory):
    """Features and labels of every CSV file in a channel directory."""
    files = sorted(p for p in Path(directory).rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise FileNotFoundError(f"no data files in {directory}")
    frame = pd.concat([pd.read_csv(f, header=None) for f in files], ignore_index=True)
    return frame.iloc[:, 1:].to_numpy(dtype=np.float32), frame.iloc[:, 0].to_numpy()


def task_of(labels, asked):
    if asked != "auto":
        return asked
    classes = np.unique(labels)
    if np.all(np.mod(classes, 1) == 0) and len(classes) <= MAX_CLASSES:
        return "binary" if len(classes) == 2 else "multiclass"
    return "regression"


def train(args):
    x_train, y_train = read_channel(args.train)
    x_valid, y_valid = read_channel(args.validation)
    task = task_of(y_train, args.task)
    params = {
        "learning_rate": args.learning_rate,
        "max_iter": args.max_iter,
        "max_leaf_nodes": args.max_leaf_nodes,
        "min_samples_leaf": args.min_samples_leaf,
        "l2_regularization": args.l2_regularization,
        "random_state": 0,
    }
    if task == "regression":
        model = HistGradientBoostingRegressor(**params).fit(x_train, y_train)
        rmse = float(np.sqrt(mean_squared_error(y_valid, model.predict(x_valid))))
        print(f"validation:rmse={rmse:.6f}")
    else:
        model = HistGradientBoostingClassifier(**params).fit(x_train, y_train.astype(int))
        proba = model.predict_proba(x_valid)
        if task == "binary":
            print(f"validation:auc={roc_auc_score(y_valid.astype(int), proba[:, 1]):.6f}")
        else:
            loss = log_loss(y_valid.astype(int), proba, labels=model.classes_)
            print(f"validation:mlogloss={loss:.6f}")
    Path(args.model_dir).mkdir(parents=True, exist_ok=True)
    joblib.dump(model, Path(args.model_dir) / MODEL_FILE)


# --- serving: the container calls these ----------------------------------------------------------


def model_fn(model_dir):
    return joblib.load(Path(model_dir) / MODEL_FILE)


def input_fn(body, content_type):
    """CSV rows (an empty field is missing) to a 2-D array: the default makes a single row 1-D."""
    if content_type.split(";")[0].strip() != "text/csv":
        raise ValueError(f"send text/csv, not {content_type}")
    text = body.decode() if isinstance(body, bytes) else body
    return np.genfromtxt(io.StringIO(text), delimiter=",", ndmin=2, dtype=np.float32)


def predict_fn(data, model):
    """Binary: P(class 1); multiclass: a probability per class; regression: the value."""
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(data)
        return proba[:, 1] if proba.shape[1] == 2 else proba
    return model.predict(data)


if __name__ == "__main__":
    train(parse_args())
