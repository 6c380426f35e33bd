"""Cleanup Lambda: called by the state machine (success, failure) and by EventBridge (abort, timeout)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from contracts.names import RunNames, run_names
from handlers.cleanup.endpoint_cost import describe_before_delete, final_cost
from handlers.cleanup.notice import notice, publish, should_notify
from handlers.cleanup.request import CleanupRequest, parse_request
from handlers.cleanup.results import save_leaderboard
from handlers.common import clients
from handlers.common.json_types import JsonDict
from handlers.common.settings import Settings, settings
from handlers.common.stack_resources import (
    Outcome,
    Rule,
    Selection,
    WaitBudget,
    carry_out,
    run_resources,
)

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

logger = Logger()
# The run's own resources, found by the names its execution derives (Cleanup may not list or read tags).
RULE = Rule.THIS_RUN
MAX_WAIT_S = 600.0
# Time kept back from the Lambda's own timeout to delete the config and models and return.
MARGIN_S = 30.0


def wait_budget(remaining_ms: int) -> WaitBudget:
    """At most 10 minutes, and never past the function's timeout."""
    return WaitBudget(seconds=max(0.0, min(MAX_WAIT_S, remaining_ms / 1000 - MARGIN_S)))


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> JsonDict:
    """Entry point (handlers.cleanup.handler.lambda_handler)."""
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
    notes = _save_results(request, names, config)
    # A completed run's endpoint is priced until now, when it goes: read when it came InService first.
    priced = request.reason == "completed" and not request.keep_endpoint and request.run is not None
    before = describe_before_delete(clients.sagemaker(), names.endpoint) if priced else None
    try:
        outcome = clean_up(
            clients.sagemaker(),
            names,
            keep_endpoint=request.keep_endpoint,
            budget=wait_budget(context.get_remaining_time_in_millis()),
        )
    except Exception as err:
        _notify(request, names, None, f"{type(err).__name__}: {err}", config)
        raise  # retried by the state machine / by Lambda's async retries, then the dead-letter queue
    outcome.notes[:0] = notes
    result = outcome.result()
    cost = final_cost(before, request.run or {}, f"endpoint:{names.endpoint}" in outcome.deleted)
    if cost is not None:
        result["endpoint_cost"] = cost
    logger.info("cleanup done", extra={"reason": request.reason, **result})
    _notify(request, names, result, None, config)
    return result


def clean_up(sm: SageMakerClient, names: RunNames, *, keep_endpoint: bool, budget: WaitBudget) -> Outcome:
    """Stop the run's jobs; delete its endpoint, endpoint config and both models, unless they are kept."""
    selection = Selection(RULE, keep_serving=keep_endpoint)
    return carry_out(sm, map(selection.decide, run_resources(names)), budget)


def _save_results(request: CleanupRequest, names: RunNames, config: Settings) -> list[str]:
    """Unless the run completed (Evaluate saved it), what finished steps produced goes to S3 first."""
    if request.reason == "completed" or not config.artifacts_bucket:
        return []
    if request.stack_deleted:
        # The teardown is emptying the buckets: a write now would make `cdk destroy` fail on them.
        return ["the stack is being deleted: no leaderboard saved"]
    note = save_leaderboard(
        clients.sagemaker(),
        clients.s3(),
        run=request.run,
        names=names,
        bucket=config.artifacts_bucket,
        key_arn=config.key_arn,
    )
    logger.info("results", extra={"leaderboard": note})
    return [note]


def _notify(
    request: CleanupRequest, names: RunNames, result: JsonDict | None, error: str | None, config: Settings
) -> None:
    """Tell the topic about runs the state machine could not report itself; never fails the cleanup."""
    if not should_notify(request, result):
        return
    if not config.topic_arn:
        logger.warning("TOPIC_ARN is not set: no notice sent")
        return
    try:
        publish(clients.sns(), config.topic_arn, notice(request, names.run_id, result, error))
    except Exception:
        logger.exception("notice not published")
