"""The local AWS: one threaded HTTP server with moto (patched) plus the /_mlstack control routes."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from localaws import cfn_responses, children
from localaws.iam.authorizer import MODES, Mode
from localaws.settings import (
    CFN_RESPONSE_PREFIX,
    CHILD_MARKER_ENV,
    DEFAULT_PORT,
    HEALTH_PATH,
    HOST,
    IAM_MODE_ENV,
    SAGEMAKER_CONTROL_PREFIX,
    SERVICES,
    access_log_file,
    endpoint_url,
)
from localaws.wsgi import WsgiApp, body_of

LOG = logging.getLogger(__name__)


def _json(start_response: Any, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class Dispatcher:
    """Route /_mlstack/* to our handlers and everything else to moto's server app."""

    def __init__(self) -> None:
        self.port = 0
        self.started = time.time()
        self._moto: WsgiApp | None = None
        self._sagemaker_control: WsgiApp | None = None

    def bind(self, port: int, moto_app: WsgiApp, sagemaker_control: WsgiApp | None) -> None:
        self.port, self._moto, self._sagemaker_control = port, moto_app, sagemaker_control

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            return self._health(start_response)
        if self._moto is None:
            return _json(start_response, "503 Service Unavailable", {"status": "starting"})
        if path.startswith(CFN_RESPONSE_PREFIX):
            return self._cfn_response(environ, start_response, path[len(CFN_RESPONSE_PREFIX) :])
        if path.startswith(SAGEMAKER_CONTROL_PREFIX) and self._sagemaker_control is not None:
            environ = {
                **environ,
                "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + SAGEMAKER_CONTROL_PREFIX,
                "PATH_INFO": path[len(SAGEMAKER_CONTROL_PREFIX) :] or "/",
            }
            return self._sagemaker_control(environ, start_response)
        return self._moto(environ, start_response)

    def _health(self, start_response: Any) -> list[bytes]:
        ready = self._moto is not None
        body = {
            "status": "ready" if ready else "starting",
            "pid": os.getpid(),
            "port": self.port,
            "endpoint": endpoint_url(self.port),
            "uptime_s": round(time.time() - self.started, 1),
            "services": list(SERVICES),
            "sagemaker_control": self._sagemaker_control is not None,
        }
        return _json(start_response, "200 OK" if ready else "503 Service Unavailable", body)

    @staticmethod
    def _cfn_response(environ: dict[str, Any], start_response: Any, token: str) -> list[bytes]:
        if cfn_responses.deliver(token, body_of(environ)):
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        return _json(start_response, "404 Not Found", {"message": f"no custom resource waits for {token}"})


def configure_moto(port: int) -> WsgiApp:
    """Point moto at `port`, switch the interpreter on, apply every fix; return the SageMaker control app."""
    # Read by moto's ASL interpreter for its own service calls and by our Lambda runner.
    os.environ["MOTO_PORT"] = str(port)
    os.environ.setdefault(CHILD_MARKER_ENV, str(os.getpid()))
    # CDK's bootstrap roles attach AWS managed policies (ReadOnlyAccess, AdministratorAccess, ...).
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.core.config import default_user_config

    from localaws import patches, sagemaker

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    patches.apply_all()
    sagemaker.install()
    control: WsgiApp = sagemaker.control_app()
    return control


def moto_app(iam: Mode) -> WsgiApp:
    """moto's server behind what AWS checks first and moto does not: IAM, then request validation."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from localaws.iam import authorizer
    from localaws.iam.gate import authorizing
    from localaws.validation.gate import validating

    app: WsgiApp = validating(DomainDispatcherApplication(create_backend_app))
    return authorizing(app, authorizer.install(iam, access_log_file()))


def shutdown_children() -> None:
    """Stop what the local AWS started: SageMaker jobs/endpoints, then any remaining child."""
    from localaws import sagemaker

    try:
        sagemaker.shutdown()
    except Exception:
        LOG.exception("local SageMaker shutdown failed")
    children.shutdown()


class PortInUseError(RuntimeError):
    """The port is taken by another process."""


class LocalAws:
    """The local AWS in a background thread of this process (tests, e2e fixtures, `mlstack local up`)."""

    def __init__(self, port: int = DEFAULT_PORT, host: str = HOST, iam: Mode = "enforce") -> None:
        from moto.moto_server.werkzeug_app import MotoRequestHandler

        self.iam = iam
        self.dispatcher = Dispatcher()
        try:
            self._server: BaseWSGIServer = make_server(
                host, port, self.dispatcher, threaded=True, request_handler=MotoRequestHandler
            )
        except OSError as exc:
            raise PortInUseError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        self.port = int(self._server.server_port)
        self.url = endpoint_url(self.port)
        self._thread: threading.Thread | None = None

    def start(self) -> LocalAws:
        """Apply the fixes, then serve in a daemon thread; return self once requests are answered."""
        control = configure_moto(self.port)
        self.dispatcher.bind(self.port, moto_app(self.iam), control)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-aws", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Apply the fixes and serve in this thread until shutdown()."""
        control = configure_moto(self.port)
        self.dispatcher.bind(self.port, moto_app(self.iam), control)
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        shutdown_children()

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m localaws.server --port 4566`: serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--host", default=HOST)
    parser.add_argument(
        "--iam",
        choices=MODES,
        default=os.environ.get(IAM_MODE_ENV, "enforce"),
        help="enforce IAM (default), only log decisions (audit), or neither (off)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ[CHILD_MARKER_ENV] = str(os.getpid())
    try:
        local = LocalAws(port=args.port, host=args.host, iam=args.iam)
    except PortInUseError as exc:
        print(f"mlstack local: {exc}", file=sys.stderr)
        return 98

    def stop(signum: int, _frame: Any) -> None:
        # shutdown() blocks until serve_forever returns: call it from another thread.
        threading.Thread(target=local._server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    LOG.info("local AWS listening on %s (pid %d)", local.url, os.getpid())
    try:
        local.serve_forever()
    finally:
        shutdown_children()
        LOG.info("local AWS stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
