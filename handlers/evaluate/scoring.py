"""Score each endpoint variant on the test set and compute its metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from handlers.common.aws_errors import error_code
from handlers.evaluate import metrics
from handlers.evaluate.batching import MAX_PAYLOAD_BYTES, MAX_ROWS, batches
from handlers.evaluate.insight import insight
from handlers.evaluate.responses import Cell, Predictions, ResponseError, from_labels, from_scores, split_rows
from handlers.evaluate.testset import TestSet
from handlers.evaluate.threshold import choose_threshold, metrics_at

if TYPE_CHECKING:
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient

Invoke = Callable[[str, bytes], bytes]  # (variant name, CSV payload) -> response body


@dataclass
class VariantResult:
    """One variant's outcome: metrics, or the error that stopped its evaluation."""

    variant: str
    kind: str
    metrics: dict[str, Any] | None = None
    predictions: Predictions | None = None
    error: str | None = None
    seconds: float = 0.0
    requests: int = 0
    rows: int = 0
    # Binary: how its decision threshold was chosen on the validation set (None when it was not).
    threshold_choice: dict[str, Any] | None = None
    # How it behaves on the test set (contracts.reports.Insight): curves, per-class scores or a sample.
    insight: dict[str, Any] | None = None


def endpoint_invoker(runtime: SageMakerRuntimeClient, endpoint: str) -> Invoke:
    """InvokeEndpoint on one variant of the run's endpoint, CSV in and out."""

    def invoke(variant: str, body: bytes) -> bytes:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, TargetVariant=variant, ContentType="text/csv", Accept="text/csv", Body=body
        )
        return response["Body"].read()

    return invoke


def _metrics(problem_type: str, labels: Sequence[float], found: Predictions, k: int) -> dict[str, Any]:
    if problem_type == "regression":
        if found.values is None:
            raise ResponseError("no predicted values")
        return metrics.regression_metrics(list(labels), found.values)
    truth = [int(y) for y in labels]
    if found.labels is None:
        raise ResponseError("no predicted labels")
    if problem_type == "binary":
        return metrics.binary_metrics(truth, found.labels, found.scores or [float(v) for v in found.labels])
    return metrics.multiclass_metrics(truth, found.labels, k)


@dataclass
class _Sender:
    """Sends one variant its rows in batches and reads the predictions; counts the requests sent."""

    invoke: Invoke
    variant: str
    kind: str
    problem_type: str
    classes: list[str]
    max_bytes: int
    max_rows: int
    sent: int = 0

    def rows(self, data: TestSet) -> list[str]:
        """The rows this variant reads: encoded for XGBoost, raw for Autopilot."""
        return data.tuning_rows if self.kind == "tuning" else data.autopilot_rows

    def predict(self, rows: Sequence[str]) -> Predictions:
        cells: list[list[Cell]] = []
        for count, payload in batches(rows, self.max_bytes, self.max_rows):
            body = self.invoke(self.variant, payload)
            self.sent += 1  # counted as it goes: an error message says how far it got
            cells.extend(split_rows(body.decode("utf-8"), count))
        if self.kind == "tuning":
            return from_scores(cells, self.problem_type, len(self.classes))
        return from_labels(cells, self.problem_type, self.classes)


def _at_threshold(
    sender: _Sender,
    validation: TestSet | str,
    labels: Sequence[float],
    found: Predictions,
    result: VariantResult,
    clock: Callable[[], float],
) -> dict[str, Any]:
    """Test-set metrics at the threshold chosen on the validation set, or {threshold: None, reason}."""
    if isinstance(validation, str):
        return {"threshold": None, "reason": validation}
    if not found.probabilities or found.scores is None:
        return {
            "threshold": None,
            "reason": "its endpoint returns labels without a probability, so there is no threshold to "
            "choose; its metrics are those of its own labels",
        }
    started = clock()
    try:
        scored = sender.predict(sender.rows(validation))
        if not scored.probabilities or scored.scores is None:
            raise ResponseError("it answered some rows without a probability")
        chosen = choose_threshold([int(y) for y in validation.labels], scored.scores)
    except ClientError as err:
        return {"threshold": None, "reason": f"scoring the validation set failed ({error_code(err)}): {err}"}
    except (ResponseError, ValueError, UnicodeDecodeError) as err:
        return {"threshold": None, "reason": f"cannot choose a threshold on the validation set: {err}"}
    result.threshold_choice = {
        "chosen_on": "validation",
        "rows": chosen.rows,
        "positives": chosen.positives,
        "f1": chosen.f1,
        "requests": sender.sent,
        "seconds": round(clock() - started, 3),
    }
    return metrics_at([int(y) for y in labels], found.scores, chosen.value)


def score_variant(
    invoke: Invoke,
    finalist: Mapping[str, Any],
    test: TestSet,
    run: Mapping[str, Any],
    *,
    validation: TestSet | str | None = None,
    max_bytes: int = MAX_PAYLOAD_BYTES,
    max_rows: int = MAX_ROWS,
    clock: Callable[[], float] = time.monotonic,
) -> VariantResult:
    """Send every test row to one variant in batches, read the predictions, compute the metrics.

    Binary problems also get `metrics["at_threshold"]`: the metrics at the threshold chosen on
    `validation` (or, when that is a string, the reason there is none).
    """
    variant, kind = str(finalist["variant"]), str(finalist["kind"])
    problem_type, classes = str(run["problem_type"]), list(run.get("classes") or [])
    sender = _Sender(invoke, variant, kind, problem_type, classes, max_bytes, max_rows)
    rows = sender.rows(test)
    result = VariantResult(variant=variant, kind=kind, rows=len(rows))
    started = clock()
    try:
        found = sender.predict(rows)
        result.predictions = found
        result.metrics = _metrics(problem_type, test.labels, found, len(classes))
        result.insight = dict(insight(problem_type, test.labels, found, result.metrics, classes))
    except ClientError as err:
        result.error = f"InvokeEndpoint failed ({error_code(err)}): {err}"
    except (ResponseError, ValueError, UnicodeDecodeError) as err:
        result.error = f"cannot read the predictions after {sender.sent} requests: {err}"
    result.requests = sender.sent
    result.seconds = round(clock() - started, 3)
    if result.metrics is not None and result.predictions is not None and problem_type == "binary":
        sender.sent = 0
        result.metrics["at_threshold"] = _at_threshold(
            sender,
            "no validation set was given" if validation is None else validation,
            test.labels,
            result.predictions,
            result,
            clock,
        )
    return result


def score_all(
    invoke: Invoke,
    finalists: Sequence[Mapping[str, Any]],
    test: TestSet,
    run: Mapping[str, Any],
    validation: TestSet | str | None = None,
    **limits: Any,
) -> list[VariantResult]:
    """Every finalist's result, in deployment order."""
    return [score_variant(invoke, f, test, run, validation=validation, **limits) for f in finalists]
