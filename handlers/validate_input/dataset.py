"""Where the dataset is and whether it is complete: URI shape, bucket, manifest, non-empty channels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts.dataset_layout import CHANNEL_NAMES, MANIFEST
from contracts.run import RunDataset
from handlers.common.aws_errors import error_code, is_not_found
from handlers.common.errors import InvalidInput
from handlers.common.s3io import list_objects, read_bytes
from handlers.common.s3uri import S3Uri, parse_s3_uri
from handlers.validate_input.manifest import Manifest, parse_manifest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DATASET_KEY = re.compile(r"^datasets/[^/]+/$")
_UPLOAD = "upload it with mlstack data prepare --upload"


@dataclass(frozen=True)
class Dataset:
    """A checked dataset: its root, manifest and the URI of each channel."""

    root: S3Uri
    manifest: Manifest
    channels: dict[str, S3Uri]

    def uris(self) -> RunDataset:
        """The run's `dataset` object: every channel prefix and the manifest as full s3:// URIs."""
        channels = {name: str(uri) for name, uri in self.channels.items()}
        return RunDataset(
            uri=str(self.root),
            train=channels["train"],
            validation=channels["validation"],
            test=channels["test"],
            test_raw=channels["test_raw"],
            autopilot=channels["autopilot"],
            manifest=str(self.root.join(MANIFEST)),
        )


def parse_dataset_uri(value: Any, data_bucket: str) -> S3Uri:
    """Check the `dataset` field: s3://<data bucket>/datasets/<name>/ (pure)."""
    example = f"s3://{data_bucket}/datasets/<name>/"
    try:
        uri = parse_s3_uri(value)
    except ValueError:
        raise InvalidInput(f"dataset: expected an s3:// URI such as {example}, got {value!r}") from None
    if uri.bucket != data_bucket:
        raise InvalidInput(f"dataset: {value} is outside the data bucket {data_bucket!r}; {_UPLOAD}")
    if uri.key and not uri.key.endswith("/"):
        raise InvalidInput(f"dataset: {value} must be a prefix ending in '/', such as {example}")
    if not DATASET_KEY.match(uri.key):
        raise InvalidInput(f"dataset: {value} is not a dataset prefix; expected {example} ({_UPLOAD})")
    return uri


def _s3_error(err: ClientError, what: str) -> InvalidInput:
    return InvalidInput(f"dataset: cannot read {what} ({error_code(err)}); check the URI or {_UPLOAD}")


def load_manifest(s3: S3Client, root: S3Uri) -> Manifest:
    """Read and check manifest.json below the dataset root."""
    uri = root.join(MANIFEST)
    try:
        body = read_bytes(s3, uri)
    except ClientError as err:
        if is_not_found(err):
            raise InvalidInput(f"dataset: no {MANIFEST} at {uri}; {_UPLOAD}") from None
        raise _s3_error(err, str(uri)) from err
    return parse_manifest(body)


def _has_data(s3: S3Client, prefix: S3Uri) -> bool:
    # The first few keys are enough: a channel holds one CSV file, maybe after a folder marker.
    return any(size > 0 and not key.endswith("/") for key, size in list_objects(s3, prefix, limit=20))


def check_dataset(s3: S3Client, value: Any, data_bucket: str) -> Dataset:
    """The dataset the input points at, with every channel present and non-empty."""
    root = parse_dataset_uri(value, data_bucket)
    manifest = load_manifest(s3, root)
    channels = {name: root.join(manifest.channels[name]) for name in CHANNEL_NAMES}
    for name, prefix in channels.items():
        try:
            present = _has_data(s3, prefix)
        except ClientError as err:
            raise _s3_error(err, str(prefix)) from err
        if not present:
            raise InvalidInput(f"dataset: channel {name!r} ({prefix}) is empty or missing; {_UPLOAD}")
    return Dataset(root, manifest, channels)
