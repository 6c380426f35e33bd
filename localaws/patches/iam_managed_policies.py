"""moto's AWS::IAM::Role ignores ManagedPolicyArns: attach them, and detach them before deleting the role."""

from __future__ import annotations

import logging
from typing import Any

from localaws.patches._patching import CFN_DELETE, after_cfn_writes, wrap

LOG = logging.getLogger(__name__)


def attach(role: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    backend = iam_backends[account_id][get_partition(region_name)]
    wanted = set(properties.get("ManagedPolicyArns", []))
    for arn in set(role.managed_policies) - wanted:
        backend.detach_role_policy(arn, role.name)
    for arn in wanted - set(role.managed_policies):
        try:
            backend.attach_role_policy(arn, role.name)
        except Exception as exc:  # CloudFormation would fail; locally a missing policy only warns
            LOG.warning("role %s: cannot attach %s: %s", role.name, arn, exc)


def _detach_before_delete(original: Any) -> Any:
    def delete(
        cls: Any, /, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        from moto.iam.models import iam_backends
        from moto.utilities.utils import get_partition

        backend = iam_backends[account_id][get_partition(region_name)]
        for role in list(backend.roles.values()):
            if role.name == resource_name:
                for arn in list(role.managed_policies):
                    backend.detach_role_policy(arn, role.name)
        original(resource_name, cloudformation_json, account_id, region_name)

    return classmethod(delete)


def apply() -> None:
    from moto.iam.models import Role

    after_cfn_writes(Role, attach)
    wrap(Role, "delete_from_cloudformation_json", _detach_before_delete, expects=CFN_DELETE)
