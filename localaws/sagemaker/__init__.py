"""Local SageMaker: real training, tuning, AutoML and endpoints on top of moto.

Entry points for the local AWS server:
- `install()`: patch moto in-process (idempotent): SageMaker/Runtime actions, Step Functions integration,
  through localaws.patches._patching (a moto change fails loudly; `revert_all()` undoes it all).
- `control_app()`: WSGI app mounted under `/_mlstack/sagemaker`:
    POST   /faults  {"fail": "training|tuning|automl|endpoint|invocation", "reason": "...", "count": N}
                    the next N (default: all, until cleared) such jobs/endpoints/InvokeEndpoint calls
                    fail with that reason (invocations as ModelError);
                    {"error": "<Code>", "action": "<Action>", "count": N}: that API action answers
                    that error N times (codes in faults.API_ERRORS; {"throttle": "<Action>"} is short
                    for ThrottlingException);
                    {"delay_endpoint_s": S}: endpoints stay Creating S seconds longer.
    DELETE /faults  clear all faults;  GET /faults  the active faults.
    POST   /quotas  {"name": "<SageMaker quota name>", "value": N}: set its applied value (Service Quotas);
    DELETE /quotas  back to the defaults;  GET /quotas  the overrides.
    GET    /state   live training, tuning and AutoML jobs, endpoints with their variant servers, processes,
                    the fork server that starts them (pid, threads when it forks, preload seconds).
- `shutdown()`: stop every job and model server this process started (call on exit).
"""

from __future__ import annotations

import atexit
import threading
import warnings
from collections.abc import Callable, Iterable
from typing import Any

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Apply every local SageMaker patch to moto (idempotent)."""
    global _installed
    with _lock:
        from localaws.sagemaker import api, procs, sfn_integration

        # These are not in SageMaker's error shapes (AWS returns them all the same).
        warnings.filterwarnings(
            "ignore", message=r"Exception\((ThrottlingException|AccessDeniedException|ValidationException)\)"
        )
        api.install()
        sfn_integration.install()
        procs.warm_up()  # its imports run while the caller goes on; the first job finds it ready
        if not _installed:
            atexit.register(shutdown)
            _installed = True


def control_app() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """The WSGI app for `/_mlstack/sagemaker` (faults and state)."""
    from localaws.sagemaker import control

    return control.app


def shutdown() -> None:
    """Stop all jobs and endpoint servers: no process is left behind."""
    from localaws.sagemaker import procs

    procs.kill_all()
