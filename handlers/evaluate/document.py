"""evaluation.json and the small summary the state machine receives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contracts.reports import DataSummary
from handlers.common.json_types import JsonDict
from handlers.evaluate.metrics import PRIMARY
from handlers.evaluate.scoring import VariantResult
from handlers.evaluate.testset import TestSet
from handlers.evaluate.threshold import DEFAULT_THRESHOLD, RULE

SCALE_POS_WEIGHT = "scale_pos_weight"
ENDPOINT_SPAN = (
    "the endpoint is priced from InService to the end of evaluation; Cleanup deletes it next and adds the "
    "time until deletion to the run's notification"
)


def _scalars(values: Mapping[str, Any]) -> JsonDict:
    return {k: v for k, v in values.items() if isinstance(v, int | float) or v is None}


def winner_rule(metric: str, higher: bool) -> str:
    """How the winner was picked, in words (the metric is threshold-free for binary: AUC)."""
    direction = "highest" if higher else "lowest"
    return f"the {direction} {metric} on the test set; a tie goes to the variant deployed first"


def decision_threshold(run: Mapping[str, Any], validation: TestSet | str | None) -> JsonDict | None:
    """Binary runs: the rule, the validation rows it was applied to, or why there were none."""
    if run["problem_type"] != "binary":
        return None
    classes = list(run.get("classes") or [])
    block: JsonDict = {
        "default": DEFAULT_THRESHOLD,
        "rule": RULE,
        "positive_class": classes[1] if len(classes) == 2 else None,
        "validation_rows": None,
        "error": None,
    }
    if isinstance(validation, TestSet):
        block["validation_rows"] = len(validation.labels)
    else:
        block["error"] = validation
    return block


def class_weight(run: Mapping[str, Any]) -> JsonDict | None:
    """Binary runs: the tuning job's scale_pos_weight and where it came from."""
    if run["problem_type"] != "binary":
        return None
    static = (run.get("tuning") or {}).get("static_hyperparameters") or {}
    if SCALE_POS_WEIGHT in static:
        return {
            "value": static[SCALE_POS_WEIGHT],
            "how": "a static hyperparameter of every trial: negatives / positives in the training channel",
        }
    return {
        "value": None,
        "how": "not set (the dataset's manifest has no class counts): trials trained unweighted",
    }


def cost_block(run: Mapping[str, Any], actual: Mapping[str, Any], offline: bool) -> JsonDict:
    """The run's bound (as ValidateInput planned it) beside what it did cost."""
    planned = run.get("cost") or {}
    return {
        "estimate": planned.get("estimate"),
        "max_cost_usd": planned.get("max_cost_usd"),
        "actual": dict(actual),
        "endpoint_span": ENDPOINT_SPAN,
        "offline": offline,
        "offline_note": (
            "an offline run: its billable times are the local jobs' real times, priced as AWS would bill "
            "them at these instance types"
            if offline
            else None
        ),
    }


def cost_summary(cost: Mapping[str, Any] | None) -> JsonDict | None:
    """What the state machine (and so the notification) keeps of the cost: totals and each finalist."""
    if not cost:
        return None
    actual, estimate = cost.get("actual") or {}, cost.get("estimate") or {}
    return {
        "estimate": {"total_usd": estimate.get("total_usd"), "complete": estimate.get("complete")},
        "actual": {
            key: actual.get(key) for key in ("total_usd", "complete", "region", "unknown", "prices_as_of")
        }
        | {"per_finalist": {v: {"usd": e.get("usd")} for v, e in (actual.get("per_finalist") or {}).items()}},
        "offline": cost.get("offline"),
    }


def evaluation_document(
    run: Mapping[str, Any],
    results: Sequence[VariantResult],
    winner: tuple[str, str] | None,
    test_rows: int,
    timings: Mapping[str, float],
    validation: TestSet | str | None = None,
    cost: JsonDict | None = None,
    data: DataSummary | None = None,
) -> JsonDict:
    """Per-variant metrics and insight, the winner and how, test rows, thresholds, the data, cost, timings."""
    primary, higher = PRIMARY[str(run["problem_type"])]
    metric = winner[1] if winner else None
    return {
        "run_id": run["run_id"],
        "problem_type": run["problem_type"],
        "target": run["target"],
        "classes": list(run.get("classes") or []),
        "test_rows": test_rows,
        "primary_metric": primary,
        "higher_is_better": higher,
        "winner": winner[0] if winner else None,
        "winner_metric": metric,
        "winner_rule": winner_rule(metric, higher) if metric else None,
        "decision_threshold": decision_threshold(run, validation),
        "scale_pos_weight": class_weight(run),
        "variants": {
            r.variant: {
                "kind": r.kind,
                "metrics": r.metrics,
                "threshold_choice": r.threshold_choice,
                "insight": r.insight,
                "error": r.error,
                "requests": r.requests,
                "rows": r.rows,
                "seconds": r.seconds,
                "rows_per_second": round(r.rows / r.seconds, 1) if r.seconds > 0 and r.metrics else None,
            }
            for r in results
        },
        "data": data,
        "cost": cost,
        "timings": dict(timings),
    }


def summary(document: Mapping[str, Any], report_uri: str, evaluation_uri: str) -> JsonDict:
    """What the state machine keeps: winner, scalar metrics per variant, where the report is."""
    metrics: JsonDict = {}
    for variant, entry in document["variants"].items():
        values = entry.get("metrics") or {}
        if not values:
            metrics[variant] = {"error": str(entry.get("error"))[:500]}
            continue
        metrics[variant] = _scalars(values)
        at_threshold = values.get("at_threshold")
        if isinstance(at_threshold, Mapping):
            reason = at_threshold.get("reason")
            metrics[variant]["at_threshold"] = {
                **_scalars(at_threshold),
                **({"reason": str(reason)[:200]} if reason else {}),
            }
    return {
        "winner": document["winner"],
        "metric": document["winner_metric"],
        "metrics": metrics,
        "report": report_uri,
        "evaluation": evaluation_uri,
        "cost": cost_summary(document.get("cost")),
    }
