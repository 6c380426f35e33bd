"""Authorize every request to the local AWS before moto sees it, answering denials as AWS does."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from localaws.iam import rules
from localaws.iam.authorizer import AccessDeniedError, Authorizer
from localaws.iam.calls import ApiCall, identify, protocol_of
from localaws.iam.principals import principal_of

WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]
# The error code each service answers a denial with; JSON services say AccessDeniedException.
_CODES = {
    "s3": "AccessDenied",
    "iam": "AccessDenied",
    "sts": "AccessDenied",
    "cloudformation": "AccessDenied",
    "sqs": "AccessDenied",
    "sns": "AuthorizationError",
}


def _answer(start_response: Any, service: str, code: str, message: str, status: str) -> list[bytes]:
    protocol = protocol_of(service)
    if protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>".encode()
        headers = [("Content-Type", "application/xml")]
    elif protocol == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{escape(message)}</Message></Error></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml")]
    else:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]


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
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # read once here, again by moto
        call = identify(environ, body)
        refused = None if call is None else refuse(authorizer, call)
        if refused is None:
            return app(environ, start_response)
        status, code, message = refused
        assert call is not None
        return _answer(start_response, call.service, code, message, status)

    return gate
