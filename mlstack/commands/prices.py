"""`mlstack prices`: the price table the stack ships; `mlstack prices refresh` rewrites it from AWS."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from contracts import prices
from contracts.instance_types import instance_type_problem
from contracts.prices import COMPONENTS, REFRESH_REGIONS, SERVICE_CODE, USES, PriceTable, Use
from mlstack.commands import error
from mlstack.tables import Rows, show

# The Price List API answers in these regions only; us-east-1 serves every region's prices.
PRICING_API_REGION = "us-east-1"
_CONTRACT_USE = {"training": "training", "hosting": "endpoint"}


class RefreshError(RuntimeError):
    """The Price List API cannot give the table: the message says why and what to do."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `prices` (and `prices refresh`) to the CLI."""
    parser = subparsers.add_parser(
        "prices",
        help="the on-demand prices the cost estimates use; refresh them from AWS",
        description="Show contracts/prices.json: hourly on-demand prices per region, use and instance type, "
        "with its date and sources. `refresh` rewrites it from the AWS Price List API (needs AWS "
        "credentials; redeploy the stack to ship the new table to its Lambdas).",
        allow_abbrev=False,
    )
    parser.add_argument("--region", help="only this region")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    actions = parser.add_subparsers(dest="prices_command", metavar="ACTION")
    refresh = actions.add_parser(
        "refresh", help="fetch the prices from the AWS Price List API", allow_abbrev=False
    )
    refresh.add_argument(
        "--regions",
        nargs="+",
        default=list(REFRESH_REGIONS),
        metavar="REGION",
        help=f"regions to price (default: {' '.join(REFRESH_REGIONS)})",
    )
    refresh.add_argument("--output", type=Path, default=prices.PRICES_FILE, help="file to write")
    parser.set_defaults(func=prices_command)


def table_rows(table: PriceTable, region: str | None) -> Rows:
    rows = [
        (name, use, instance_type, f"${price.usd_per_hour:g}", price.source)
        for name, by_use in sorted(table.regions.items())
        if region in (None, name)
        for use, by_type in by_use.items()
        for instance_type, price in sorted(by_type.items())
    ]
    return Rows(
        f"on-demand USD per instance-hour, as of {table.as_of} (other types: price unknown)",
        ("region", "use", "instance type", "per hour", "source"),
        rows,
    )


def allowed(found: dict[str, float], use: Use) -> dict[str, float]:
    """Only the types the stack's contracts let a run use this way (the table stays small)."""
    return {t: p for t, p in found.items() if instance_type_problem(t, _CONTRACT_USE[use]) is None}  # type: ignore[arg-type]


def _products(client: Any, region: str, use: Use) -> Iterable[str]:
    filters = [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
        {"Type": "TERM_MATCH", "Field": "component", "Value": COMPONENTS[use]},
    ]
    for page in client.get_paginator("get_products").paginate(ServiceCode=SERVICE_CODE, Filters=filters):
        yield from page.get("PriceList", [])


def check_components(client: Any) -> None:
    """The attribute values this reads must be AWS's: GetAttributeValues lists them."""
    values: set[str] = set()
    for page in client.get_paginator("get_attribute_values").paginate(
        ServiceCode=SERVICE_CODE, AttributeName="component"
    ):
        values |= {str(v.get("Value")) for v in page.get("AttributeValues", [])}
    missing = sorted(set(COMPONENTS.values()) - values)
    if missing:
        raise RefreshError(
            f"the Price List API's {SERVICE_CODE} 'component' values lack {', '.join(missing)} "
            f"(it lists {', '.join(sorted(values)[:20])}…); contracts/prices.py COMPONENTS needs updating"
        )


def fetch(client: Any, regions: Sequence[str]) -> dict[str, dict[Use, dict[str, float]]]:
    """Every allowed type's hourly price for each region and use."""
    check_components(client)
    fetched: dict[str, dict[Use, dict[str, float]]] = {}
    for region in regions:
        fetched[region] = {
            use: allowed(prices.parse_price_list(_products(client, region, use), region, use), use)
            for use in USES
        }
        if not any(fetched[region].values()):
            raise RefreshError(f"the Price List API has no SageMaker instance prices for region {region!r}")
    return fetched


def refresh(client: Any, regions: Sequence[str], output: Path) -> PriceTable:
    """Fetch, check and write the table; return it."""
    document = prices.refreshed_document(fetch(client, regions), datetime.now(UTC).date())
    table = prices.parse_table(document)  # the same checks as every reader's
    output.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    return table


def prices_command(args: argparse.Namespace) -> int:
    """Handle `mlstack prices` and `mlstack prices refresh`."""
    if args.prices_command == "refresh":
        import boto3

        try:
            client = boto3.client("pricing", region_name=PRICING_API_REGION)
            table = refresh(client, args.regions, args.output)
        except NoCredentialsError:
            error("prices refresh needs AWS credentials (the Price List API is AWS's, not the local AWS's)")
            return 1
        except (RefreshError, prices.PriceTableError) as err:
            error(str(err))
            return 1
        except (ClientError, BotoCoreError) as err:
            error(f"cannot read the AWS Price List API: {err}")
            return 1
        count = sum(len(t) for by_use in table.regions.values() for t in by_use.values())
        print(f"wrote {args.output}: {count} prices in {len(table.regions)} region(s), as of {table.as_of}")
        print("redeploy the stack (cdk deploy) so its handlers price runs with it")
        return 0
    table = prices.load()
    if args.json:
        print(prices.PRICES_FILE.read_text(), end="")
        return 0
    show(table_rows(table, args.region))
    for name, source in table.sources.items():
        print(f"source {name} ({source.get('date')}): {source.get('what')}")
    return 0
