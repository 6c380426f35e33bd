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
from handlers.evaluate.responses import Cell, Predictions, ResponseError, from_labels, from_scores, split_rows
from handlers.evaluate.testset import TestSet

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


def score_variant(
    invoke: Invoke,
    finalist: Mapping[str, Any],
    test: TestSet,
    run: Mapping[str, Any],
    *,
    max_bytes: int = MAX_PAYLOAD_BYTES,
    max_rows: int = MAX_ROWS,
    clock: Callable[[], float] = time.monotonic,
) -> VariantResult:
    """Send every test row to one variant in batches, read the predictions, compute the metrics."""
    variant, kind = str(finalist["variant"]), str(finalist["kind"])
    problem_type, classes = str(run["problem_type"]), list(run.get("classes") or [])
    rows = test.tuning_rows if kind == "tuning" else test.autopilot_rows
    result = VariantResult(variant=variant, kind=kind, rows=len(rows))
    started = clock()
    cells: list[list[Cell]] = []
    try:
        for count, payload in batches(rows, max_bytes, max_rows):
            body = invoke(variant, payload)
            result.requests += 1
            cells.extend(split_rows(body.decode("utf-8"), count))
        if kind == "tuning":
            found = from_scores(cells, problem_type, len(classes))
        else:
            found = from_labels(cells, problem_type, classes)
        result.predictions = found
        result.metrics = _metrics(problem_type, test.labels, found, len(classes))
    except ClientError as err:
        result.error = f"InvokeEndpoint failed ({error_code(err)}): {err}"
    except (ResponseError, ValueError, UnicodeDecodeError) as err:
        result.error = f"cannot read the predictions after {result.requests} requests: {err}"
    result.seconds = round(clock() - started, 3)
    return result


def score_all(
    invoke: Invoke,
    finalists: Sequence[Mapping[str, Any]],
    test: TestSet,
    run: Mapping[str, Any],
    **limits: Any,
) -> list[VariantResult]:
    """Every finalist's result, in deployment order."""
    return [score_variant(invoke, f, test, run, **limits) for f in finalists]
