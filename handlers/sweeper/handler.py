"""Sweeper Lambda: run on a schedule; deletes expired endpoints and reports how many outlived their TTL."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from contracts.metrics import EXPIRED_METRIC, METRIC_NAMESPACE, METRIC_SERVICE, STACK_DIMENSION
from handlers.common import clients
from handlers.common.json_types import JsonDict
from handlers.common.settings import settings
from handlers.common.stack_resources import running_runs
from handlers.sweeper.sweep import sweep

# Time kept back from the function's timeout to log, flush the metric and return.
MARGIN_S = 20.0

logger = Logger()
metrics = Metrics(namespace=METRIC_NAMESPACE, service=METRIC_SERVICE)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> JsonDict:
    """Entry point (handlers.sweeper.handler.lambda_handler)."""
    config = settings().require("name_prefix", "stack_name", "state_machine_arn")
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - MARGIN_S
    running = running_runs(
        clients.stepfunctions(), name_prefix=config.name_prefix, state_machine_arn=config.state_machine_arn
    )
    report = sweep(
        clients.sagemaker(),
        name_prefix=config.name_prefix,
        stack_name=config.stack_name,
        running=running,
        now=datetime.now(UTC),
        has_time=lambda: time.monotonic() < deadline,
    )
    metrics.add_dimension(name=STACK_DIMENSION, value=config.stack_name)
    metrics.add_metric(name=EXPIRED_METRIC, unit=MetricUnit.Count, value=len(report.expired))
    result = report.result()
    if report.failures:
        logger.warning("sweep left failures; the next round retries", extra=result)
    else:
        logger.info("sweep done", extra=result)
    return result
