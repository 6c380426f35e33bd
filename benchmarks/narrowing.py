"""Tuning in rounds: one 40-trial run against two 20-trial rounds (wide, then narrowed and warm-started).

Both run in-process what a local tuning job runs: its sampler (localaws.sagemaker.tuning.make_study, Bayesian,
seeded), its warm start (tuning.seed_study: the first round's trials within the narrowed ranges), the
narrowing of `mlstack run --narrow-from` (mlstack.narrowing.narrow), and training/train.py's train() on the
synthetic bank set. The pipeline around a tuning job does not change which trials run, so it is left out.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna

from localaws.sagemaker.tuning import make_study, search_space, seed_study
from mlstack.narrowing import narrow
from training.channels import read_channel
from training.hyperparameters import parse_hyperparameters
from training.prepare_data import prepare
from training.train import train
from training.tuning_ranges import (
    WIDE_RANGES,
    ParameterRange,
    parameter_ranges,
    static_hyperparameters,
    tuning_objective,
)

BUDGET = 40
SEEDS = (1, 2, 3, 4, 5)
ROWS = 6000
Trial = tuple[dict[str, str], float]  # tuned hyperparameters as SageMaker passes them, validation AUC


def _round(
    name: str,
    ranges: Sequence[ParameterRange],
    seed: int,
    trials: int,
    data: Any,
    prior: Sequence[Trial] = (),
) -> list[Trial]:
    """One tuning job's trials, started from `prior` as a warm start starts from its parents'."""
    config = {
        "Strategy": "Bayesian",
        "RandomSeed": seed,
        "HyperParameterTuningJobObjective": tuning_objective("binary"),
        "ResourceLimits": {"MaxNumberOfTrainingJobs": trials, "MaxParallelTrainingJobs": 1},
        "ParameterRanges": parameter_ranges(ranges),
    }
    study, space = make_study(name, config), search_space(config)
    reverse = {r.name for r in ranges if r.scaling == "ReverseLogarithmic"}
    seed_study(study, space, reverse, list(prior))
    static = static_hyperparameters("binary")
    out: list[Trial] = []
    for _ in range(trials):
        trial = study.ask(space)
        tuned = {k: str(1 - v if k in reverse else v) for k, v in trial.params.items()}
        hyperparameters = parse_hyperparameters({**static, **tuned, "nthread": "2"})
        auc = train(
            data["train"], data["validation"], hyperparameters, emit=lambda _line: None
        ).final_metrics["validation:auc"]
        study.tell(trial, auc)
        out.append((tuned, auc))
    return out


def _best(trials: Sequence[Trial]) -> float:
    return max(auc for _, auc in trials)


def measure() -> dict[str, Any]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    per_seed: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        prepare("bank", out_dir=Path(tmp), rows=ROWS, seed=42)
        data = {name: read_channel(Path(tmp) / name, name) for name in ("train", "validation")}
        for seed in SEEDS:
            single = _round(f"bench-single-{seed}", WIDE_RANGES, seed, BUDGET, data)
            first = _round(f"bench-round1-{seed}", WIDE_RANGES, seed, BUDGET // 2, data)
            board = [{"objective": auc, "hyperparameters": tuned} for tuned, auc in first]
            narrowed = [s.new for s in narrow(WIDE_RANGES, board, maximize=True)]
            second = _round(f"bench-round2-{seed}", narrowed, seed, BUDGET // 2, data, prior=first)
            per_seed.append(
                {
                    "seed": seed,
                    "single_run_auc": round(_best(single), 5),
                    "round1_auc": round(_best(first), 5),
                    "two_rounds_auc": round(max(_best(first), _best(second)), 5),
                    "narrowed": {r.name: [r.min_value, r.max_value, r.scaling] for r in narrowed},
                }
            )
    return {
        "single_run_auc": statistics.median(s["single_run_auc"] for s in per_seed),
        "narrowing_two_rounds_auc": statistics.median(s["two_rounds_auc"] for s in per_seed),
        "narrowing_round1_auc": statistics.median(s["round1_auc"] for s in per_seed),
        "narrowing_budget": BUDGET,
        "narrowing_rows": ROWS,
        "narrowing_per_seed": per_seed,
    }
