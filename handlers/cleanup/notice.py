"""The notice for runs that ended without the state machine's own Notify (aborted, timed out)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from handlers.cleanup.request import CleanupRequest
from handlers.common.json_types import JsonDict

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

# The state machine's failure path already notifies a FAILED run; EventBridge repeats FAILED for it.
ALWAYS_NOTIFY = ("aborted", "timed_out")


def should_notify(request: CleanupRequest, result: JsonDict | None) -> bool:
    """Aborted/timed out always; FAILED only if this pass found something the state machine left behind."""
    if not request.from_eventbridge:
        return False
    if result is None or request.reason in ALWAYS_NOTIFY:
        return True
    return bool(result["deleted"] or result["stopped"])


def notice(request: CleanupRequest, run_id: str, result: JsonDict | None, error: str | None) -> JsonDict:
    """The message: what happened to the run and what cleanup deleted (or why it failed)."""
    status = request.reason.replace("_", "-")
    doc: JsonDict = {
        "event": "cleanup-failed" if error else f"{status}-and-cleaned",
        "execution": request.execution_name,
        "state_machine": request.state_machine_arn,
        "status": request.reason.upper(),
        "run_id": run_id,
    }
    if result is not None:
        doc.update({k: result[k] for k in ("deleted", "stopped", "not_found", "kept")})
    if error:
        doc["error"] = error
    return doc


def publish(sns: SNSClient, topic_arn: str, doc: JsonDict) -> None:
    """Publish the notice (subject within SNS's 100 characters)."""
    subject = f"ML Stack run {doc['status'].lower()}: " + (
        "cleanup failed" if doc["event"] == "cleanup-failed" else "cleaned up"
    )
    sns.publish(TopicArn=topic_arn, Subject=subject[:100], Message=json.dumps(doc, indent=2))
