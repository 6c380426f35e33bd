"""`make demo` total after setup: local AWS, deploy, prepare, run, report, destroy, down."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import run_checked, timed, tool_env
from localaws import ports


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        # Its own local AWS and state dir, exactly as `mlstack demo` runs for a user, on a free port.
        env = {k: v for k, v in tool_env().items() if not k.startswith("AWS_")}
        env["MLSTACK_STATE_DIR"] = str(Path(tmp) / "state")
        command = [sys.executable, "-m", "mlstack.cli", "demo", "--port", str(ports.free_port())]
        command += ["--workdir", str(Path(tmp) / "demo")]
        seconds = timed(lambda: run_checked(command, env))
    return {"demo_s": round(seconds, 1), "demo_rows": 5000}
