"""The metric line format train.py prints and the regexes that read it back (standard library only).

One line per evaluation per round, then one final line per metric:

    [12] validation:auc=0.912300
    [final] validation:auc=0.914100

Rounds count from 0 like XGBoost's own log. The final line holds the value of the model that was
saved (the best round under early stopping) and is printed last, so a reader that keeps the last
match of `metric_regex(name)` - as SageMaker does for `MetricDefinitions` - gets the final value.
"""

import re

FINAL = "final"
VALUE_PATTERN = r"[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
METRIC_LINE = re.compile(
    r"^\[(?P<round>[0-9]+|"
    + FINAL
    + r")\] (?P<name>[A-Za-z0-9_]+:[^=\s]+)=(?P<value>"
    + VALUE_PATTERN
    + r")\s*$",
    re.MULTILINE,
)


def format_metric_line(round_: int | None, name: str, value: float) -> str:
    """One metric line; `round_=None` makes the final line."""
    tag = FINAL if round_ is None else str(round_)
    return f"[{tag}] {name}={value:.6f}"


def metric_regex(metric_name: str) -> str:
    """A regex with one capture group (the value) for `metric_name`, e.g. "validation:auc".

    It matches the per-round lines and the final line, as a SageMaker `MetricDefinitions` Regex.
    """
    return r"\[(?:[0-9]+|" + FINAL + r")\] " + re.escape(metric_name) + "=(" + VALUE_PATTERN + ")"


def parse_metric_lines(text: str) -> dict[str, list[tuple[int, float]]]:
    """Per-round values of every metric in a log, in the order printed (final lines excluded)."""
    series: dict[str, list[tuple[int, float]]] = {}
    for match in METRIC_LINE.finditer(text):
        if match["round"] != FINAL:
            series.setdefault(match["name"], []).append((int(match["round"]), float(match["value"])))
    return series


def final_metrics(text: str) -> dict[str, float]:
    """The last value printed for each metric (the final line when there is one)."""
    return {match["name"]: float(match["value"]) for match in METRIC_LINE.finditer(text)}
