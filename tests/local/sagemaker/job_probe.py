"""A job for the fork server tests: `python -m tests.local.sagemaker.job_probe ACTION [ARG]`."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main(action: str, arg: str = "") -> int:
    if action == "state":
        import boto3

        credentials = boto3.Session().get_credentials()
        print(
            json.dumps(
                {
                    "env": dict(os.environ),
                    "cwd": str(Path.cwd()),
                    "argv": sys.argv[1:],
                    "stdin": sys.stdin.read(),
                    "preloaded": "xgboost" in sys.modules,
                    "project_preloaded": sorted(m for m in sys.modules if m.split(".")[0] == "training"),
                    "pgid": os.getpgid(0),
                    "pid": os.getpid(),
                    "key": credentials.access_key if credentials else None,
                    "sys_path": sys.path,
                    "gc": gc.isenabled(),
                }
            )
        )
        print("to stderr", file=sys.stderr)
        return 0
    if action == "exit":
        sys.exit(int(arg))
    if action == "raise":
        raise RuntimeError("the probe failed")
    if action == "signal":
        os.kill(os.getpid(), int(arg))
    if action == "grandchild":
        # Sleeps in the job's group; the job (as its leader) sleeps too until killed.
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print(child.pid, flush=True)
        if arg == "leave":
            return 0  # the leader exits, leaving the sleeper behind in its group
        time.sleep(600)
    return 2


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
