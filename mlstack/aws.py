"""Which AWS the CLI talks to: the real one (boto3's usual chain) or the local one (`--local`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import boto3

from contracts.local_aws import DEFAULT_PORT, REGION, client_env


@dataclass(frozen=True)
class Aws:
    """A client factory plus the environment a subprocess (the CDK CLI) needs to reach the same AWS."""

    env: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint_url(self) -> str | None:
        return self.env.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL") or None

    @property
    def is_local(self) -> bool:
        """Any endpoint override means a local AWS: real accounts never need one."""
        return self.endpoint_url is not None

    @property
    def region(self) -> str | None:
        return self.env.get("AWS_REGION") or boto3.session.Session().region_name

    @property
    def where(self) -> str:
        """Where its calls go, for messages: the endpoint, else the region."""
        return self.endpoint_url or f"region {self.region or '(none configured)'}"

    def client(self, service: str) -> Any:
        """A boto3 client; explicit settings only when `--local` chose them (else boto3's own chain)."""
        if not self.env:
            # A local endpoint without a region configured: the local AWS's own region, not an error.
            region = self.region or (REGION if self.is_local else None)
            return boto3.client(service, region_name=region)  # type: ignore[call-overload]
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=self.env["AWS_REGION"],
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )


def local_port() -> int:
    """The port of the local AWS `mlstack local up` started, else the default one."""
    from localaws import process  # the emulator only when a command asks for it

    running = process.status()
    return running.port if running else DEFAULT_PORT


def running_local_aws() -> Aws | None:
    """The local AWS if it answers (the one `mlstack local up` started, else one on the default port)."""
    from localaws import process  # the emulator only when a command asks for it

    port = local_port()
    return Aws(client_env(port)) if process.health(port) is not None else None


def connect(local: bool) -> Aws:
    """`--local`: the embedded local AWS with dummy credentials; else whatever the environment says."""
    return Aws(client_env(local_port())) if local else Aws()
