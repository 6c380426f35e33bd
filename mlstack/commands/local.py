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
    up.add_argument(
        "--no-iam",
        dest="iam",
        action="store_const",
        const="off",
        default="enforce",
        help="do not enforce IAM (by default every request is authorized as AWS would)",
    )
    up.set_defaults(func=run_up)
    down = commands.add_parser("down", help="stop it and every process it started")
    down.add_argument(
        "--port", type=int, help="the port it was started on; refused if it runs on another (default: any)"
    )
    down.set_defaults(func=run_down)
    status = commands.add_parser("status", help="print its URL, pid and uptime")
    status.set_defaults(func=run_status)
    log = commands.add_parser("access-log", help="print its IAM decisions: who did what to which resource")
    log.add_argument("--denied", action="store_true", help="only the refused requests")
    log.add_argument("--json", action="store_true", help="one JSON object per line")
    log.set_defaults(func=run_access_log)


def run_up(args: argparse.Namespace) -> int:
    from localaws import process

    try:
        started = process.up(port=args.port, timeout=args.timeout, iam=args.iam)
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

    # As `up --port` does, a port that is not the running one's is refused rather than ignored.
    running = process.status()
    if args.port is not None and running is not None and running.port != args.port:
        print(
            f"mlstack local down: the local AWS runs on port {running.port} (pid {running.pid}), not on "
            f"{args.port}; run down with --port {running.port} or without --port",
            file=sys.stderr,
        )
        return 1
    if args.port is not None and running is None and process.health(args.port) is not None:
        print(
            f"mlstack local down: a local AWS answers on port {args.port} but `mlstack local up` did not "
            f"start it from this state directory ({process.pid_file().parent}); stop it where it was "
            "started (a test, a demo, or another MLSTACK_STATE_DIR)",
            file=sys.stderr,
        )
        return 1
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


def run_access_log(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from localaws.iam.access_log import read
    from localaws.settings import access_log_file

    for entry in read(access_log_file()):
        if args.denied and not entry.denied:
            continue
        if args.json:
            print(json.dumps(asdict(entry)))
        else:
            why = f"  ({entry.statement})" if entry.statement else ""
            print(f"{entry.decision:<16} {entry.principal}  {entry.action}  {entry.resource}{why}")
    return 0
