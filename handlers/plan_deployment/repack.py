"""A script's model served with its code: the best trial's model.tar.gz plus the source under code/.

The model's container runs with network isolation, so it cannot fetch sagemaker_submit_directory from
S3; as the SageMaker SDK does for such a model, the source goes into the model archive and
SAGEMAKER_SUBMIT_DIRECTORY names /opt/ml/model/code (contracts.script_mode.serving_environment).
"""

from __future__ import annotations

import tarfile
import tempfile
from typing import IO, TYPE_CHECKING

from contracts.script_mode import SERVING_CODE_DIR
from handlers.common.s3uri import parse_s3_uri

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CODE = SERVING_CODE_DIR.rsplit("/", 1)[1]  # "code": the folder in the model archive
# Kept in memory up to this size, spooled to /tmp beyond it (Lambda's /tmp holds 512 MB by default).
SPOOL_BYTES = 64 * 1024 * 1024


def repacked_uri(output_path: str, training_job: str) -> str:
    """Where a best trial's repacked model goes: beside its own output, in the run's tuning outputs."""
    return str(parse_s3_uri(output_path).join(training_job).join("deploy/model.tar.gz"))


def combine(model: IO[bytes], source: IO[bytes], out: IO[bytes]) -> list[str]:
    """Write the model archive's members, then the source archive's under code/, as one tar.gz.

    A model member already under code/ gives way to the source's (the served code is the trained code).
    Returns the names written.
    """
    written: list[str] = []
    with tarfile.open(fileobj=out, mode="w:gz") as packed:
        with tarfile.open(fileobj=model, mode="r:*") as trained:
            for member in trained:
                name = member.name.removeprefix("./")
                if name == CODE or name.startswith(f"{CODE}/") or not (member.isfile() or member.isdir()):
                    continue
                member.name = name
                packed.addfile(member, trained.extractfile(member) if member.isfile() else None)
                written.append(name)
        with tarfile.open(fileobj=source, mode="r:*") as code:
            for member in code:
                if not (member.isfile() or member.isdir()):
                    continue
                member.name = f"{CODE}/{member.name.removeprefix('./')}"
                packed.addfile(member, code.extractfile(member) if member.isfile() else None)
                written.append(member.name)
    return written


def repack(s3: S3Client, model_data: str, source: str, target: str, key_arn: str) -> str:
    """Put model + code at `target` (s3://) with the stack's key; returns `target`."""
    model_uri, source_uri, target_uri = (parse_s3_uri(u) for u in (model_data, source, target))
    with (
        tempfile.SpooledTemporaryFile(SPOOL_BYTES) as model,
        tempfile.SpooledTemporaryFile(SPOOL_BYTES) as code,
        tempfile.SpooledTemporaryFile(SPOOL_BYTES) as out,
    ):
        s3.download_fileobj(model_uri.bucket, model_uri.key, model)
        s3.download_fileobj(source_uri.bucket, source_uri.key, code)
        model.seek(0)
        code.seek(0)
        combine(model, code, out)
        out.seek(0)
        s3.upload_fileobj(
            out,
            target_uri.bucket,
            target_uri.key,
            ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_arn},
        )
    return target
