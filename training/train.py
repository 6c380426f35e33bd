"""Train XGBoost with SageMaker's built-in XGBoost contract, inside a (real or fake) /opt/ml tree.

Run as `python -m training.train [--<hyperparameter> <value> ...]`. Paths follow the SageMaker
container contract (training/container.py): `SAGEMAKER_BASE_DIR` (default /opt/ml), `SM_CHANNEL_<NAME>`,
`SM_MODEL_DIR`, hyperparameters from `<base>/input/config/hyperparameters.json`, `SM_HP_<NAME>` and the
command line (later sources win). On error the reason goes to `<base>/output/failure` and the exit code is 1.
"""

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import xgboost as xgb

from training.channels import read_channel
from training.container import MODEL_DIR_ENV, Paths, base_dir, channel_env, hyperparameters_from_env
from training.errors import ChannelError, HyperparameterError
from training.hyperparameters import SPECS, Hyperparameters, parse_hyperparameters
from training.metrics import format_metric_line

MODEL_FILE = "xgboost-model"


@dataclass(frozen=True)
class TrainConfig:
    """Where to read and write, and what to train with."""

    base_dir: Path
    model_dir: Path
    train_dir: Path
    validation_dir: Path | None
    hyperparameters: Hyperparameters


@dataclass(frozen=True)
class TrainResult:
    """The model to save (cut at the best round under early stopping) and its final metrics."""

    booster: xgb.Booster
    best_round: int
    final_metrics: dict[str, float]


class _StrictParser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting, so errors reach the failure file."""

    def error(self, message: str) -> NoReturn:
        raise HyperparameterError(message)


def parse_args(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> TrainConfig:
    """Resolve paths and hyperparameters; any unknown option or hyperparameter is an error."""
    env = os.environ if env is None else env
    base = base_dir(env)
    paths = Paths(base)
    parser = _StrictParser(prog="python -m training.train", allow_abbrev=False)
    parser.add_argument(
        "--model-dir", "--model_dir", type=Path, default=Path(env.get(MODEL_DIR_ENV, paths.model_dir))
    )
    for channel in ("train", "validation"):
        default = env.get(channel_env(channel))
        parser.add_argument(f"--{channel}", type=Path, default=None if default is None else Path(default))
    for name in SPECS:
        flags = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
        parser.add_argument(*flags, dest=f"hp_{name}", metavar="VALUE")
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))

    raw = paths.read_hyperparameters()
    raw.update(hyperparameters_from_env(env))
    raw.update(
        {name: getattr(args, f"hp_{name}") for name in SPECS if getattr(args, f"hp_{name}") is not None}
    )
    hyperparameters = parse_hyperparameters(raw)

    validation = args.validation or paths.channel_dir("validation")
    # Validation is optional, as in SageMaker, unless named explicitly or needed by early stopping or tuning.
    needs_validation = (
        args.validation is not None
        or hyperparameters.early_stopping_rounds is not None
        or (hyperparameters.tuning_objective or "").startswith("validation:")
    )
    return TrainConfig(
        base_dir=base,
        model_dir=args.model_dir,
        train_dir=args.train or paths.channel_dir("train"),
        validation_dir=validation if needs_validation or validation.is_dir() else None,
        hyperparameters=hyperparameters,
    )


def print_line(line: str) -> None:
    """Print and flush at once: the local SageMaker reads stdout live and may stop a trial early."""
    print(line, flush=True)


class _MetricPrinter(xgb.callback.TrainingCallback):
    """Prints `[round] channel:metric=value` after every round."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        super().__init__()
        self._emit = emit

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        for channel, metrics in evals_log.items():
            for metric, values in metrics.items():
                value = values[-1][0] if isinstance(values[-1], tuple) else values[-1]
                self._emit(format_metric_line(epoch, f"{channel}:{metric}", float(value)))
        return False


def _check_labels(labels: np.ndarray, hyperparameters: Hyperparameters, channel: str) -> None:
    objective = hyperparameters.objective
    if objective.startswith("binary:") and not np.isin(labels, (0.0, 1.0)).all():
        raise ChannelError(f"channel {channel!r}: {objective} needs labels 0 or 1 in the first column")
    if objective.startswith("multi:"):
        num_class = hyperparameters.num_class or 0
        whole = np.mod(labels, 1) == 0
        if not (whole & (labels >= 0) & (labels < num_class)).all():
            raise ChannelError(
                f"channel {channel!r}: {objective} with num_class={num_class} needs labels 0..{num_class - 1}"
            )


