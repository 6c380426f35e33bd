"""Small S3 reads and KMS-encrypted writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from handlers.common.s3uri import S3Uri

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def read_bytes(s3: S3Client, uri: S3Uri) -> bytes:
    """The body of one object."""
    return s3.get_object(Bucket=uri.bucket, Key=uri.key)["Body"].read()


def list_objects(s3: S3Client, prefix: S3Uri, limit: int | None = None) -> Iterator[tuple[str, int]]:
    """(key, size) of the objects below a prefix, in key order; at most `limit` when given."""
    seen = 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=prefix.bucket, Prefix=prefix.key):
        for item in page.get("Contents", []):
            yield item["Key"], int(item.get("Size", 0))
            seen += 1
            if limit is not None and seen >= limit:
                return


def data_files(s3: S3Client, prefix: S3Uri) -> list[S3Uri]:
    """The non-empty objects below a prefix (folder markers skipped), in key order."""
    listed = list_objects(s3, prefix)
    return [S3Uri(prefix.bucket, key) for key, size in listed if size > 0 and not key.endswith("/")]


def write_encrypted(s3: S3Client, uri: S3Uri, body: bytes, content_type: str, key_arn: str) -> None:
    """Write one object encrypted with the stack's KMS key."""
    s3.put_object(
        Bucket=uri.bucket,
        Key=uri.key,
        Body=body,
        ContentType=content_type,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn,
    )
