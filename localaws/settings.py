"""Constants and paths of the embedded local AWS (port, region, dummy credentials, state dir)."""

from __future__ import annotations

import os
from pathlib import Path

from contracts.local_aws import (
    ACCOUNT_ID,
    DEFAULT_PORT,
    DUMMY_CREDENTIALS,
    HOST,
    REGION,
    client_env,
    endpoint_url,
)

__all__ = ["ACCOUNT_ID", "DEFAULT_PORT", "DUMMY_CREDENTIALS", "HOST", "REGION", "client_env", "endpoint_url"]

HEALTH_PATH = "/_mlstack/health"
SAGEMAKER_CONTROL_PREFIX = "/_mlstack/sagemaker"
CFN_RESPONSE_PREFIX = "/_mlstack/cfn-response/"
# Every process the local AWS spawns inherits this variable (value: the server's pid), so `down`
# can find and stop them even if they started their own process group.
CHILD_MARKER_ENV = "MLSTACK_LOCAL_AWS_PID"
# The services the stack calls, by botocore name: what the local AWS serves (/_mlstack/health lists them).
SERVICES = (
    "s3",
    "iam",
    "sts",
    "ssm",
    "kms",
    "logs",
    "events",
    "sns",
    "sqs",
    "cloudformation",
    "lambda",
    "stepfunctions",
    "sagemaker",
    "sagemaker-runtime",
    "service-quotas",
)
# How the server treats IAM when no --iam flag says: enforce (default), audit or off.
IAM_MODE_ENV = "MLSTACK_LOCAL_IAM"

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def state_dir() -> Path:
    """Where pid, log and caches live: `.mlstack/` in the project root (gitignored)."""
    override = os.environ.get("MLSTACK_STATE_DIR")
    return Path(override) if override else PROJECT_ROOT / ".mlstack"


def moto_port() -> int:
    """The port moto's own service calls go back to (MOTO_PORT, set by the server before serving)."""
    from moto.settings import moto_server_port

    return int(moto_server_port())


def access_log_file() -> Path:
    """Every IAM decision of the local AWS, one JSON line each (`mlstack local access-log`)."""
    return state_dir() / "access-log.jsonl"
