"""Upload a prepared dataset directory to an S3 prefix, manifest last."""

import re
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from contracts.dataset_layout import CHANNELS, FILES, MANIFEST
from training.errors import DatasetError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CONTENT_TYPES = {".csv": "text/csv", ".json": "application/json"}


def parse_s3_uri(uri: str, *, default_prefix: str) -> tuple[str, str]:
    """Split `s3://bucket/prefix/` into bucket and prefix (ending in '/'; empty means the default)."""
    match = re.fullmatch(r"s3://([^/]+)/?(.*)", uri)
    if match is None or not _BUCKET.match(match.group(1)):
        raise DatasetError(f"upload target {uri!r} must look like s3://<bucket>/datasets/<name>/")
    prefix = match.group(2).strip("/") or default_prefix.strip("/")
    return match.group(1), f"{prefix}/"


def _stale_keys(client: "S3Client", bucket: str, prefix: str, fresh: set[str]) -> list[str]:
    """Objects under the channel prefixes that this upload would not overwrite."""
    stale: list[str] = []
    paginator = client.get_paginator("list_objects_v2")
    for channel in CHANNELS.values():
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix + channel):
            stale.extend(o["Key"] for o in page.get("Contents", []) if o["Key"] not in fresh)
    return sorted(stale)


def upload_dataset(
    out_dir: Path, uri: str, *, default_prefix: str, s3_client: "S3Client | None" = None
) -> str:
    """Upload the layout under `out_dir` to `uri`; return the dataset's `s3://bucket/prefix/`."""
    bucket, prefix = parse_s3_uri(uri, default_prefix=default_prefix)
    client = s3_client or boto3.client("s3")
    relative = [*FILES.values(), MANIFEST]
    missing = [name for name in relative if not (out_dir / name).is_file()]
    if missing:
        raise DatasetError(f"{out_dir} is not a prepared dataset: {', '.join(missing)} missing")
    stale = _stale_keys(client, bucket, prefix, {prefix + name for name in relative})
    if stale:
        # Training reads every object under a channel prefix, so a leftover file would be trained on.
        raise DatasetError(
            f"s3://{bucket}/{prefix} already holds other files under its channels ({', '.join(stale[:5])}); "
            "delete them or upload to another prefix"
        )
    # The manifest goes last: a reader that finds it can trust the channels are complete.
    for name in relative:
        path = out_dir / name
        client.upload_file(
            str(path),
            bucket,
            prefix + name,
            ExtraArgs={"ContentType": _CONTENT_TYPES.get(path.suffix, "application/octet-stream")},
        )
    return f"s3://{bucket}/{prefix}"
