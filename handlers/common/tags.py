"""The tags every runtime resource carries, and reading them back from SageMaker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

# Written by ValidateInput into run.tags, attached by the state machine to every job, model and endpoint.
from contracts.tags import EXPIRES_TAG as EXPIRES_TAG
from contracts.tags import RUN_TAG as RUN_TAG
from contracts.tags import STACK_TAG as STACK_TAG


def tags_of(sm: SageMakerClient, arn: str) -> dict[str, str]:
    """Every tag of one SageMaker resource (paginated)."""
    tags: dict[str, str] = {}
    for page in sm.get_paginator("list_tags").paginate(ResourceArn=arn):
        tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
    return tags


def parse_expires(value: str | None) -> datetime | None:
    """An `mlstack:expires` value (ISO 8601, UTC) as an aware datetime; None when absent or malformed."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # A value without an offset is read as UTC, which is what ValidateInput writes.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
