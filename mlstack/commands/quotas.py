"""`mlstack quotas`: the SageMaker quotas a stage's runs need vs what this account has, how to get more."""

from __future__ import annotations

import argparse
import json

from botocore.exceptions import BotoCoreError, ClientError

from contracts.quotas import requirements
from handlers.check_quotas.lookup import QuotaTable, load_quotas
from mlstack.aws import connect
from mlstack.commands import error
from mlstack.quota_report import markdown, problems, quota_rows, quota_table, usage_of
from mlstack.stack import cdk_context, stage_config
from mlstack.tables import show
from stacks.config import ConfigError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `quotas` to the CLI."""
    parser = subparsers.add_parser(
        "quotas",
        help="SageMaker quotas a run needs vs applied in this account",
        description="For the stage's configuration, every SageMaker quota one run consumes (contracts/"
        "quotas.py), needed vs applied in this account (Service Quotas), and how to request more. "
        "Exit 1 when a quota is too low.",
        allow_abbrev=False,
    )
    parser.add_argument("--stage", help="cdk.json stage (default: cdk.json's 'stage')")
    parser.add_argument("--local", action="store_true", help="ask the embedded local AWS")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the rows as JSON")
    output.add_argument(
        "--markdown",
        action="store_true",
        help="print docs/QUOTAS.md for every stage (no AWS calls)",
    )
    parser.set_defaults(func=quotas_command)


def _table(client: object, names: list[tuple[str, ...]]) -> tuple[QuotaTable | None, str | None]:
    try:
        return load_quotas(client, names), None  # type: ignore[arg-type]
    except (ClientError, BotoCoreError) as err:
        return None, str(err)


def quotas_command(args: argparse.Namespace) -> int:
    """Handle `mlstack quotas`."""
    try:
        if args.markdown:
            stages = cdk_context()["stages"]
            print(markdown({name: stage_config(name) for name in stages}), end="")
            return 0
        config = stage_config(args.stage)
    except ConfigError as err:
        error(str(err))
        return 2
    aws = connect(bool(args.local))
    needs = requirements(usage_of(config))
    region = aws.region or "us-east-1"
    problem: str | None = None
    table: QuotaTable | None = None
    try:
        client = aws.client("service-quotas")
    except BotoCoreError as err:  # e.g. no region configured: every row says so
        problem = str(err)
    else:
        table, problem = _table(client, [n.names for n in needs])
    rows = quota_rows(needs, table, region)
    notes = problems(table, problem)
    if args.json:
        result = {
            "stage": config.stage,
            "region": region,
            "quotas": [r.as_dict() for r in rows],
            "problems": notes,
        }
        print(json.dumps(result, indent=2))
    else:
        show(quota_table(config.stage, rows))
        for note in notes:
            print(f"note: {note}")
        print("how to raise:")
        for row in rows:
            if row.ok is not True:
                print(f"- {row.quota}: {row.how_to_raise}")
    return 1 if any(r.ok is False for r in rows) else 0
