"""Serve an `xgboost-model` with built-in XGBoost's text/csv inference contract.

Request: CSV rows of features (no label, no header; an empty field is a missing value).
Response: one line per row - the positive-class probability (binary:logistic), comma-separated
class probabilities (multi:softprob), the class index (multi:softmax) or the value (regression).
"""

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from training.errors import InferenceError, UnsupportedContentTypeError
from training.train import MODEL_FILE

CONTENT_TYPES = ("text/csv",)


@dataclass(frozen=True)
class Model:
    """A loaded booster and what the response format depends on."""

    booster: xgb.Booster
    objective: str
    num_features: int
    iteration_range: tuple[int, int]


def load_model(model_dir: Path | str) -> Model:
    """Load `<model_dir>/xgboost-model` (JSON or UBJSON, detected from the content)."""
    path = Path(model_dir) / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {MODEL_FILE} in {model_dir}")
    booster = xgb.Booster()
    # Loading from memory lets XGBoost detect the format without the file-name guess it warns about.
    booster.load_model(bytearray(path.read_bytes()))
    config = json.loads(booster.save_config())
    best = booster.attr("best_iteration")
    # A model saved whole after early stopping should still serve its best round, as SageMaker's does.
    iteration_range = (0, int(best) + 1) if best is not None else (0, 0)
    return Model(booster, config["learner"]["objective"]["name"], booster.num_features(), iteration_range)


def _parse_csv(body: bytes, num_features: int) -> np.ndarray:
    text = body.decode("utf-8").strip()
    if not text:
        raise InferenceError("the request body is empty; send CSV rows of features")
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=np.float32)
    except ValueError as exc:
        raise InferenceError(f"the request body is not numeric CSV without a header: {exc}") from None
    width = frame.shape[1]
    if width != num_features:
        hint = " - drop the label column" if width == num_features + 1 else ""
        raise InferenceError(f"each row needs {num_features} features, got {width}{hint}")
    features: np.ndarray = frame.to_numpy()
    return features


def _format(predictions: np.ndarray) -> bytes:
    if predictions.ndim == 1:
        lines = [format(float(v), ".9g") for v in predictions]
    else:
        lines = [",".join(format(float(v), ".9g") for v in row) for row in predictions]
    return ("\n".join(lines) + "\n").encode("utf-8")


def predict(model: Model, body: bytes, content_type: str = "text/csv") -> bytes:
    """Score a request body; the response is text/csv with one line per input row."""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime not in CONTENT_TYPES:
        raise UnsupportedContentTypeError(
            f"content type {content_type!r} is not supported; send {', '.join(CONTENT_TYPES)}"
        )
    features = _parse_csv(body, model.num_features)
    predictions = model.booster.predict(xgb.DMatrix(features), iteration_range=model.iteration_range)
    return _format(np.asarray(predictions))
