"""Constants and paths of the embedded local AWS (port, region, dummy credentials, state dir)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PORT = 4566
# `localhost`, not 127.0.0.1: moto's CloudFormation resolves S3 template URLs path-style only for it.
HOST = "localhost"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
HEALTH_PATH = "/_mlstack/health"
SAGEMAKER_CONTROL_PREFIX = "/_mlstack/sagemaker"
CFN_RESPONSE_PREFIX = "/_mlstack/cfn-response/"
# Every process the local AWS spawns inherits this variable (value: the server's pid), so `down`
# can find and stop them even if they started their own process group.
CHILD_MARKER_ENV = "MLSTACK_LOCAL_AWS_PID"

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def endpoint_url(port: int) -> str:
    """The URL clients put in AWS_ENDPOINT_URL."""
    return f"http://{HOST}:{port}"


def state_dir() -> Path:
    """Where pid, log and caches live: `.mlstack/` in the project root (gitignored)."""
    override = os.environ.get("MLSTACK_STATE_DIR")
    return Path(override) if override else PROJECT_ROOT / ".mlstack"


def client_env(port: int) -> dict[str, str]:
    """Environment that points the CDK CLI, boto3 and handlers at the local AWS."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url(port),
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **DUMMY_CREDENTIALS,
    }


def moto_port() -> int:
    """The port moto's own service calls go back to (MOTO_PORT, set by the server before serving)."""
    from moto.settings import moto_server_port

    return int(moto_server_port())
