"""How clients reach the embedded local AWS: the address, region, account and dummy credentials it serves."""

from __future__ import annotations

DEFAULT_PORT = 4566
# `localhost`, not 127.0.0.1: moto's CloudFormation resolves S3 template URLs path-style only for it.
HOST = "localhost"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


def endpoint_url(port: int) -> str:
    """The URL clients put in AWS_ENDPOINT_URL."""
    return f"http://{HOST}:{port}"


def client_env(port: int) -> dict[str, str]:
    """Environment that points the CDK CLI, boto3 and handlers at the local AWS."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url(port),
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **DUMMY_CREDENTIALS,
    }
