"""moto's AWS::KMS::Key passes template Tags ({Key, Value}) where KMS wants {TagKey, TagValue}: KeyError."""

from __future__ import annotations

import copy
from typing import Any

from localaws.patches._patching import wrap


def kms_tags(tags: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"TagKey": t["Key"], "TagValue": t["Value"]} if "Key" in t else t for t in tags]


def _convert_tags(original: Any) -> Any:
    def create(
        cls: Any,
        /,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        template = copy.deepcopy(cloudformation_json)
        properties = template.get("Properties", {})
        if "Tags" in properties:
            properties["Tags"] = kms_tags(properties["Tags"])
        return original(resource_name, template, account_id, region_name, **kwargs)

    return classmethod(create)


def apply() -> None:
    from moto.kms.models import Key

    wrap(
        Key,
        "create_from_cloudformation_json",
        _convert_tags,
        expects=["resource_name", "cloudformation_json", "account_id", "region_name", "kwargs"],
    )
