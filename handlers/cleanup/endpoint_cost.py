"""The endpoint's final cost: its instances from InService until Cleanup deleted it (completed runs).

Evaluate prices the endpoint up to the end of evaluation, while it still serves; only Cleanup sees it go.
Its figure reaches the run's notification (the state machine's Notify sends Cleanup's result).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from contracts.costs import HOUR_S, endpoint_lines, in_service
from contracts.prices import load as load_prices
from handlers.common.json_types import JsonDict

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient


def describe_before_delete(sm: SageMakerClient, endpoint: str) -> Mapping[str, Any] | None:
    """DescribeEndpoint, or None when it cannot be read (the cleanup itself must go on regardless)."""
    try:
        return sm.describe_endpoint(EndpointName=endpoint)
    except (ClientError, BotoCoreError):
        return None


def final_cost(
    described: Mapping[str, Any] | None,
    run: Mapping[str, Any],
    deleted: bool,
    now: datetime | None = None,
) -> JsonDict | None:
    """What the endpoint cost from InService to its deletion now; None when it was not deleted or unknown."""
    if described is None or not deleted:
        return None
    instance_type = str((run.get("endpoint") or {}).get("instance_type") or "")
    use = in_service(described, instance_type, now or datetime.now(UTC), final=True)
    if use is None:
        return None
    region = str((run.get("cost") or {}).get("region") or "")
    lines = endpoint_lines(use, region, load_prices())
    prices = [line.usd for line in lines.values()]
    return {
        "instance_type": instance_type,
        "instances": dict(use.instances),
        "seconds": round(use.seconds, 3),
        "instance_hours": round(sum(use.instances.values()) * use.seconds / HOUR_S, 6),
        "since": use.since,
        "until": use.until,
        "region": region,
        "usd": None if any(p is None for p in prices) else round(sum(p or 0.0 for p in prices), 6),
    }
