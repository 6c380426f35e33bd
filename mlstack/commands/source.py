"""Pack a training script's directory as sourcedir.tar.gz and put it in the artifacts bucket, by content.

The archive is byte-for-byte the same for the same files (sorted entries, no times, owners or modes
beyond the executable bit), so its key, code/<sha256>/sourcedir.tar.gz, names its content: packing the
same directory again uploads nothing, and a run always trains what its key says.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from contracts.script_mode import (
    FRAMEWORKS,
    REQUIREMENTS_FILE,
    ScriptModeError,
    decode,
    parse_metric,
    source_key,
)
from handlers.common.aws_errors import is_not_found
from mlstack.stack import Target

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


# --- `mlstack run --entry-point ...`: the flags and the input they make ---------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The script-mode flags of `mlstack run`."""
    group = parser.add_argument_group(
        "your own training script (SageMaker script mode; see examples/ and contracts/script_mode.py)"
    )
    group.add_argument(
        "--entry-point",
        type=Path,
        metavar="DIR/train.py",
        help="tune this script instead of built-in XGBoost: DIR is packed as sourcedir.tar.gz into the "
        "artifacts bucket; needs --metric and --tuning-ranges",
    )
    group.add_argument(
        "--framework", choices=sorted(FRAMEWORKS), help="the SageMaker container it runs in (default sklearn)"
    )
    group.add_argument(
        "--framework-version", metavar="V", help="the container's version (default: the one run offline)"
    )
    group.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="NAME=REGEX",
        help="a metric the script prints: REGEX's one group is its value, e.g. "
        "'validation:auc=validation:auc=([0-9.]+)' (repeatable; the first is the default objective)",
    )
    group.add_argument(
        "--objective-type",
        choices=("Maximize", "Minimize"),
        help="default: Minimize a metric named like a loss or an error, else Maximize",
    )
    group.add_argument(
        "--hyperparameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a static hyperparameter every trial passes the script (VALUE is JSON, else a string)",
    )


def _pairs(flag: str, items: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise SourceError(f"{flag}: expected NAME=VALUE, got {item!r}")
        found[name.strip()] = decode(text)
    return found


def script_input(
    args: argparse.Namespace, target: Target, say: Callable[[str], None] = print
) -> dict[str, Any] | None:
    """The execution input's `script` for --entry-point (its archive uploaded), None without it.

    SourceError when the flags cannot make one: script flags without --entry-point, no --metric.
    """
    entry_point: Path | None = getattr(args, "entry_point", None)
    if entry_point is None:
        given = [flag for flag, key in _SCRIPT_FLAGS.items() if getattr(args, key, None)]
        if given:
            raise SourceError(f"{', '.join(given)}: only with --entry-point, the script they are about")
        return None
    if not args.metric:
        raise SourceError(
            "--metric: a script run needs at least one NAME=REGEX, the metric tuning optimizes, e.g. "
            "--metric 'validation:auc=validation:auc=([0-9.]+)'"
        )
    try:
        metrics = [parse_metric(text) for text in args.metric]
    except ScriptModeError as err:
        raise SourceError(f"--metric: {err}") from None
    source = pack(entry_point)
    if source.has_requirements:
        say(f"note: {requirements_note(target.aws.is_local)}")
    key_arn = target.outputs.get("KeyArn")
    if not key_arn:
        raise SourceError(f"stack {target.name} lacks the KeyArn Output its artifacts bucket requires")
    uri = upload(target.aws.client("s3"), target.outputs["ArtifactsBucketName"], key_arn, source)
    say(f"source {entry_point.resolve().parent} ({len(source.files)} files) at {uri}")
    script: dict[str, Any] = {"entry_point": source.entry_point, "source": uri, "metrics": metrics}
    optional = {
        "framework": args.framework,
        "framework_version": args.framework_version,
        "objective_type": args.objective_type,
        "hyperparameters": _pairs("--hyperparameter", args.hyperparameter) or None,
    }
    script.update({key: value for key, value in optional.items() if value is not None})
    return script


def requirements_note(local: bool) -> str:
    """What the CLI says of a requirements.txt beside the script."""
    if local:
        return (
            f"{REQUIREMENTS_FILE} is not installed offline: the local SageMaker runs the script with this "
            "project's environment (scikit-learn, xgboost, numpy, pandas, scipy)"
        )
    return (
        f"SageMaker's container pip-installs {REQUIREMENTS_FILE} first, but this stack's jobs run with "
        "network isolation: only what the file names inside the source directory (e.g. wheels) installs"
    )


_SCRIPT_FLAGS = {
    "--framework": "framework",
    "--framework-version": "framework_version",
    "--metric": "metric",
    "--objective-type": "objective_type",
    "--hyperparameter": "hyperparameter",
}
