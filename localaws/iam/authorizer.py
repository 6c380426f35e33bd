"""Authorize API calls as AWS does, with iam-simulate deciding and every decision in the access log.

One Authorizer serves the local AWS: the HTTP gate asks it about every request, and the local
SageMaker asks it before a job reads or writes S3 or uses a key as its execution role.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from contracts.local_aws import ACCOUNT_ID, REGION
from localaws.iam import policies
from localaws.iam.access_log import AccessLog, Entry
from localaws.iam.evaluator import (
    AccessRequest,
    ContextValue,
    Decision,
    InvalidAccessRequestError,
    PolicyEvaluator,
)
from localaws.iam.principals import Principal
from localaws.iam.rules import Check

Mode = Literal["enforce", "audit", "off"]
MODES: tuple[Mode, ...] = ("enforce", "audit", "off")


class AccessDeniedError(Exception):
    """A call AWS would refuse; the message is AWS's ("User: ... is not authorized to perform: ...")."""

    def __init__(self, message: str, action: str, resource: str) -> None:
        super().__init__(message)
        self.message, self.action, self.resource = message, action, resource


def _head(principal: str, check: Check) -> str:
    return f"User: {principal} is not authorized to perform: {check.action} on resource: {check.resource}"


def denial_message(principal: str, check: Check, decision: Decision) -> str:
    """AWS's wording of a denial, naming what was missing or what refused."""
    if decision.decision == "ExplicitlyDenied":
        where = "a resource-based" if "resource policy" in (decision.statement or "") else "an identity-based"
        return f"{_head(principal, check)} with an explicit deny in {where} policy"
    return f"{_head(principal, check)} because no identity-based policy allows the {check.action} action"


class Authorizer:
    """Decides, logs and (in enforce mode) refuses; `audit` decides and logs but never refuses."""

    def __init__(self, mode: Mode, log_path: Path) -> None:
        self.mode = mode
        self.log = AccessLog(log_path)
        self._evaluator = PolicyEvaluator() if mode != "off" else None

    def close(self) -> None:
        if self._evaluator is not None:
            self._evaluator.close()
        self.log.close()

    def authorize(self, principal: Principal, checks: Sequence[Check], call: str) -> None:
        """Log each check's decision; raise AccessDeniedError for the first refusal (enforce mode only)."""
        if self._evaluator is None:
            return
        # Read once per call: a call's checks (an S3 read and the KMS decrypt behind it) share them.
        identity = policies.identity_policies(principal.role_arn) if principal.role_arn else {}
        for check in checks:
            decision, statement, refusal = self._judge(principal, check, identity)
            self.log.write(Entry(principal.arn, check.action, check.resource, decision, statement, call))
            if refusal is not None and self.mode == "enforce":
                raise AccessDeniedError(refusal, check.action, check.resource)

    def _judge(
        self, principal: Principal, check: Check, identity: Mapping[str, str]
    ) -> tuple[str, str | None, str | None]:
        """(decision, deciding statement, AWS's refusal or None) for one check."""
        if principal.is_administrator:
            return "Administrator", None, None
        try:
            decision = self._decide(principal, check, identity)
        except InvalidAccessRequestError as error:
            # A check this emulator builds wrongly must never pass silently.
            reason = f"{_head(principal.arn, check)} (the local AWS cannot evaluate this check: {error})"
            return "Unevaluable", str(error), reason
        refusal = None if decision.allowed else denial_message(principal.arn, check, decision)
        return decision.decision, decision.statement, refusal

    def _decide(self, principal: Principal, check: Check, identity: Mapping[str, str]) -> Decision:
        assert self._evaluator is not None
        context: dict[str, ContextValue] = {
            "aws:SecureTransport": "true",  # SDKs call AWS over TLS; locally the same calls use plain HTTP
            "aws:ResourceAccount": ACCOUNT_ID,  # the local AWS has one account
            "aws:RequestedRegion": REGION,
        }
        if principal.role_arn:
            context |= {"aws:PrincipalArn": principal.role_arn, "aws:PrincipalAccount": ACCOUNT_ID}
        context |= check.context
        return self._evaluator.evaluate(
            AccessRequest(
                principal=principal.arn,
                action=check.action,
                resource=check.resource,
                account_id=ACCOUNT_ID,
                context=context,
                identity_policies=identity,
                resource_policy=None
                if check.resource_policy is None
                else policies.as_json(check.resource_policy),
            )
        )


_current: Authorizer | None = None
_lock = threading.Lock()


def install(mode: Mode, log_path: Path) -> Authorizer:
    """Make `mode` the local AWS's IAM for this process."""
    global _current
    with _lock:
        if _current is not None:
            _current.close()
        _current = Authorizer(mode, log_path)
        return _current


def current() -> Authorizer | None:
    """The installed Authorizer, None when IAM was never installed (unit tests of other parts)."""
    return _current
