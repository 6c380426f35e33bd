"""Authorize every request to the local AWS before moto sees it, answering denials as AWS does."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from localaws.iam import rules
from localaws.iam.authorizer import AccessDeniedError, Authorizer
from localaws.iam.calls import ApiCall, identify, protocol_of
from localaws.iam.principals import principal_of
from localaws.wsgi import WsgiApp, aws_error, body_of

# The error code each service answers a denial with; JSON services say AccessDeniedException.
_CODES = {
    "s3": "AccessDenied",
    "iam": "AccessDenied",
    "sts": "AccessDenied",
    "cloudformation": "AccessDenied",
    "sqs": "AccessDenied",
    "sns": "AuthorizationError",
}


def refuse(authorizer: Authorizer, call: ApiCall) -> tuple[str, str, str] | None:
    """(status, error code, message) AWS would refuse `call` with, or None to let it through."""
    principal = principal_of(call.access_key)
    if principal is None:
        if authorizer.mode != "enforce":
            return None
        message = "The security token included in the request is invalid."
        return "403 Forbidden", "UnrecognizedClientException", message
    try:
        authorizer.authorize(principal, rules.checks(call), f"{call.service}:{call.operation}")
    except AccessDeniedError as denied:
        return "403 Forbidden", _CODES.get(call.service, "AccessDeniedException"), denied.message
    return None


def authorizing(app: WsgiApp, authorizer: Authorizer) -> WsgiApp:
    """`app` behind IAM: a request AWS would refuse gets AWS's answer and never reaches `app`."""

    def gate(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        call = identify(environ, body_of(environ))
        refused = None if call is None else refuse(authorizer, call)
        if refused is None:
            return app(environ, start_response)
        status, code, message = refused
        assert call is not None
        return aws_error(start_response, protocol_of(call.service), status, code, message)

    return gate
