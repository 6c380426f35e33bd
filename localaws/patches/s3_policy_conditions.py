"""moto enforces bucket policies ignoring Condition: an enforceSSL Deny then denies every request."""

from __future__ import annotations

import json
from typing import Any

from localaws.patches._patching import replace


def unconditional(policy: bytes) -> str:
    """The policy without conditional statements (moto cannot evaluate conditions, so they never apply)."""
    document = json.loads(policy)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    document["Statement"] = [s for s in statements if "Condition" not in s]
    return json.dumps(document)


def get_permission(self: Any, action: str, resource: str) -> Any:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    return IAMPolicy(unconditional(self.policy)).is_action_permitted(action, resource)


def apply() -> None:
    from moto.s3.models import FakeBucket

    replace(FakeBucket, "get_permission", get_permission, expects=["self", "action", "resource"])
