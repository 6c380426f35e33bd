"""Parsing and building `s3://bucket/key` URIs."""

from __future__ import annotations

from dataclasses import dataclass

_SCHEME = "s3://"


@dataclass(frozen=True)
class S3Uri:
    """A bucket and a key (or key prefix)."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"{_SCHEME}{self.bucket}/{self.key}"

    def join(self, relative: str) -> S3Uri:
        """The URI of `relative` below this prefix (this key is taken as a folder)."""
        base = self.key if not self.key or self.key.endswith("/") else f"{self.key}/"
        return S3Uri(self.bucket, f"{base}{relative.lstrip('/')}")


def parse_s3_uri(uri: str) -> S3Uri:
    """Split an `s3://bucket/key` URI; raise ValueError when it is not one."""
    if not isinstance(uri, str) or not uri.startswith(_SCHEME):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[len(_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} has no bucket name")
    return S3Uri(bucket, key)
