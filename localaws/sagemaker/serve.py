"""One production variant's model server: the SageMaker inference contract (GET /ping, POST /invocations).

Run as `python -m localaws.sagemaker.serve --model-dir DIR [--image URI]`; prints
`MLSTACK_SERVING <port>` once the model is loaded and the port is bound on 127.0.0.1. It serves built-in
XGBoost, an Autopilot candidate, or a script in a framework's container (SAGEMAKER_PROGRAM set).
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import threading
import time
import warnings
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from contracts import script_mode
from training.container import Paths

MANIFEST = "mlstack-model.json"
READY_LINE = "MLSTACK_SERVING"
INFERENCE_KEYS = ("predicted_label", "probability", "probabilities", "labels")


class ModelInputError(ValueError):
    """The request cannot be scored (a client error, answered with 400)."""


class XGBoostModel:
    """Built-in XGBoost semantics through training/inference.py."""

    def __init__(self, model_dir: Path) -> None:
        from training import inference

        self._inference = inference
        self._model = inference.load_model(str(model_dir))

    def predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        try:
            out = self._inference.predict(self._model, body, content_type)
        except (ValueError, TypeError, KeyError) as err:
            raise ModelInputError(str(err)) from err
        return bytes(out), "text/csv; charset=utf-8"


class AutoGluonModel:
    """An Autopilot-style ensembling candidate: an AutoGluon predictor pinned to one model."""

    def __init__(self, model_dir: Path, manifest: dict[str, Any]) -> None:
        warnings.filterwarnings("ignore")
        from autogluon.tabular import TabularPredictor

        self.manifest = manifest
        self.predictor = TabularPredictor.load(
            str(model_dir / manifest["predictor_dir"]), require_py_version_match=False, verbosity=0
        )
        self.model_name = manifest["model"]
        self.features: list[str] = list(manifest["feature_columns"])
        self.classification = manifest["problem_type"] in ("binary", "multiclass")
        wanted = os.environ.get("SAGEMAKER_INFERENCE_OUTPUT", "predicted_label")
        self.keys = [k.strip() for k in wanted.split(",") if k.strip()]
        unknown = [k for k in self.keys if k not in INFERENCE_KEYS]
        if unknown:
            raise SystemExit(
                f"SAGEMAKER_INFERENCE_OUTPUT has unknown keys {unknown}; known: {INFERENCE_KEYS}"
            )
        if not self.classification:
            self.keys = ["predicted_label"]

    def _frame(self, body: bytes, content_type: str) -> Any:
        import pandas as pd

        if not content_type.startswith("text/csv"):
            raise ModelInputError(f"Content type {content_type} is not supported; send text/csv.")
        text = body.decode("utf-8").strip()
        if not text:
            raise ModelInputError("The request body is empty.")
        try:
            frame = pd.read_csv(io.StringIO(text), header=None)
        except Exception as err:
            raise ModelInputError(f"Could not parse the CSV payload: {err}") from err
        if frame.shape[1] != len(self.features):
            raise ModelInputError(
                f"Expected {len(self.features)} columns (the training features without the target, "
                f"no header), got {frame.shape[1]}."
            )
        frame.columns = self.features
        return frame

    def predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        frame = self._frame(body, content_type)
        labels = self.predictor.predict(frame, model=self.model_name).tolist()
        rows: list[dict[str, Any]] = [{"predicted_label": label} for label in labels]
        if self.classification and set(self.keys) - {"predicted_label"}:
            proba = self.predictor.predict_proba(frame, model=self.model_name)
            classes = [str(c) for c in proba.columns]
            for row, (_, probs), label in zip(rows, proba.iterrows(), labels, strict=True):
                row["probability"] = float(probs[label])
                row["probabilities"] = [float(p) for p in probs.tolist()]
                row["labels"] = classes
        if accept.startswith("application/json"):
            payload = {"predictions": [{k: r[k] for k in self.keys if k in r} for r in rows]}
            return json.dumps(payload, default=_json_default).encode(), "application/json"
        lines = []
        for r in rows:
            cells = []
            for key in self.keys:
                value = r.get(key)
                cells.append(f'"{json.dumps(value)}"' if isinstance(value, list) else str(value))
            lines.append(",".join(cells))
        return ("\n".join(lines) + "\n").encode(), "text/csv; charset=utf-8"


def _json_default(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


# --- a script in a framework's serving container ---------------------------------------------------
_CSV, _JSON, _NPY = "text/csv", "application/json", "application/x-npy"


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _text(body: str | bytes) -> str:
    return body.decode("utf-8") if isinstance(body, bytes) else body


def _decode_array(body: str | bytes, content_type: str) -> Any:
    """The toolkit's decoder: CSV (numpy's genfromtxt: one row is a 1-D array), JSON or NPY to an array."""
    import numpy as np

    media = _media(content_type)
    if media == _CSV:
        return np.genfromtxt(io.StringIO(_text(body)), delimiter=",")
    if media == _JSON:
        return np.array(json.loads(body))
    if media == _NPY and isinstance(body, bytes):
        return np.load(io.BytesIO(body), allow_pickle=True)
    raise ModelInputError(f"Content type {content_type} is not supported by this framework.")


def _encode_array(prediction: Any, accept: str) -> bytes:
    """The toolkit's encoder: CSV (numpy's savetxt, one line per row), JSON (a list) or NPY."""
    import numpy as np

    media = _media(accept)
    if media == _CSV:
        stream = io.StringIO()
        np.savetxt(stream, prediction, delimiter=",", fmt="%s")
        return stream.getvalue().encode()
    if media == _JSON:
        return json.dumps(
            prediction, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)
        ).encode()
    if media == _NPY:
        buffer = io.BytesIO()
        np.save(buffer, prediction)
        return buffer.getvalue()
    raise ModelInputError(
        f"Accept {accept} is not supported by this framework; ask for text/csv or application/json."
    )


def _sklearn_input(body: str | bytes, content_type: str) -> Any:
    import numpy as np

    array = _decode_array(body, content_type)
    return array.astype(np.float32) if _media(content_type) in (_CSV, _JSON) else array


def _xgboost_input(body: str | bytes, content_type: str) -> Any:
    """The XGBoost container's decoder: CSV rows (an empty field is missing) to a DMatrix."""
    import numpy as np
    import xgboost as xgb

    if _media(content_type) != _CSV:
        raise ModelInputError(
            f"Content type {content_type} is not supported by this framework; send text/csv."
        )
    lines = _text(body).strip().split("\n")
    rows = [["nan" if cell == "" else cell for cell in line.split(",")] for line in lines]
    return xgb.DMatrix(np.array(rows).astype(float))


