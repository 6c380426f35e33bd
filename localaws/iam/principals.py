"""Who calls: session credentials for the roles the local AWS acts as, and the principal behind a key.

On AWS every caller signs with credentials of its own: Lambda hands a handler its execution role's
session, Step Functions calls services as the state machine's role, SageMaker works as the job's
RoleArn. Here the same sessions come from moto's STS, so a key maps back to its role.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from contracts.local_aws import ACCOUNT_ID, DUMMY_CREDENTIALS, REGION

ADMIN_ACCESS_KEY = DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"]
_PARTITION = "aws"


ADMINISTRATOR_ARN = f"arn:aws:iam::{ACCOUNT_ID}:root"


@dataclass(frozen=True)
class Principal:
    """The caller: a role session, an AWS service (events.amazonaws.com), or the account's administrator."""

    arn: str
    role_arn: str | None = None

    @property
    def is_administrator(self) -> bool:
        return self.arn == ADMINISTRATOR_ARN


ADMINISTRATOR = Principal(arn=ADMINISTRATOR_ARN)


@dataclass(frozen=True)
class SessionCredentials:
    """What a caller acting as a role signs with."""

    access_key_id: str
    secret_access_key: str
    session_token: str

    def as_environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


_sessions: dict[tuple[str, str], SessionCredentials] = {}
_principals: dict[str, Principal] = {}
_lock = threading.Lock()


def session_for(role_arn: str, session_name: str) -> SessionCredentials:
    """Credentials of a session of `role_arn` (one per role and name, reused: sessions are cheap to keep)."""
    from moto.sts.models import sts_backends

    key = (role_arn, session_name)
    with _lock:
        if key not in _sessions:
            role = sts_backends[ACCOUNT_ID][_PARTITION].assume_role(
                region_name=REGION,
                role_session_name=session_name[:64],
                role_arn=role_arn,
                policy="",
                duration=12 * 3600,
                external_id="",
            )
            _sessions[key] = SessionCredentials(
                role.access_key_id, role.secret_access_key, role.session_token
            )
        return _sessions[key]


def principal_of(access_key_id: str | None) -> Principal | None:
    """The principal that signs with `access_key_id`, or None for a key nobody was given."""
    if access_key_id == ADMIN_ACCESS_KEY:
        return ADMINISTRATOR
    if not access_key_id:
        return None
    if access_key_id in _principals:  # every request asks; moto's own look-up scans all sessions
        return _principals[access_key_id]
    from moto.sts.models import sts_backends

    assumed = sts_backends[ACCOUNT_ID][_PARTITION].get_assumed_role_from_access_key(access_key_id)
    if assumed is None:
        return None
    _principals[access_key_id] = Principal(arn=assumed.arn, role_arn=assumed.role_arn)
    return _principals[access_key_id]
