"""Teardown Lambda: the stack's custom resource; always answers CloudFormation through the ResponseURL."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.common import clients
from handlers.common.json_types import JsonDict
from handlers.common.stack_resources import WaitBudget
from handlers.teardown.destroy import DestroyReport, Services, destroy, stack_is_updating
from handlers.teardown.request import FAILED_CREATE_PREFIX, MalformedRequest, TeardownRequest, parse_request
from handlers.teardown.response import response_body, send

logger = Logger()
# Time kept back from the function's timeout to answer CloudFormation (the answer is retried).
ANSWER_MARGIN_S = 60.0


def services() -> Services:
    """The real clients."""
    return Services(
        sagemaker=clients.sagemaker(),
        stepfunctions=clients.stepfunctions(),
        s3=clients.s3(),
        cloudformation=clients.cloudformation(),
    )


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> JsonDict:
    """Entry point (handlers.teardown.handler.lambda_handler)."""
    try:
        request = parse_request(event)
    except MalformedRequest as err:
        if err.envelope is None:
            logger.error(
                "cannot answer: the request has no usable ResponseURL or ids", extra={"error": str(err)}
            )
            raise
        # A Delete after our own FAILED Create (rollback) has nothing to undo: let the rollback finish.
        failed_create = (err.envelope.physical_id or "").startswith(FAILED_CREATE_PREFIX)
        status = "SUCCESS" if failed_create and event.get("RequestType") == "Delete" else "FAILED"
        physical = err.envelope.physical_id or f"{FAILED_CREATE_PREFIX}{err.envelope.request_id}"
        logger.error("malformed request", extra={"error": str(err), "status": status})
        send(err.envelope.response_url, response_body(err.envelope, status, str(err), physical, {}))
        return {"Status": status, "Reason": str(err)}
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_S
    status, reason, data = handle(request, services(), lambda: deadline - time.monotonic())
    physical = request.envelope.physical_id or f"{request.target.stack_name}-teardown"
    send(request.envelope.response_url, response_body(request.envelope, status, reason, physical, data))
    return {"Status": status, "Reason": reason, "Data": data}


def handle(
    request: TeardownRequest, aws: Services, remaining: Callable[[], float], wait: WaitBudget | None = None
) -> tuple[str, str, dict[str, str]]:
    """(Status, Reason, Data) for a valid request: failures reported, never stuck.

    FAILED only when a bucket could not be emptied (or a job had not ended): CloudFormation could not
    delete that bucket anyway, and a FAILED answer keeps this resource, so `cdk destroy` again runs
    the teardown again. Anything else is SUCCESS with its failures in the Reason.
    """
    if request.request_type != "Delete":
        return "SUCCESS", f"{request.request_type}: nothing to do until the stack is deleted", {}
    if stack_is_updating(aws.cloudformation, request.envelope.stack_id):
        reason = "Delete during a stack update (resource replaced): the stack stays, so nothing is torn down"
        logger.info(reason)
        return "SUCCESS", reason, {}
    try:
        report = destroy(aws, request.target, remaining=remaining, wait=wait or WaitBudget(seconds=0.0))
    except Exception as err:
        logger.exception("teardown failed")
        report = DestroyReport(failures=[f"teardown: {type(err).__name__}: {err}"])
    result = report.result()
    if report.failures or report.blocking:
        logger.warning("teardown done with failures", extra=result)
    else:
        logger.info("teardown done", extra=result)
    if report.blocking:
        blocking = "; ".join(report.blocking)
        reason = f"{summary(report)}; the stack cannot be deleted yet ({blocking}): run cdk destroy again"
        return "FAILED", reason, data(report)
    return "SUCCESS", summary(report), data(report)


def summary(report: DestroyReport) -> str:
    """The Reason CloudFormation shows: counts, then the failures (full list in the logs)."""
    out = report.outcome
    versions = sum(report.versions_deleted.values())
    text = (
        f"teardown: stopped {len(out.stopped)}, deleted {len(out.deleted)} SageMaker resource(s), "
        f"deleted {versions} object version(s) in {len(report.versions_deleted)} bucket(s)"
    )
    if report.failures:
        text += f"; {len(report.failures)} failure(s): " + " | ".join(report.failures)
    return text


def data(report: DestroyReport) -> dict[str, str]:
    """The Data CloudFormation keeps (string values: what Fn::GetAtt can return)."""
    return {
        "Stopped": str(len(report.outcome.stopped)),
        "Deleted": str(len(report.outcome.deleted)),
        "ObjectVersionsDeleted": str(sum(report.versions_deleted.values())),
        "Failures": " | ".join(report.failures),
    }
