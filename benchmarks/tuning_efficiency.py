"""Trials Bayesian search needs to match the best of N random trials (target: at most N/4).

Both strategies use the samplers of the local SageMaker's tuning jobs (what a user gets offline) and
train with training/train.py's `train()` on the synthetic bank set, seeded, so every figure repeats.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

import optuna

from localaws.sagemaker.tuning import make_study, search_space
from training.channels import read_channel
from training.hyperparameters import parse_hyperparameters
from training.prepare_data import prepare
from training.train import train
from training.tuning_ranges import parameter_ranges, static_hyperparameters, tuning_objective

RANDOM_TRIALS = 40
SEEDS = (1, 2, 3, 4, 5)
ROWS = 6000


def _config(strategy: str, seed: int) -> dict[str, Any]:
    return {
        "Strategy": strategy,
        "RandomSeed": seed,
        "HyperParameterTuningJobObjective": tuning_objective("binary"),
        "ResourceLimits": {"MaxNumberOfTrainingJobs": RANDOM_TRIALS, "MaxParallelTrainingJobs": 1},
        "ParameterRanges": parameter_ranges(),
    }


def _search(strategy: str, seed: int, trials: int, data: Any, stop_at: float | None = None) -> list[float]:
    """Validation AUC of each trial in order; stops early once `stop_at` is reached."""
    config = _config(strategy, seed)
    study = make_study(f"bench-{strategy.lower()}-{seed}", config)
    space = search_space(config)
    static = static_hyperparameters("binary", num_class=None)
    aucs: list[float] = []
    for _ in range(trials):
        trial = study.ask(space)
        tuned = {name: str(value) for name, value in trial.params.items()}
        hyperparameters = parse_hyperparameters({**static, **tuned, "nthread": "2"})
        result = train(data["train"], data["validation"], hyperparameters, emit=lambda _line: None)
        auc = result.final_metrics["validation:auc"]
        study.tell(trial, auc)
        aucs.append(auc)
        if stop_at is not None and auc >= stop_at:
            break
    return aucs


def measure() -> dict[str, Any]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        prepare("bank", out_dir=Path(tmp), rows=ROWS, seed=42)
        data = {name: read_channel(Path(tmp) / name, name) for name in ("train", "validation")}
        per_seed: list[dict[str, Any]] = []
        for seed in SEEDS:
            random_aucs = _search("Random", seed, RANDOM_TRIALS, data)
            target = max(random_aucs)
            bayes_aucs = _search("Bayesian", seed, RANDOM_TRIALS, data, stop_at=target)
            matched = len(bayes_aucs) if max(bayes_aucs) >= target else None
            per_seed.append(
                {
                    "seed": seed,
                    "random_best_auc": round(target, 5),
                    "bayes_trials_to_match_random": matched,
                    "bayes_best_auc_at_match_or_budget": round(max(bayes_aucs), 5),
                    "bayes_auc_after_10": round(max(bayes_aucs[:10]), 5),
                    "random_auc_after_10": round(max(random_aucs[:10]), 5),
                }
            )
    # An unmatched seed counts as needing more than the whole budget.
    trials = [s["bayes_trials_to_match_random"] or RANDOM_TRIALS + 1 for s in per_seed]
    return {
        "random_trials": RANDOM_TRIALS,
        "bayes_trials_to_match_random": statistics.median(trials),
        "bayes_best_auc": statistics.median(s["bayes_best_auc_at_match_or_budget"] for s in per_seed),
        "random_best_auc": statistics.median(s["random_best_auc"] for s in per_seed),
        "tuning_at_equal_budget_10": {
            "bayes_best_auc": statistics.median(s["bayes_auc_after_10"] for s in per_seed),
            "random_best_auc": statistics.median(s["random_auc_after_10"] for s in per_seed),
        },
        "tuning_per_seed": per_seed,
        "tuning_rows": ROWS,
    }
