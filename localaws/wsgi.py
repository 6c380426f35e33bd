"""WSGI plumbing the local AWS's front shares: the app type, a body read once, AWS's error answers."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]
_BODY = "localaws.body"


def body_of(environ: dict[str, Any]) -> bytes:
    """The request body, read from the socket once; later readers (the next gate, moto) get a copy."""
    if _BODY not in environ:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ[_BODY] = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(environ[_BODY])
    body: bytes = environ[_BODY]
    return body


def aws_error(start_response: Any, protocol: str, status: str, code: str, message: str) -> list[bytes]:
    """An error answer shaped as the service's protocol has it (json, query, rest-json, rest-xml)."""
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
