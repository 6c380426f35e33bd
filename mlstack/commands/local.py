"""`mlstack local up|down|status`: the embedded local AWS as a background service."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from contracts.local_aws import DEFAULT_PORT, client_env


def register(subparsers: Any) -> None:
    """Add `local` and its subcommands to the CLI's subparsers (argparse)."""
    local = subparsers.add_parser("local", help="run the embedded local AWS (moto + local SageMaker)")
    commands = local.add_subparsers(dest="local_command", required=True)
    up = commands.add_parser("up", help="start it in the background and wait until it is ready")
    up.add_argument("--port", type=int, default=DEFAULT_PORT)
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for readiness")
    up.set_defaults(func=run_up)
    down = commands.add_parser("down", help="stop it and every process it started")
    down.set_defaults(func=run_down)
    status = commands.add_parser("status", help="print its URL, pid and uptime")
    status.set_defaults(func=run_status)


def run_up(args: argparse.Namespace) -> int:
    from localaws import process

    try:
        started = process.up(port=args.port, timeout=args.timeout)
    except process.LocalAwsError as exc:
        print(f"mlstack local up: {exc}", file=sys.stderr)
        return 1
    print(f"local AWS ready at {started.url} (pid {started.pid}, log {started.log})")
    print("use it with:")
    for key, value in client_env(started.port).items():
        print(f"  export {key}={value}")
    return 0


def run_down(args: argparse.Namespace) -> int:
    from localaws import process

    pid = process.down()
    print("local AWS is not running" if pid is None else f"local AWS stopped (pid {pid})")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from localaws import process

    running = process.status()
    if running is None:
        print("local AWS is not running")
        return 3  # like `systemctl status`: not running is not an error of this command
    ready = process.health(running.port) is not None
    print(
        f"{running.url}  pid {running.pid}  up {running.uptime_s:.0f} s  {'ready' if ready else 'NOT ready'}"
    )
    print(f"log: {running.log}")
    return 0 if ready else 1
