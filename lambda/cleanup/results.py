"""Results never lost: before a failed run's resources go, its leaderboard is saved to S3 (best effort)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from common.aws_errors import is_not_found
from common.leaderboard import build_leaderboard
from common.s3io import write_encrypted
from common.s3uri import S3Uri
from contracts.names import RunNames
from contracts.reports import report_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient


def leaderboard_uri(bucket: str, names: RunNames) -> S3Uri:
    """Where Evaluate writes the leaderboard, and where this writes it when Evaluate never ran."""
    return S3Uri(bucket, report_key(names.run_id, "leaderboard.json"))


def _exists(s3: S3Client, uri: S3Uri) -> bool:
    try:
        s3.head_object(Bucket=uri.bucket, Key=uri.key)
    except ClientError as err:
        if is_not_found(err):
            return False
        raise
    return True


def save_leaderboard(
    sm: SageMakerClient,
    s3: S3Client,
    *,
    run: Mapping[str, Any],
    names: RunNames,
    bucket: str,
    key_arn: str,
) -> str:
    """Write leaderboard.json unless it is there already; return a note. Never raises: cleanup goes on."""
    uri = leaderboard_uri(bucket, names)
    try:
        if _exists(s3, uri):
            return f"{uri} was already saved"
        # The names come from the execution (as for the deletes), never from the state.
        board = build_leaderboard(sm, {**run, "names": names.as_dict()})
        body = json.dumps(board, indent=2, default=str).encode()
        write_encrypted(s3, uri, body, "application/json", key_arn)
    except Exception as err:
        return f"leaderboard not saved ({type(err).__name__}: {err}); cleanup went on"
    entries = len(board["tuning"]["trials"]) + len(board["autopilot"]["candidates"])
    return f"saved {uri} ({entries} trial(s) and candidate(s))"
