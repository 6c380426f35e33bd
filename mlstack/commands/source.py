"""Pack a training script's directory as sourcedir.tar.gz and put it in the artifacts bucket, by content.

The archive is byte-for-byte the same for the same files (sorted entries, no times, owners or modes
beyond the executable bit), so its key, code/<sha256>/sourcedir.tar.gz, names its content: packing the
same directory again uploads nothing, and a run always trains what its key says.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from contracts.script_mode import REQUIREMENTS_FILE, source_key
from handlers.common.aws_errors import is_not_found

# What a source directory carries but a container needs not (SageMaker's SDK packs everything; these
# are caches and version control, never code).
SKIPPED = ("__pycache__", ".git", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache", ".DS_Store")
MAX_ARCHIVE_BYTES = 100 * 1024 * 1024  # a script's directory, not a dataset: say so before uploading


class SourceError(ValueError):
    """The entry point or its directory cannot be packed; the message says what to change."""


@dataclass(frozen=True)
class Source:
    """A packed source directory: its entry point (relative), archive, digest and what it holds."""

    entry_point: str
    archive: bytes
    digest: str
    files: tuple[str, ...]

    @property
    def key(self) -> str:
        return source_key(self.digest)

    @property
    def has_requirements(self) -> bool:
        return REQUIREMENTS_FILE in self.files


def _files(directory: Path) -> list[Path]:
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and not any(part in SKIPPED for part in path.relative_to(directory).parts)
    )


def pack(entry_point: Path) -> Source:
    """The entry point's directory as a deterministic sourcedir.tar.gz; SourceError when it cannot run."""
    if not entry_point.is_file():
        raise SourceError(f"--entry-point {entry_point}: no such file; give the script, e.g. DIR/train.py")
    directory = entry_point.resolve().parent
    files = _files(directory)
    buffer = io.BytesIO()
    # mtime=0 in the gzip header and the tar entries: the same files give the same bytes, so the same key.
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in files:
            info = tarfile.TarInfo(path.relative_to(directory).as_posix())
            data = path.read_bytes()
            info.size = len(data)
            info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            tar.addfile(info, io.BytesIO(data))
    archive = buffer.getvalue()
    if len(archive) > MAX_ARCHIVE_BYTES:
        raise SourceError(
            f"--entry-point {entry_point}: its directory {directory} packs to {len(archive) // 2**20} MiB; "
            "keep the script's directory to code (data comes through the dataset's channels)"
        )
    return Source(
        entry_point=entry_point.name,
        archive=archive,
        digest=hashlib.sha256(archive).hexdigest(),
        files=tuple(p.relative_to(directory).as_posix() for p in files),
    )


def upload(s3: Any, bucket: str, key_arn: str, source: Source) -> str:
    """Put the archive at its content key with the stack's KMS key (the bucket refuses any other);
    nothing is sent when it is there already. Returns its s3:// URI."""
    try:
        s3.head_object(Bucket=bucket, Key=source.key)
    except ClientError as err:
        if not is_not_found(err):
            raise
        s3.put_object(
            Bucket=bucket,
            Key=source.key,
            Body=source.archive,
            ContentType="application/gzip",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=key_arn,
        )
    return f"s3://{bucket}/{source.key}"
