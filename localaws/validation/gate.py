"""Refuse malformed SageMaker, Step Functions and Service Quotas requests before moto sees them.

moto accepts almost anything (a 200-character execution name, an endpoint-only training instance
type), so without this gate a run could pass offline that AWS refuses on the first call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from typing import Any

from localaws.validation.model import refusal, service_model, validation_message
from localaws.validation.semantic import error_code, semantic_errors
from localaws.wsgi import WsgiApp, aws_error, body_of

# The JSON-protocol services the stack calls; each request names its operation in X-Amz-Target.
SERVICES = ("sagemaker", "stepfunctions", "service-quotas")


@cache
def _service_by_target_prefix() -> dict[str, str]:
    return {service_model(service).metadata["targetPrefix"]: service for service in SERVICES}


def refuse(target: str, body: bytes) -> tuple[str, str] | None:
    """AWS's (error code, message) for this request, or None when AWS would take it."""
    prefix, _, operation = target.partition(".")
    service = _service_by_target_prefix().get(prefix)
    if service is None or operation not in service_model(service).operation_names:
        return None  # not ours to judge: moto answers unknown operations itself
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return "SerializationException", "Unable to parse the request body as JSON"
    if not isinstance(params, dict):
        return "SerializationException", "Start of structure or map found where not expected."
    answer = refusal(service, operation, params)
    if answer is not None:
        return answer
    errors = semantic_errors(service, operation, params)
    if not errors:
        return None
    code = error_code(service, operation)
    message = validation_message(errors) if code == "ValidationException" else errors[0]
    assert message is not None
    return code, message


def validating(app: WsgiApp) -> WsgiApp:
    """`app` behind the gate: a refused request gets AWS's 400 answer and never reaches `app`."""

    def gate(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET")
        refused = refuse(target, body_of(environ)) if target else None
        if refused is None:
            return app(environ, start_response)
        code, message = refused
        return aws_error(start_response, "json", "400 Bad Request", code, message)

    return gate