def train(
    train_set: tuple[np.ndarray, np.ndarray],
    validation_set: tuple[np.ndarray, np.ndarray] | None,
    hyperparameters: Hyperparameters,
    *,
    emit: Callable[[str], None] = print_line,
) -> TrainResult:
    """Train on arrays and report metric lines through `emit`; no file or environment access."""
    _check_labels(train_set[1], hyperparameters, "train")
    evals = [(xgb.DMatrix(train_set[0], label=train_set[1]), "train")]
    if validation_set is not None:
        if validation_set[0].shape[1] != train_set[0].shape[1]:
            widths = validation_set[0].shape[1], train_set[0].shape[1]
            raise ChannelError(f"channel 'validation' has {widths[0]} features, 'train' has {widths[1]}")
        _check_labels(validation_set[1], hyperparameters, "validation")
        evals.append((xgb.DMatrix(validation_set[0], label=validation_set[1]), "validation"))
    elif hyperparameters.early_stopping_rounds is not None:
        raise ChannelError("channel 'validation' is missing: early_stopping_rounds needs it")
    # XGBoost holds its own copy now: a caller that passed the arrays without keeping them frees them here.
    del train_set, validation_set

    # SageMaker's XGBoost documents base_score 0.5 by default (XGBoost from 2.0 would estimate it from
    # the labels): the same default here, so a model trained offline is the one SageMaker would train.
    defaults = {"seed": 0, "tree_method": "hist", "base_score": 0.5}
    params: dict[str, Any] = {**defaults, **hyperparameters.params}
    if hyperparameters.eval_metrics:
        params["eval_metric"] = list(hyperparameters.eval_metrics)
    evals_log: dict[str, Any] = {}
    booster = xgb.train(
        params,
        evals[0][0],
        num_boost_round=hyperparameters.num_round,
        evals=evals,
        early_stopping_rounds=hyperparameters.early_stopping_rounds,
        evals_result=evals_log,
        verbose_eval=False,
        callbacks=[_MetricPrinter(emit)],
    )
    rounds = booster.num_boosted_rounds()
    best = booster.best_iteration if hyperparameters.early_stopping_rounds is not None else rounds - 1
    if best < rounds - 1 and str(params.get("booster", "gbtree")) != "gblinear":
        # Save what SageMaker's endpoint should serve: the trees up to the best round only.
        booster = booster[: best + 1]
    final = {}
    for channel, metrics in evals_log.items():
        for metric, values in metrics.items():
            final[f"{channel}:{metric}"] = float(values[best])
            emit(format_metric_line(None, f"{channel}:{metric}", float(values[best])))
    return TrainResult(booster, best, final)


def save_model(booster: xgb.Booster, model_dir: Path) -> Path:
    """Write `<model_dir>/xgboost-model` as XGBoost JSON (loadable by any XGBoost >= 1.0)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / MODEL_FILE
    path.write_bytes(bytes(booster.save_raw("json")))
    return path


def run(config: TrainConfig) -> TrainResult:
    """Read the channels, train, save the model (the arrays are not kept here: XGBoost copies them)."""
    result = train(
        read_channel(config.train_dir, "train"),
        None if config.validation_dir is None else read_channel(config.validation_dir, "validation"),
        config.hyperparameters,
    )
    save_model(result.booster, config.model_dir)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 on success; 1 with `<base>/output/failure` written on any error."""
    base = base_dir(os.environ)
    try:
        run(parse_args(argv))
    except (HyperparameterError, ChannelError) as exc:
        return _fail(base, f"ClientError: {exc}")
    except xgb.core.XGBoostError as exc:
        return _fail(base, f"ClientError: XGBoost rejected the job: {str(exc).strip()}")
    except Exception as exc:  # anything else is our bug, reported as SageMaker's algorithms do
        traceback.print_exc()
        return _fail(base, f"AlgorithmError: {type(exc).__name__}: {exc}")
    return 0


def _fail(base: Path, message: str) -> int:
    Paths(base).write_failure(message)
    print(message, file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
