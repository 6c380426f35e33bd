"""Shared fixtures: small prepared datasets and a fake /opt/ml tree for the training script."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from training.container import Paths
from training.datasets import load_dataset
from training.prepare_data import prepare_dataset

REPO = Path(__file__).resolve().parents[2]


def _prepared(tmp_path_factory: pytest.TempPathFactory, name: str, rows: int | None = None) -> Path:
    out = tmp_path_factory.mktemp(name) / name
    prepare_dataset(load_dataset(name, rows=rows, seed=7), out, seed=7)
    return out


@pytest.fixture(scope="session")
def bank_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic bank set, 3,000 rows, prepared."""
    return _prepared(tmp_path_factory, "bank", rows=3000)


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scikit-learn's digits (multiclass), prepared."""
    return _prepared(tmp_path_factory, "digits", rows=600)


@pytest.fixture(scope="session")
def diabetes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scikit-learn's diabetes (regression), prepared."""
    return _prepared(tmp_path_factory, "diabetes")


OptMl = Callable[..., Path]


@pytest.fixture
def opt_ml(tmp_path: Path) -> OptMl:
    """Build a fake /opt/ml: hyperparameters.json (string values) and the given channels of a dataset."""

    def build(
        dataset_dir: Path, hyperparameters: Mapping[str, str], channels=("train", "validation")
    ) -> Path:
        paths = Paths(tmp_path / "opt" / "ml")
        paths.input_config_dir.mkdir(parents=True)
        paths.hyperparameters_file.write_text(json.dumps(dict(hyperparameters)))
        for channel in channels:
            shutil.copytree(dataset_dir / channel, paths.channel_dir(channel))
        return paths.base

    return build


def _run_train(
    base: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    clean.update({"SAGEMAKER_BASE_DIR": str(base), "PYTHONPATH": str(REPO), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "training.train", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def run_train() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m training.train` in a subprocess, as SageMaker would, against a fake /opt/ml."""
    return _run_train
