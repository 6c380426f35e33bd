"""Emptying versioned buckets: every object version and every delete marker, until none is left."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from handlers.common.aws_errors import error_code

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

_GONE = frozenset({"NoSuchBucket", "404"})


def stop_access_logging(s3: S3Client, bucket: str) -> None:
    """Stop server access logging, so emptying this bucket does not refill the log bucket."""
    try:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    except ClientError as err:
        if error_code(err) not in _GONE:
            raise


def empty_bucket(s3: S3Client, bucket: str, has_time: Callable[[], bool]) -> int:
    """Delete all versions and delete markers; return how many were deleted.

    It lists the first page again after each batch rather than paginating, so objects written
    meanwhile (late access logs) are caught too. Raises RuntimeError if S3 refuses some deletes or
    time runs out.
    """
    deleted = 0
    while True:
        try:
            page = s3.list_object_versions(Bucket=bucket, MaxKeys=1000)
        except ClientError as err:
            if error_code(err) in _GONE:
                return deleted
            raise
        batch: list[ObjectIdentifierTypeDef] = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if not batch:
            return deleted
        if not has_time():
            raise RuntimeError(f"bucket {bucket}: out of time with object versions left")
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        errors = answer.get("Errors", [])
        deleted += len(batch) - len(errors)
        if errors:
            first = errors[0]
            raise RuntimeError(
                f"bucket {bucket}: {len(errors)} version(s) not deleted, e.g. {first.get('Key')} "
                f"({first.get('Code')}: {first.get('Message')})"
            )
