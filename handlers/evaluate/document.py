"""evaluation.json and the small summary the state machine receives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handlers.common.json_types import JsonDict
from handlers.evaluate.metrics import PRIMARY
from handlers.evaluate.scoring import VariantResult


def evaluation_document(
    run: Mapping[str, Any],
    results: Sequence[VariantResult],
    winner: tuple[str, str] | None,
    test_rows: int,
    timings: Mapping[str, float],
) -> JsonDict:
    """Per-variant metrics, the winner and how it was chosen, test rows, timings."""
    primary, higher = PRIMARY[str(run["problem_type"])]
    return {
        "run_id": run["run_id"],
        "problem_type": run["problem_type"],
        "target": run["target"],
        "classes": list(run.get("classes") or []),
        "test_rows": test_rows,
        "primary_metric": primary,
        "higher_is_better": higher,
        "winner": winner[0] if winner else None,
        "winner_metric": winner[1] if winner else None,
        "variants": {
            r.variant: {
                "kind": r.kind,
                "metrics": r.metrics,
                "error": r.error,
                "requests": r.requests,
                "rows": r.rows,
                "seconds": r.seconds,
                "rows_per_second": round(r.rows / r.seconds, 1) if r.seconds > 0 and r.metrics else None,
            }
            for r in results
        },
        "timings": dict(timings),
    }


def summary(document: Mapping[str, Any], report_uri: str, evaluation_uri: str) -> JsonDict:
    """What the state machine keeps: winner, scalar metrics per variant, where the report is."""
    metrics: JsonDict = {}
    for variant, entry in document["variants"].items():
        values = entry.get("metrics") or {}
        scalars = {k: v for k, v in values.items() if isinstance(v, int | float) or v is None}
        metrics[variant] = scalars if entry.get("metrics") else {"error": str(entry.get("error"))[:500]}
    return {
        "winner": document["winner"],
        "metric": document["winner_metric"],
        "metrics": metrics,
        "report": report_uri,
        "evaluation": evaluation_uri,
    }
