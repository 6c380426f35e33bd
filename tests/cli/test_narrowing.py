"""Narrowing ranges from trials: where the best lie, widened; no signal left wide; integers integral."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from mlstack.narrowing import NarrowingError, as_tuning_ranges, narrow
from training.tuning_ranges import DEFAULT_RANGES, ParameterRange, validate_ranges

RANGES = {r.name: r for r in DEFAULT_RANGES}


def trials(count: int, seed: int = 7, best_eta: float = 0.1) -> list[dict[str, Any]]:
    """Random trials over the default ranges whose AUC peaks at eta = best_eta and max_depth 4-5, and
    does not depend on subsample at all."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        eta = math.exp(rng.uniform(math.log(0.01), math.log(0.5)))
        depth = int(rng.integers(3, 11))
        subsample = rng.uniform(0.5, 1.0)
        auc = 0.9 - 0.05 * math.log(eta / best_eta) ** 2 - 0.006 * (depth - 4.5) ** 2 + rng.normal(0, 0.0005)
        hyperparameters = {"eta": repr(eta), "max_depth": str(depth), "subsample": repr(subsample)}
        out.append({"name": f"t{len(out)}", "objective": auc, "hyperparameters": hyperparameters})
    return out


def by_name(suggestions: list[Any]) -> dict[str, Any]:
    return {s.new.name: s for s in suggestions}


def test_the_ranges_close_in_on_the_best_trials_and_leave_noise_wide() -> None:
    # Given 40 trials whose objective depends on eta and max_depth only
    chosen = [RANGES["eta"], RANGES["max_depth"], RANGES["subsample"]]
    # When the ranges are narrowed
    suggested = by_name(narrow(chosen, trials(40), maximize=True))
    # Then eta closes in around 0.1, still on a log scale where it spans an order of magnitude
    eta = suggested["eta"].new
    assert 0.01 < eta.min_value < 0.1 < eta.max_value < 0.5
    assert math.log(eta.max_value / eta.min_value) < 0.6 * math.log(0.5 / 0.01)  # on its log scale
    assert eta.scaling == ("Logarithmic" if eta.max_value / eta.min_value >= 10 else "Linear")
    assert "the best 10 of 40 trials lie in" in suggested["eta"].why
    # And max_depth keeps whole bounds around 4-5
    depth = suggested["max_depth"].new
    assert depth.integer and depth.min_value.is_integer() and depth.max_value.is_integer()
    assert depth.min_value <= 4 and 5 <= depth.max_value < 10
    # And subsample, which did not matter, is left as it was, saying so
    assert suggested["subsample"].new == RANGES["subsample"]
    assert "no signal, left as it was" in suggested["subsample"].why
    validate_ranges(s.new for s in suggested.values())


def test_best_trials_crowding_at_an_edge_push_the_range_past_it() -> None:
    # Given trials whose best eta lies below the run's lowest eta
    suggested = by_name(narrow([RANGES["eta"]], trials(40, best_eta=0.005), maximize=True))
    # Then the new range reaches below the old minimum (still above 0, as XGBoost needs)
    new = suggested["eta"].new
    assert 0 < new.min_value < RANGES["eta"].min_value
    assert "past the old range below, where the best trials crowd" in suggested["eta"].why


def test_minimizing_takes_the_lowest_objectives_as_the_best() -> None:
    flipped = [{**t, "objective": -t["objective"]} for t in trials(40)]
    assert (
        by_name(narrow([RANGES["eta"]], flipped, maximize=False))["eta"].new
        == by_name(narrow([RANGES["eta"]], trials(40), maximize=True))["eta"].new
    )


def test_a_reverse_log_range_stays_below_one() -> None:
    item = ParameterRange("subsample", 0.5, 0.999, "ReverseLogarithmic")
    rng = np.random.default_rng(3)
    values = 1 - np.exp(rng.uniform(math.log(0.001), math.log(0.5), size=30))
    board = [
        {"objective": -abs(math.log(1 - v) - math.log(0.01)), "hyperparameters": {"subsample": repr(v)}}
        for v in values
    ]
    new = by_name(narrow([item], board, maximize=True))["subsample"].new
    assert 0.5 <= new.min_value < 0.99 < new.max_value < 1
    new.validate()


