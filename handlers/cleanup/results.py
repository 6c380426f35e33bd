"""Results never lost: before an unfinished run's resources go, its leaderboard is saved to S3."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts.names import RunNames
from contracts.reports import report_key
from handlers.common.aws_errors import is_not_found
from handlers.common.leaderboard import build_leaderboard
from handlers.common.s3io import write_encrypted
from handlers.common.s3uri import S3Uri

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


def _described(describe: Any, **name: str) -> Mapping[str, Any] | None:
    try:
        description: Mapping[str, Any] = describe(**name)
    except ClientError as err:
        if is_not_found(err):
            return None
        raise
    return description


def objectives_of_jobs(sm: SageMakerClient, names: RunNames) -> Mapping[str, Any] | None:
    """The part of the run the leaderboard needs, read back from its jobs; None if neither job exists.

    An aborted or timed-out run reaches Cleanup through EventBridge, without the state ValidateInput built.
    """
    tuning = _described(sm.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName=names.tuning_job)
    automl = _described(sm.describe_auto_ml_job_v2, AutoMLJobName=names.automl_job)
    if tuning is None and automl is None:
        return None
    tuning_objective = (
        (tuning or {}).get("HyperParameterTuningJobConfig", {}).get("HyperParameterTuningJobObjective", {})
    )
    return {
        "tuning": {"config": {"HyperParameterTuningJobObjective": tuning_objective}},
        "autopilot": {"objective": (automl or {}).get("AutoMLJobObjective", {})},
    }


def save_leaderboard(
    sm: SageMakerClient,
    s3: S3Client,
    *,
    run: Mapping[str, Any] | None,
    names: RunNames,
    bucket: str,
    key_arn: str,
) -> str:
    """Write leaderboard.json unless it is there already; return a note. Never raises: cleanup goes on.

    Without the run's state (`run` None), the objectives are read from the jobs themselves.
    """
    uri = leaderboard_uri(bucket, names)
    try:
        if _exists(s3, uri):
            return f"{uri} was already saved"
        run = run if run is not None else objectives_of_jobs(sm, names)
        if run is None:
            return "no tuning or AutoML job was created: no leaderboard to save"
        # The names come from the execution (as for the deletes), never from the state.
        board = build_leaderboard(sm, {**run, "names": names.as_dict()})
        body = json.dumps(board, indent=2, default=str).encode()
        write_encrypted(s3, uri, body, "application/json", key_arn)
    except Exception as err:
        return f"leaderboard not saved ({type(err).__name__}: {err}); cleanup went on"
    entries = len(board["tuning"]["trials"]) + len(board["autopilot"]["candidates"])
    return f"saved {uri} ({entries} trial(s) and candidate(s))"