class ScriptModel:
    """A framework container serving a script (scikit-learn or XGBoost script mode): it imports the
    entry point from SAGEMAKER_SUBMIT_DIRECTORY and calls its model_fn once, then per request its
    input_fn, predict_fn and output_fn (or its transform_fn), the framework's defaults where absent."""

    def __init__(self, model_dir: Path, image: str, env: dict[str, str]) -> None:
        program = env.get(script_mode.SERVING_PROGRAM, "")
        code_dir = Paths(model_dir.parent).local(env.get(script_mode.SERVING_SUBMIT_DIRECTORY, ""))
        if not (code_dir / program).is_file():
            raise SystemExit(f"{script_mode.SERVING_PROGRAM} {program}: no such file in {code_dir}")
        from localaws.sagemaker.script_mode import isolate

        isolate(code_dir)
        module = importlib.import_module(program.removesuffix(".py").replace("/", "."))
        xgboost = "sagemaker-xgboost" in image
        model_fn = getattr(module, "model_fn", None)
        if model_fn is None:  # neither framework has a default: the toolkit's words
            raise SystemExit(
                f"Please provide a model_fn implementation in {program}: the container calls "
                "model_fn(model_dir) to load the model. See documentation for model_fn at "
                "https://github.com/aws/sagemaker-python-sdk"
            )
        self.transform_fn: Callable[..., Any] | None = getattr(module, "transform_fn", None)
        handlers = [getattr(module, name, None) for name in ("input_fn", "predict_fn", "output_fn")]
        if self.transform_fn is not None and any(handlers):
            raise SystemExit(
                "Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn"
            )
        self.input_fn: Callable[..., Any] = handlers[0] or (_xgboost_input if xgboost else _sklearn_input)
        self.predict_fn: Callable[..., Any] = handlers[1] or (
            (lambda data, model: model.predict(data, validate_features=False))
            if xgboost
            else (lambda data, model: model.predict(data))
        )
        self.output_fn: Callable[..., Any] = handlers[2] or _encode_array
        self.default_accept = env.get(script_mode.DEFAULT_ACCEPT_ENV, _JSON)
        self.model = model_fn(str(model_dir))

    def predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        if not accept or accept == "*/*":
            accept = self.default_accept
        # The toolkit hands text content types to the script as str, anything else as bytes.
        data: str | bytes = body.decode("utf-8") if _media(content_type) in (_CSV, _JSON) else body
        if self.transform_fn is not None:
            result = self.transform_fn(self.model, data, content_type, accept)
        else:
            result = self.output_fn(self.predict_fn(self.input_fn(data, content_type), self.model), accept)
        if isinstance(result, tuple) and len(result) == 2:  # (data, content type), as the toolkit allows
            result, accept = result
        return (result.encode() if isinstance(result, str) else bytes(result)), accept


# The framework containers that run a script when SAGEMAKER_PROGRAM names one (Autopilot's set it too).
FRAMEWORK_IMAGES = ("sagemaker-scikit-learn", "sagemaker-xgboost")


def load(model_dir: Path, image: str) -> XGBoostModel | AutoGluonModel | ScriptModel:
    manifest_path = model_dir / MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("kind") == "autogluon":
            return AutoGluonModel(model_dir, manifest)
    if os.environ.get(script_mode.SERVING_PROGRAM) and any(mark in image for mark in FRAMEWORK_IMAGES):
        return ScriptModel(model_dir, image, dict(os.environ))
    if "sagemaker-xgboost" in image or (model_dir / "xgboost-model").exists():
        return XGBoostModel(model_dir)
    raise SystemExit(f"No servable model in {model_dir} for image {image!r}")


def _handler(model: XGBoostModel | AutoGluonModel | ScriptModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the parent keeps stdout for itself
            return

        def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/ping":
                self._reply(200, b"")
            else:
                self._reply(404, b"not found")

        def do_POST(self) -> None:
            if self.path != "/invocations":
                self._reply(404, b"not found")
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            content_type = self.headers.get("Content-Type") or "text/csv"
            accept = self.headers.get("Accept") or "*/*"
            try:
                out, out_type = model.predict(body, content_type, accept)
            except ModelInputError as err:
                self._reply(400, str(err).encode())
                return
            except Exception as err:
                self._reply(500, f"{type(err).__name__}: {err}".encode())
                return
            self._reply(200, out, out_type)

    return Handler


def _exit_with_parent(parent: int) -> None:
    # No orphan ever: when the local AWS dies without cleaning up, its servers follow.
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(1.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--image", default="")
    args = parser.parse_args(argv)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    model = load(args.model_dir, args.image)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(model))
    print(f"{READY_LINE} {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
