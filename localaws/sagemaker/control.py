"""The control WSGI app (mounted at /_mlstack/sagemaker): fault injection and a state listing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from localaws.sagemaker import faults, procs
from localaws.sagemaker.common import json_safe
from localaws.sagemaker.models import local_sagemaker_backends

PREFIX = "/_mlstack/sagemaker"
StartResponse = Callable[..., Any]


def state() -> dict[str, Any]:
    """Live jobs, endpoints and server processes across every account and region."""
    out: dict[str, list[dict[str, Any]]] = {
        "training_jobs": [],
        "tuning_jobs": [],
        "automl_jobs": [],
        "endpoints": [],
    }
    for account_id, regions in list(local_sagemaker_backends.items()):
        for region, backend in list(regions.items()):
            where = {"account": account_id, "region": region}
            out["training_jobs"] += [{**where, **t.summary()} for t in backend.training_jobs.all()]
            out["tuning_jobs"] += [{**where, **h.summary()} for h in backend.tuning_jobs.all()]
            out["automl_jobs"] += [{**where, **a.summary()} for a in backend.automl_jobs.all()]
            for e in backend.endpoints.all():
                servers = {n: {"port": s.port, "pid": s.proc.pid} for n, s in e.servers.items()}
                out["endpoints"].append({**where, **e.summary(), "variants": servers})
    return {
        **json_safe(out),
        "processes": procs.live(),
        "fork_server": procs.fork_server().describe(),
        "faults": faults.snapshot(),
    }


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "") or "/"
    if path.startswith(PREFIX):
        path = path[len(PREFIX) :] or "/"
    method = environ.get("REQUEST_METHOD", "GET")
    try:
        status, body = _route(method, path.rstrip("/") or "/", environ)
    except ValueError as err:
        status, body = "400 Bad Request", {"message": str(err)}
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _route(method: str, path: str, environ: dict[str, Any]) -> tuple[str, Any]:
    if path == "/faults" and method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b"{}"
        spec = json.loads(raw or b"{}")
        if not isinstance(spec, dict):
            raise ValueError("the fault spec must be a JSON object")
        return "200 OK", faults.add(spec)
    if path == "/faults" and method == "DELETE":
        faults.clear()
        return "200 OK", faults.snapshot()
    if path == "/faults" and method == "GET":
        return "200 OK", faults.snapshot()
    if path == "/quotas":
        return _quotas(method, environ)
    if path == "/state" and method == "GET":
        return "200 OK", state()
    return "404 Not Found", {"message": f"no route {method} {path}; see localaws.sagemaker docs"}


def _quotas(method: str, environ: dict[str, Any]) -> tuple[str, Any]:
    """Applied SageMaker Service Quotas: POST {"name", "value"} sets one, DELETE resets, GET lists."""
    from localaws.patches import service_quotas_sagemaker as quotas

    if method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        spec = json.loads(environ["wsgi.input"].read(length) if length else b"{}")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise ValueError('the quota spec must be {"name": "<quota name>", "value": <number>}')
        try:
            value = float(spec["value"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"value: expected a number, got {spec.get('value')!r}") from None
        return "200 OK", quotas.set_applied(spec["name"], value)
    if method == "DELETE":
        quotas.reset()
        return "200 OK", quotas.overrides()
    if method == "GET":
        return "200 OK", quotas.overrides()
    return "405 Method Not Allowed", {"message": f"{method} /quotas is not supported"}
