"""Cleanup Lambda: called by the state machine (success and failure paths) and by EventBridge on abort."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from cleanup.request import parse_request
from cleanup.teardown import Outcome, WaitBudget, teardown
from common import clients
from common.json_types import JsonDict
from common.settings import settings
from contracts.names import run_names

logger = Logger()
MAX_WAIT_S = 600.0
# Time kept back from the Lambda's own timeout to delete the config and models and return.
MARGIN_S = 30.0


def wait_budget(remaining_ms: int) -> WaitBudget:
    """At most 10 minutes, and never past the function's timeout."""
    return WaitBudget(seconds=max(0.0, min(MAX_WAIT_S, remaining_ms / 1000 - MARGIN_S)))


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> JsonDict:
    """Entry point (cleanup.handler.lambda_handler)."""
    request = parse_request(event)
    if request.skip:
        logger.info("nothing to clean up", extra={"why": request.skip})
        return Outcome(notes=[request.skip]).result()
    config = settings().require("name_prefix")
    try:
        names = run_names(config.name_prefix, request.state_machine_arn, request.execution_name)
    except ValueError as err:
        # ValidateInput fails on the same names before anything is created: nothing can exist.
        return Outcome(notes=[f"no valid resource names ({err}); nothing was created"]).result()
    outcome = teardown(
        clients.sagemaker(),
        names,
        keep_endpoint=request.keep_endpoint,
        budget=wait_budget(context.get_remaining_time_in_millis()),
    )
    logger.info("cleanup done", extra={"reason": request.reason, **outcome.result()})
    return outcome.result()
