"""moto's AWS::S3::Bucket ignores VersioningConfiguration and PublicAccessBlockConfiguration."""

from __future__ import annotations

from typing import Any

from mlstack.local.patches._patching import wrap


def apply_properties(bucket: Any, properties: dict[str, Any], account_id: str) -> None:
    """Set versioning and the public access block from the template on the created bucket."""
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    backend = s3_backends[account_id][get_partition(bucket.region_name)]
    versioning = properties.get("VersioningConfiguration", {}).get("Status")
    if versioning:
        backend.put_bucket_versioning(bucket.name, versioning)
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(bucket.name, block)


def _after_create(original: Any) -> Any:
    def create(
        cls: Any,
        /,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        bucket = original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        apply_properties(bucket, cloudformation_json.get("Properties", {}), account_id)
        return bucket

    return classmethod(create)


def _after_update(original: Any) -> Any:
    def update(
        cls: Any,
        /,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        bucket = original(original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        apply_properties(bucket, cloudformation_json.get("Properties", {}), account_id)
        return bucket

    return classmethod(update)


def apply() -> None:
    from moto.s3.models import FakeBucket

    wrap(
        FakeBucket,
        "create_from_cloudformation_json",
        _after_create,
        expects=["resource_name", "cloudformation_json", "account_id", "region_name", "kwargs"],
    )
    wrap(
        FakeBucket,
        "update_from_cloudformation_json",
        _after_update,
        expects=[
            "original_resource",
            "new_resource_name",
            "cloudformation_json",
            "account_id",
            "region_name",
        ],
    )
