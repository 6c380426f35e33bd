"""`mlstack sweep`: delete endpoints, configs and models of a stack that no running execution owns."""

from __future__ import annotations

import argparse
import json

from botocore.exceptions import BotoCoreError, ClientError

from handlers.common.errors import EndpointNotDeletable
from handlers.common.stack_resources import running_runs
from mlstack.commands import error
from mlstack.orphans import DESCRIPTION, RULE, decide, delete, tagged
from mlstack.stack import StackError, add_target_arguments, resolve
from mlstack.tables import Rows, show


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `sweep` to the CLI."""
    parser = subparsers.add_parser(
        "sweep",
        help="find and delete orphaned endpoints, endpoint configs and models",
        description="List the endpoints, endpoint configs and models tagged mlstack:stack=<stack> and "
        f"delete those no RUNNING execution owns (by their mlstack:run tag or derived name; rule: {RULE}). "
        "Idempotent. "
        "Kept endpoints (keep_endpoint) are orphans too once their run ended: sweep deletes them.",
        allow_abbrev=False,
    )
    add_target_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    parser.add_argument(
        "--wait", type=float, default=600.0, help="seconds to wait for a busy endpoint (default 600)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    """Handle `mlstack sweep`."""
    try:
        target = resolve(args)
        sm, sfn = target.aws.client("sagemaker"), target.aws.client("stepfunctions")
        running = running_runs(
            sfn, name_prefix=target.name_prefix, state_machine_arn=target.state_machine_arn
        )
        decisions = decide(tagged(sm, target.name), running)
    except StackError as err:
        error(str(err))
        return 1
    except (ClientError, BotoCoreError) as err:
        error(f"cannot list the stack's resources: {err}")
        return 1
    results: list[dict[str, str | None]] = []
    failed = False
    for decision in decisions:
        r = decision.resource
        action = "kept" if not decision.delete else "would delete" if args.dry_run else ""
        if not action:
            try:
                action = delete(sm, r, args.wait)
            except (ClientError, BotoCoreError, EndpointNotDeletable) as err:
                action, failed = f"failed: {err}", True
        results.append(
            {"kind": r.kind, "name": r.name, "run": r.run_id, "action": action, "why": decision.reason}
        )
    if args.json:
        doc = {"stack": target.name, "rule": str(RULE), "dry_run": args.dry_run, "resources": results}
        print(json.dumps(doc, indent=2))
    else:
        _print_table(target.name, results)
    return 1 if failed else 0


def _print_table(stack: str, results: list[dict[str, str | None]]) -> None:
    print(f"rule: {RULE} - {DESCRIPTION}")
    if not results:
        print(f"nothing to sweep: no endpoint, endpoint config or model is tagged mlstack:stack={stack}")
        return
    rows = [
        (str(x["kind"]), str(x["name"]), str(x["run"] or "-"), str(x["action"]), str(x["why"]))
        for x in results
    ]
    show(Rows(f"sweep of {stack}", ("kind", "name", "run", "action", "why"), rows))