def test_too_few_trials_cannot_narrow() -> None:
    with pytest.raises(NarrowingError, match="3 trial\\(s\\) have an objective; narrowing needs at least 4"):
        narrow(DEFAULT_RANGES, [*trials(3), {"objective": None, "hyperparameters": {}}], maximize=True)


def test_the_suggestion_reads_as_tuning_ranges_input() -> None:
    # Given suggestions for every default range, by name they keep the run's hyperparameters
    suggested = narrow(DEFAULT_RANGES, trials(40), maximize=True)
    as_input = as_tuning_ranges(suggested, DEFAULT_RANGES)
    assert set(as_input) == {r.name for r in DEFAULT_RANGES}
    assert isinstance(as_input["max_depth"]["min"], int)
    # But for fewer ranges than the defaults, SageMaker's shape (a by-name override would add the defaults)
    partial = as_tuning_ranges(suggested[:2], DEFAULT_RANGES)
    assert set(partial) == {
        "IntegerParameterRanges",
        "ContinuousParameterRanges",
        "CategoricalParameterRanges",
    }


def _script_board(trials_: list[dict[str, Any]], script: dict[str, Any] | None) -> dict[str, Any]:
    """A script run's leaderboard: its own hyperparameters, one of them categorical."""
    ranges = {
        "ContinuousParameterRanges": [
            {"Name": "learning_rate", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"}
        ],
        "IntegerParameterRanges": [
            {"Name": "max_leaf_nodes", "MinValue": "3", "MaxValue": "11", "ScalingType": "Auto"}
        ],
        "CategoricalParameterRanges": [{"Name": "loss", "Values": ["log_loss", "exponential"]}],
    }
    static = {} if script else {"sagemaker_program": '"train.py"'}  # recorded before it named the script
    renamed = [
        {
            **t,
            "hyperparameters": {
                "learning_rate": t["hyperparameters"]["eta"],
                "max_leaf_nodes": t["hyperparameters"]["max_depth"],
                "loss": "log_loss",
            },
        }
        for t in trials_
    ]
    tuning = {"objective": {"Type": "Maximize"}, "ranges": ranges, "static_hyperparameters": static}
    return {"tuning": {**tuning, "script": script, "trials": renamed}}


@pytest.mark.parametrize("script", [{"entry_point": "train.py"}, None])
def test_a_script_runs_ranges_narrow_within_what_it_searched_and_keep_its_categorical_ones(script) -> None:
    from mlstack.commands.ranges import suggest_ranges

    # Given a script run's trials, best at the low edge of learning_rate (where XGBoost's eta could go lower)
    board = _script_board(trials(40, best_eta=0.01), script)

    # When its ranges are suggested (no AWS call: the leaderboard has them)
    narrowed = suggest_ranges(None, "run-1", board)  # type: ignore[arg-type]

    # Then each stays inside the range it searched (the script alone knows what else it takes), and the
    # categorical range is kept as it was, all in SageMaker's shape
    given = narrowed.tuning_ranges
    [rate] = given["ContinuousParameterRanges"]
    [leaves] = given["IntegerParameterRanges"]
    assert (
        rate["Name"] == "learning_rate" and 0.01 <= float(rate["MinValue"]) < float(rate["MaxValue"]) <= 0.5
    )
    assert float(rate["MaxValue"]) < 0.5  # narrowed, not left wide
    assert leaves["Name"] == "max_leaf_nodes" and 3 <= int(leaves["MinValue"]) < int(leaves["MaxValue"]) <= 11
    assert given["CategoricalParameterRanges"] == [{"Name": "loss", "Values": ["log_loss", "exponential"]}]
