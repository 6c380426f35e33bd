"""Narrower tuning ranges from a run's trials: where its best trials lie, widened by a margin (pure).

Per range: take the best `top_fraction` of the trials with an objective (at least MIN_TOP); on the range's
own scale (log for Logarithmic, or Auto over two orders of magnitude; log of 1 - x for ReverseLogarithmic)
find the span of their values. If it covers most of the old range, the parameter showed no signal and its
range stays as it was. Otherwise the span, widened by `margin` of itself on each side (at least 5% of the
old range), is the new range: past the old bound where the best trials crowd at an edge, within what
XGBoost accepts. Integers stay integral; the scale becomes Logarithmic where the new range still spans an
order of magnitude, else Linear.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.common.leaderboard import finite_number
from training.tuning_ranges import XGBOOST_LIMITS, Limit, ParameterRange, RangeError

MIN_TRIALS = 4
MIN_TOP = 3
TOP_FRACTION = 0.25
MARGIN = 0.25
# The best trials spread over at least this share of a range: it showed no signal, leave it wide.
NO_SIGNAL = 0.7
_MIN_PAD = 0.05
_LOG_RATIO = 10.0


class NarrowingError(ValueError):
    """The trials cannot narrow these ranges; the message says why and what to do."""


@dataclass(frozen=True)
class Suggestion:
    """One range as it was, as suggested, and one line of why."""

    old: ParameterRange
    new: ParameterRange
    why: str


def _log_scale(item: ParameterRange) -> bool:
    auto = item.scaling == "Auto" and item.min_value > 0 and item.max_value / item.min_value >= 100
    return (item.scaling == "Logarithmic" and item.min_value > 0) or auto


def _to_scale(item: ParameterRange, value: float) -> float:
    if item.scaling == "ReverseLogarithmic":
        return -math.log(1 - value)
    return math.log(value) if _log_scale(item) else value


def _from_scale(item: ParameterRange, value: float) -> float:
    if item.scaling == "ReverseLogarithmic":
        return 1 - math.exp(-value)
    return math.exp(value) if _log_scale(item) else value


def _short(value: float) -> str:
    return f"{value:.3g}"


def _round(value: float, down: bool) -> float:
    """Three significant digits, rounded outwards so the range only grows."""
    if value == 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(value))) - 2)
    steps = math.floor(value / step) if down else math.ceil(value / step)
    return float(f"{steps * step:.12g}")  # drop the float noise of steps * step


def _clip(value: float, limit: Limit, fallback: float) -> float:
    """`value` if XGBoost accepts it; else the nearest bound it accepts, or `fallback` at an open bound."""
    if limit.contains(value):
        return value
    if limit.low is not None and value <= limit.low:
        return fallback if limit.low_open else limit.low
    if limit.high is not None and value >= limit.high:
        return fallback if limit.high_open else limit.high
    return fallback


def _scaling(item: ParameterRange, low: float, high: float) -> str:
    if low > 0 and high / low >= _LOG_RATIO and (not item.integer or low >= 1):
        return "Logarithmic"
    if item.scaling == "ReverseLogarithmic" and high < 1 and (1 - low) / (1 - high) >= _LOG_RATIO:
        return "ReverseLogarithmic"
    return "Linear"


def narrow_one(
    item: ParameterRange, top: Sequence[float], trials: int, limits: Mapping[str, Limit] = XGBOOST_LIMITS
) -> Suggestion:
    """The suggestion for one range from the values its best trials had (`trials` in all), within the
    values `limits` says the hyperparameter takes."""
    span = f"the best {len(top)} of {trials} trials lie in {_short(min(top))}-{_short(max(top))}"
    old_low, old_high = _to_scale(item, item.min_value), _to_scale(item, item.max_value)
    width = old_high - old_low
    low, high = min(_to_scale(item, v) for v in top), max(_to_scale(item, v) for v in top)
    if width <= 0 or (high - low) / width >= NO_SIGNAL:
        share = 100 * (high - low) / width if width > 0 else 100
        return Suggestion(item, item, f"{span}, {share:.0f}% of its range: no signal, left as it was")
    pad = max(MARGIN * (high - low), _MIN_PAD * width)
    # Bounds only: integers are made whole below. Without a known limit (a script's hyperparameter: the
    # script alone knows what it takes) the range it was searched in bounds it.
    known = limits.get(item.name, Limit(item.min_value, item.max_value))
    limit = dataclasses.replace(known, integer=False)
    new_low = _clip(_from_scale(item, low - pad), limit, item.min_value)
    new_high = _clip(_from_scale(item, high + pad), limit, item.max_value)
    if item.integer:
        new_low, new_high = float(math.floor(new_low)), float(math.ceil(new_high))
        if new_low == new_high:
            new_high = new_low + 1 if limit.contains(new_low + 1) else new_high
            new_low = new_low - 1 if new_low == new_high and limit.contains(new_low - 1) else new_low
    else:
        new_low = _clip(_round(new_low, down=True), limit, new_low)
        new_high = _clip(_round(new_high, down=False), limit, new_high)
    new = dataclasses.replace(
        item, min_value=new_low, max_value=new_high, scaling=_scaling(item, new_low, new_high)
    )
    edges = [
        side
        for side, beyond in (("below", new_low < item.min_value), ("above", new_high > item.max_value))
        if beyond
    ]
    beyond = f"; past the old range {' and '.join(edges)}, where the best trials crowd" if edges else ""
    return Suggestion(item, new, f"{span}: widened by {MARGIN:.0%} of that{beyond}")


def narrow(
    ranges: Sequence[ParameterRange],
    trials: Sequence[Mapping[str, Any]],
    maximize: bool,
    *,
    top_fraction: float = TOP_FRACTION,
    xgboost: bool = True,
) -> list[Suggestion]:
    """A suggestion per range from leaderboard trials ({hyperparameters, objective}); NarrowingError.
    `xgboost`: built-in XGBoost's hyperparameters, else a script's (nothing known of their values)."""
    scored = [
        (value, t.get("hyperparameters") or {})
        for t in trials
        if (value := finite_number(t.get("objective"))) is not None
    ]
    if len(scored) < MIN_TRIALS:
        raise NarrowingError(
            f"{len(scored)} trial(s) have an objective; narrowing needs at least {MIN_TRIALS}: "
            "run more trials first"
        )
    scored.sort(key=lambda pair: pair[0], reverse=maximize)
    best = scored[: max(MIN_TOP, math.ceil(top_fraction * len(scored)))]
    suggestions = []
    for item in ranges:
        top = [v for _, hp in best if (v := finite_number(hp.get(item.name))) is not None]
        if len(top) < MIN_TOP:
            suggestions.append(Suggestion(item, item, "too few of the best trials tuned it: left as it was"))
            continue
        suggestion = narrow_one(item, top, len(scored), XGBOOST_LIMITS if xgboost else {})
        try:
            suggestion.new.validate(xgboost)
        except RangeError:
            suggestion = Suggestion(item, item, f"{suggestion.why}; but that is empty: left as it was")
        suggestions.append(suggestion)
    return suggestions


def _number_text(value: float, integer: bool) -> int | float:
    return int(value) if integer or float(value).is_integer() else value


def as_tuning_ranges(suggestions: Sequence[Suggestion], defaults: Sequence[ParameterRange]) -> dict[str, Any]:
    """The suggested ranges as `tuning_ranges` input: by name when that keeps the run's hyperparameters,
    else SageMaker's ParameterRanges shape (by-name overrides merge into the defaults)."""
    names = {s.new.name for s in suggestions}
    if names >= {d.name for d in defaults}:
        return {
            s.new.name: {
                "min": _number_text(s.new.min_value, s.new.integer),
                "max": _number_text(s.new.max_value, s.new.integer),
                "scaling": s.new.scaling,
            }
            for s in suggestions
        }
    return api_ranges(suggestions)


def api_ranges(suggestions: Sequence[Suggestion]) -> dict[str, Any]:
    """The suggested ranges in SageMaker's ParameterRanges shape."""
    return {
        "IntegerParameterRanges": [s.new.to_api() for s in suggestions if s.new.integer],
        "ContinuousParameterRanges": [s.new.to_api() for s in suggestions if not s.new.integer],
        "CategoricalParameterRanges": [],
    }
