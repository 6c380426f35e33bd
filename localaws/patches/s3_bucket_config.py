"""moto's AWS::S3::Bucket ignores VersioningConfiguration and PublicAccessBlockConfiguration."""

from __future__ import annotations

from typing import Any

from localaws.patches._patching import after_cfn_writes


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


def apply() -> None:
    from moto.s3.models import FakeBucket

    after_cfn_writes(
        FakeBucket, lambda bucket, properties, account_id, _: apply_properties(bucket, properties, account_id)
    )
