"""Which API call an HTTP request to the local AWS is: service, operation, parameters and caller's key.

The service comes from the SigV4 credential scope, the operation from botocore's model of that
service (X-Amz-Target for JSON services, `Action` for query services, method and URI template for
REST services), so the same models that build clients' requests read them back here.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel

from localaws.settings import SERVICES

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/[^/]+/([^/]+)/aws4_request")
_COPIES = {"CopyObject": "PutObject", "UploadPartCopy": "UploadPart"}
_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


@dataclass(frozen=True)
class ApiCall:
    """One request as IAM sees it: who (by access key), which operation, with which parameters."""

    service: str
    operation: str
    access_key: str | None
    params: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@cache
def _model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def protocol_of(service: str) -> str:
    """How the service speaks (json, query, rest-json, rest-xml), as botocore's model says."""
    return str(_model(service).metadata["protocol"])


@cache
def _services_by_signing_name() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for service in SERVICES:
        metadata = _model(service).metadata
        found.setdefault(metadata.get("signingName") or metadata["endpointPrefix"], []).append(service)
    return {name: tuple(services) for name, services in found.items()}


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    path: re.Pattern[str]
    labels: tuple[str, ...]  # member names, in the order of the path's groups
    query_keys: frozenset[str]  # literal query keys the URI template requires (S3's ?policy)
    specificity: int


def _route(operation: OperationModel) -> _Route:
    uri = operation.http["requestUri"]
    path, _, query = uri.partition("?")
    labels = []
    pattern = ""
    position = 0
    for match in _LABEL.finditer(path):
        pattern += re.escape(path[position : match.start()])
        pattern += "(.+)" if match.group(2) else "([^/]+)"
        labels.append(match.group(1))
        position = match.end()
    pattern += re.escape(path[position:])
    # S3 puts the bucket in the path; "/{Bucket}" also matches "/{Bucket}/" as clients send it.
    members = operation.input_shape.members if operation.input_shape else {}
    names = [_member_for_label(members, label) for label in labels]
    keys = frozenset(part.split("=")[0] for part in query.split("&") if part)
    literal = len(_LABEL.sub("", path))
    return _Route(
        operation.name,
        operation.http["method"],
        re.compile(f"^{pattern}/?$"),
        tuple(names),
        keys,
        literal * 10 + len(keys) * 100,
    )


def _member_for_label(members: Mapping[str, Any], label: str) -> str:
    for name, shape in members.items():
        if shape.serialization.get("location") == "uri" and shape.serialization.get("name") == label:
            return str(name)
    return label


@cache
def _routes(service: str) -> tuple[_Route, ...]:
    model = _model(service)
    routes = [_route(model.operation_model(name)) for name in model.operation_names]
    return tuple(sorted(routes, key=lambda route: -route.specificity))


def _rest(
    service: str, method: str, path: str, query: Mapping[str, str]
) -> tuple[str, dict[str, Any]] | None:
    for route in _routes(service):
        if route.method != method or not route.query_keys <= set(query):
            continue
        match = route.path.match(path)
        if match:
            labels = {
                name: urllib.parse.unquote(value)
                for name, value in zip(route.labels, match.groups(), strict=True)
            }
            return route.operation, labels
    return None


def _form(body: bytes) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def access_key_of(environ: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(access key id, signing name) from the SigV4 Authorization header or a presigned URL."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1), match.group(2)
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
    scope = query.get("X-Amz-Credential", "").split("/")
    return (scope[0], scope[3]) if len(scope) == 5 else (None, None)


def identify(environ: Mapping[str, Any], body: bytes) -> ApiCall | None:
    """The API call `environ` (with its already-read `body`) makes, or None if no model matches it."""
    access_key, signing_name = access_key_of(environ)
    if signing_name is None:
        return None
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    for service in _services_by_signing_name().get(signing_name, ()):
        model = _model(service)
        protocol = model.metadata["protocol"]
        operation: str | None = None
        params: dict[str, Any] = {}
        if protocol == "json" and target.startswith(model.metadata["targetPrefix"] + "."):
            operation = target.split(".", 1)[1]
            params = _json_body(body)
        elif protocol == "query":
            form = {**query, **(_form(body) if method == "POST" else {})}
            operation, params = form.get("Action"), form
        elif protocol in ("rest-json", "rest-xml"):
            found = _rest(service, method, path, query)
            if found:
                operation, labels = found
                params = {**query, **(_json_body(body) if protocol == "rest-json" else {}), **labels}
        if service == "s3" and operation in _COPIES and "x-amz-copy-source" not in headers:
            operation = _COPIES[operation]  # the same PUT, told apart by the copy-source header only
        if operation and operation in model.operation_names:
            return ApiCall(service, operation, access_key, params, headers, body)
    return None


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
