"""A rare positive class, as a user's data has it: prepared, tuned with train.py, served, thresholded."""

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from handlers.evaluate.scoring import VariantResult, score_variant
from handlers.evaluate.testset import TestSet, parse_numeric
from training.datasets import imbalanced
from training.inference import load_model, predict
from training.prepare_data import prepare_dataset
from training.train import parse_args, run
from training.tuning_ranges import DEFAULT_RANGES, static_hyperparameters, tuning_objective

TRIALS = 6
RUN = {"problem_type": "binary", "classes": ["no", "yes"]}
FINALIST = {"variant": "Tuning", "kind": "tuning"}


def _sample(rng: random.Random) -> dict[str, str]:
    """One trial's tuned hyperparameters, drawn from the default ranges on their scales."""
    values = {}
    for item in DEFAULT_RANGES:
        low, high = item.min_value, item.max_value
        if item.scaling == "Logarithmic":
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            value = rng.uniform(low, high)
        values[item.name] = str(round(value)) if item.integer else f"{value:.6g}"
    return values


def _channel(root: Path, part: str) -> TestSet:
    labels, rows = parse_numeric((root / part / f"{part}.csv").read_text(), f"{part}/")
    return TestSet(labels, rows, [])


def _tune(root: Path, static: dict[str, str], work: Path) -> Path:
    """Seeded trials as the tuning job runs them; the model dir of the best by the objective."""
    rng = random.Random(7)
    metric = tuning_objective("binary")["MetricName"]
    best: tuple[float, Path] | None = None
    for trial in range(TRIALS):
        base = work / f"trial-{trial}"
        (base / "input" / "config").mkdir(parents=True)
        hyperparameters = {**static, **_sample(rng), "_tuning_objective_metric": metric}
        (base / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hyperparameters))
        env = {
            "SAGEMAKER_BASE_DIR": str(base),
            "SM_CHANNEL_TRAIN": str(root / "train"),
            "SM_CHANNEL_VALIDATION": str(root / "validation"),
        }
        objective = run(parse_args([], env)).final_metrics[metric]
        if best is None or objective > best[0]:
            best = (objective, base / "model")
    assert best is not None
    return best[1]


def _finalist(root: Path, static: dict[str, str], work: Path) -> VariantResult:
    model = load_model(_tune(root, static, work))
    return score_variant(
        lambda variant, body: predict(model, body),
        FINALIST,
        _channel(root, "test"),
        RUN,
        validation=_channel(root, "validation"),
        max_rows=500,
    )


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("imbalanced") / "dataset"
    manifest = prepare_dataset(imbalanced(seed=42), root, seed=42)
    return root, manifest


def test_the_generated_set_is_imbalanced_with_categories_and_gaps(prepared):
    _, manifest = prepared
    counts = manifest["class_counts"]["train"]
    assert manifest["classes"] == ["no", "yes"]
    assert 0.04 < counts["yes"] / (counts["no"] + counts["yes"]) < 0.07
    assert set(manifest["categories"]) == {"tier", "channel"}
    frame = imbalanced(seed=42).frame
    assert frame[["x1", "x4", "tier"]].isna().any().all()


def test_the_tuned_finalist_is_usable_at_its_chosen_threshold(prepared, tmp_path):
    # Given the prepared set and the static hyperparameters a run plans from its manifest
    root, manifest = prepared
    counts = manifest["class_counts"]["train"]
    static = static_hyperparameters("binary", train_class_counts=(counts["no"], counts["yes"]))
    assert float(static["scale_pos_weight"]) == pytest.approx(counts["no"] / counts["yes"], rel=1e-5)
    # When trials are tuned, the best served, and scored as Evaluate scores a finalist
    result = _finalist(root, static, tmp_path)
    # Then it ranks well, and at the threshold chosen on the validation set it finds positives
    metrics = result.metrics
    assert metrics is not None and metrics["auc"] > 0.8
    at = metrics["at_threshold"]
    assert at["f1"] > 0 and at["precision"] > 0 and at["recall"] > 0
    assert result.threshold_choice is not None
    assert result.threshold_choice["rows"] == manifest["rows"]["validation"]


def test_unweighted_the_reported_symptom_appears_at_half_and_the_threshold_mends_it(prepared, tmp_path):
    # Given trials without scale_pos_weight (a run on a manifest without class counts)
    root, _ = prepared
    result = _finalist(root, static_hyperparameters("binary"), tmp_path)
    metrics = result.metrics
    assert metrics is not None
    # Then at 0.5 it finds few of the positives though it ranks well, as the user saw
    assert metrics["auc"] > 0.8
    assert metrics["recall"] < 0.3
    # And at the threshold chosen on the validation set it finds more of them, and is usable
    at = metrics["at_threshold"]
    assert at["threshold"] < 0.5 and at["recall"] > metrics["recall"]
    assert at["f1"] > max(0.3, metrics["f1"])
