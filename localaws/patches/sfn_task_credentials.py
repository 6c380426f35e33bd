"""moto's state machine tasks sign every call with one made-up key; AWS calls as the state machine's role.

Each task's client now signs with a session of the role its StateCredentials name (the state
machine's role, or the task's own Credentials), so IAM judges those calls as it would on AWS.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from localaws.patches._patching import replace

_SOURCE = "moto.stepfunctions.parser.asl.utils.boto_client"
SESSION_NAME = "StepFunctions"


def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port

    from localaws.iam.principals import ADMIN_ACCESS_KEY, session_for

    role_arn = getattr(state_credentials, "role_arn", None)
    keys: tuple[str, str, str | None]
    if role_arn:
        session = session_for(role_arn, SESSION_NAME)
        keys = (session.access_key_id, session.secret_access_key, session.session_token)
    else:
        keys = (ADMIN_ACCESS_KEY, ADMIN_ACCESS_KEY, None)
    # In server mode: back to this server, as moto does.
    endpoint = None if botocore_stubber.enabled else f"http://localhost:{moto_server_port()}"
    return _client(service, region, keys, endpoint)


@functools.lru_cache(maxsize=64)
def _client(service: str, region: str, keys: tuple[str, str, str | None], endpoint: str | None) -> Any:
    """One client per service, region, signer and endpoint, shared by every task (boto3's clients are
    thread-safe): making one per call cost each task tens of milliseconds, a Map's iterations more."""
    import boto3
    from botocore.config import Config
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    access_key_id, secret_access_key, session_token = keys
    return boto3.client(  # type: ignore[call-overload]
        service_name=service,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token,
        endpoint_url=endpoint,
        config=Config(
            parameter_validation=False,
            retries={"max_attempts": 0, "total_max_attempts": 1},
            connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
            read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
        ),
    )


def apply() -> None:
    import importlib

    source = importlib.import_module(_SOURCE)
    replace(source, "boto_client_for", boto_client_for, expects=["region", "service", "state_credentials"])
    # Modules that imported the function before this patch hold their own reference to it.
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) not in (
            None,
            boto_client_for,
        ):
            replace(module, "boto_client_for", boto_client_for)
