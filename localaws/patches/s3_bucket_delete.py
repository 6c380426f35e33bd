"""moto's CloudFormation keeps a non-empty bucket yet reports DELETE_COMPLETE; AWS fails the delete."""

from __future__ import annotations

from typing import Any

from localaws.patches._patching import wrap


class BucketNotEmptyError(Exception):
    """The CloudFormation resource error for deleting a bucket that still holds objects."""

    def __init__(self, bucket_name: str, logical_id: str | None = None) -> None:
        super().__init__(
            "The bucket you tried to delete is not empty "
            f"(Service: S3, Status Code: 409, Bucket: {bucket_name})"
        )
        self.logical_id = logical_id


def _fail_when_not_empty(original: Any) -> Any:
    def delete(
        cls: Any, /, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        backend = s3_backends[account_id][get_partition(region_name)]
        bucket = backend.buckets.get(resource_name)
        if bucket is not None and bucket.keys:
            raise BucketNotEmptyError(resource_name)
        original(resource_name, cloudformation_json, account_id, region_name)

    return classmethod(delete)


def apply() -> None:
    from moto.s3.models import FakeBucket

    wrap(
        FakeBucket,
        "delete_from_cloudformation_json",
        _fail_when_not_empty,
        expects=["resource_name", "cloudformation_json", "account_id", "region_name"],
    )
