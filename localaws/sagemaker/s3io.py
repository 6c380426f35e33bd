"""Read and write moto's S3 directly (same process: no HTTP, works in server and in-process mode)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from localaws.iam.as_role import authorize_call
from localaws.iam.authorizer import AccessDeniedError

CHUNK_BYTES = 1 << 20


class S3Error(Exception):
    """An S3 location that cannot be read or written, with a message fit for a FailureReason."""


def split_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise S3Error(f"Invalid S3 URI '{uri}': it must start with s3://.")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _backend(account_id: str, region: str) -> Any:
    return s3_backends[account_id][get_partition(region)]


def _bucket(account_id: str, region: str, bucket: str) -> Any:
    try:
        return _backend(account_id, region).get_bucket(bucket)
    except Exception as err:  # moto raises MissingBucket
        raise S3Error(f"The specified bucket {bucket} does not exist.") from err


def _as(role: str | None, operation: str, headers: dict[str, str] | None = None, **params: Any) -> None:
    """Check the call IAM would check for the job's role; refusals read as S3's AccessDenied."""
    try:
        authorize_call(role, "s3", operation, params, headers or {})
    except AccessDeniedError as denied:
        raise S3Error(f"AccessDenied: {denied.message}") from denied


def list_keys(account_id: str, region: str, uri: str, role: str | None = None) -> list[str]:
    """Object keys under an S3 prefix (or the object itself), sorted, folder markers excluded."""
    bucket_name, prefix = split_uri(uri)
    _as(role, "ListObjectsV2", Bucket=bucket_name)
    bucket = _bucket(account_id, region, bucket_name)
    keys, _, _, _ = _backend(account_id, region).list_objects(bucket, prefix or None, None, None, None)
    return [k.name for k in keys if not k.name.endswith("/")]


def _object(account_id: str, region: str, uri: str, role: str | None) -> Any:
    """The object at `uri`, read as `role` (GetObject); S3Error if it does not exist."""
    bucket_name, key = split_uri(uri)
    _as(role, "GetObject", Bucket=bucket_name, Key=key)
    _bucket(account_id, region, bucket_name)
    obj = _backend(account_id, region).get_object(bucket_name, key)
    if obj is None:
        raise S3Error(f"The specified key {key} does not exist in bucket {bucket_name}.")
    return obj


def read(account_id: str, region: str, uri: str, role: str | None = None) -> bytes:
    return bytes(_object(account_id, region, uri, role).value)


def download(account_id: str, region: str, uri: str, target: Path, role: str | None = None) -> None:
    """Copy one object into `target` in chunks: a dataset is never held in memory whole on its way."""
    obj = _object(account_id, region, uri, role)
    # moto keeps an object in a spooled file behind `lock` (FakeKey.value reads it whole under it).
    with obj.lock, target.open("wb") as out:
        obj._value_buffer.seek(0)
        shutil.copyfileobj(obj._value_buffer, out, CHUNK_BYTES)


def download_prefix(
    account_id: str, region: str, uri: str, dest: Path, role: str | None = None
) -> list[Path]:
    """Copy every object under `uri` into `dest` (relative layout kept); return the files."""
    bucket_name, prefix = split_uri(uri)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for key in list_keys(account_id, region, uri, role):
        rel = key[len(prefix) :].lstrip("/") if prefix and key != prefix else Path(key).name
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        download(account_id, region, f"s3://{bucket_name}/{key}", target, role)
        written.append(target)
    return written


def write(
    account_id: str,
    region: str,
    uri: str,
    data: bytes,
    kms_key_id: str | None = None,
    role: str | None = None,
) -> None:
    bucket_name, key = split_uri(uri)
    sse = (
        {"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": kms_key_id}
        if kms_key_id
        else None
    )
    _as(role, "PutObject", sse, Bucket=bucket_name, Key=key)
    _bucket(account_id, region, bucket_name)
    _backend(account_id, region).put_object(
        bucket_name,
        key,
        data,
        encryption="aws:kms" if kms_key_id else None,
        kms_key_id=kms_key_id or None,
    )
