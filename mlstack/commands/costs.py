"""`mlstack costs`: the stack's runs with their cost and the total; the cost tables other commands print."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from contracts.costs import money
from mlstack.commands import error
from mlstack.stack import StackError, add_target_arguments, resolve
from mlstack.tables import Rows, show

_SINCE = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    """`7d`, `12h`, `2w` as a timedelta; ValueError saying what fits."""
    found = _SINCE.match(text.strip())
    if not found:
        raise ValueError(f"--since: expected a number with h, d or w such as 7d, got {text!r}")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


# --- tables (pure) ------------------------------------------------------------------------------------


def estimate_rows(doc: Mapping[str, Any]) -> Rows:
    """The bound line by line, then its total (marked incomplete when a price is unknown)."""
    rows = [
        (
            str(line["item"]),
            str(line.get("instance_type") or "-"),
            f"{line['instance_hours']:.2f}",
            money(line.get("usd_per_hour")),
            money(line.get("usd")),
            str(line["basis"]),
        )
        for line in doc["lines"]
    ]
    total = money(doc.get("total_usd")) + ("" if doc.get("complete") else " + unknown")
    rows.append(
        ("total", "", "", "", total, f"on demand in {doc['region']}, prices of {doc['prices_as_of']}")
    )
    return Rows(
        "upper bound of this run",
        ("part", "instance type", "instance-hours", "per hour", "at most", "how"),
        rows,
        frozenset({len(rows) - 1}),
    )


def estimate_notes(doc: Mapping[str, Any]) -> list[str]:
    """What the bound leaves out or assumes."""
    notes = [str(item) for item in doc.get("unknown") or []]
    if doc.get("spot_saving_up_to"):
        notes.append(
            f"managed spot: up to {float(doc['spot_saving_up_to']):.0%} less for the trials (AWS); "
            "the bound stays on demand"
        )
    notes.append(str(doc.get("minor")))
    return notes


def _partial(usd: Any, complete: Any) -> str:
    """An amount, marked when part of it has no price."""
    return money(usd) + ("" if complete or usd is None else " + unknown")


def bill_rows(doc: Mapping[str, Any], estimate: Mapping[str, Any] | None = None) -> Rows:
    """What the run cost: the jobs, the endpoint, each finalist, the total beside the bound."""
    rows: list[tuple[str, ...]] = []
    for kind in ("tuning", "autopilot"):
        part = doc.get(kind) or {}
        rows.append(
            (
                kind,
                f"{part.get('jobs', 0)} job(s), {float(part.get('instance_hours') or 0):.3f} instance-h",
                _partial(part.get("usd"), part.get("complete", True)),
            )
        )
    endpoint = doc.get("endpoint")
    if endpoint:
        span = "until deleted" if endpoint.get("final") else "until evaluated"
        rows.append(
            (
                "endpoint",
                f"{endpoint['instance_type']}, {endpoint['seconds']:.0f} s {span}",
                money(endpoint.get("usd")),
            )
        )
    for variant, entry in (doc.get("per_finalist") or {}).items():
        rows.append((f"finalist {variant}", f"{entry['kind']} jobs + its variant", money(entry.get("usd"))))
    total = money(doc.get("total_usd")) + ("" if doc.get("complete") else " + unknown")
    bound = f"bound {money(estimate.get('total_usd'))}" if estimate else ""
    rows.append(("total", bound, total))
    return Rows(
        "what this run cost (on-demand prices)", ("part", "what", "cost"), rows, frozenset({len(rows) - 1})
    )


def cost_summary_lines(
    cost: Mapping[str, Any] | None, endpoint_final: Mapping[str, Any] | None = None
) -> list[str]:
    """The few lines a finished run ends with: cost so far, bound, per finalist, the endpoint's final cost."""
    if not cost:
        return []
    actual, bound = cost.get("actual") or {}, cost.get("estimate") or {}
    unknown = "" if actual.get("complete") else " (+ unknown: " + "; ".join(actual.get("unknown") or []) + ")"
    lines = [
        f"cost: {money(actual.get('total_usd'))}{unknown} at on-demand prices in {actual.get('region')} "
        f"(bound {money(bound.get('total_usd'))})"
    ]
    finalists = actual.get("per_finalist") or {}
    if finalists:
        lines.append("per finalist: " + ", ".join(f"{v} {money(e.get('usd'))}" for v, e in finalists.items()))
    if endpoint_final and endpoint_final.get("usd") is not None:
        lines.append(
            f"endpoint until deleted: {money(endpoint_final.get('usd'))} "
            f"({float(endpoint_final.get('seconds') or 0):.0f} s InService)"
        )
    if cost.get("offline"):
        lines.append("offline run: what it would have cost on AWS at these instance types")
    return lines


# --- the command --------------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `costs` to the CLI."""
    parser = subparsers.add_parser(
        "costs",
        help="the stack's runs with what each cost, and the total",
        description="Read every run's evaluation.json in the artifacts bucket and list its cost (billable "
        "training time and endpoint time at on-demand prices) beside its bound, with the total.",
        allow_abbrev=False,
    )
    parser.add_argument("--since", default="30d", help="only runs reported in this window: 12h, 7d, 2w")
    add_target_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the runs as JSON")
    parser.set_defaults(func=costs_command)


def run_costs(s3: Any, bucket: str, since: datetime) -> list[dict[str, Any]]:
    """One entry per run reported since `since`: its id, when, cost and bound."""
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="reports/"):
        for item in page.get("Contents", []):
            key, modified = str(item["Key"]), item["LastModified"]
            if not key.endswith("/evaluation.json") or modified < since:
                continue
            document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            cost = document.get("cost") or {}
            actual, bound = cost.get("actual") or {}, cost.get("estimate") or {}
            found.append(
                {
                    "run_id": document.get("run_id") or key.split("/")[1],
                    "reported": modified.astimezone(UTC).isoformat(timespec="seconds"),
                    "usd": actual.get("total_usd"),
                    "complete": bool(actual.get("complete")),
                    "bound_usd": bound.get("total_usd"),
                    "region": actual.get("region"),
                }
            )
    return sorted(found, key=lambda r: str(r["reported"]))


def costs_rows(runs: list[dict[str, Any]], since: str) -> Rows:
    rows = [
        (
            str(r["run_id"]),
            str(r["reported"]),
            money(r["usd"]) + ("" if r["complete"] else " + unknown"),
            money(r["bound_usd"]),
        )
        for r in runs
    ]
    total = sum(float(r["usd"] or 0.0) for r in runs)
    partial = "" if all(r["complete"] for r in runs) else " + unknown"
    rows.append(("total", f"{len(runs)} run(s) in {since}", money(total) + partial, ""))
    return Rows(
        "runs and what they cost", ("run", "reported", "cost", "bound"), rows, frozenset({len(rows) - 1})
    )


def costs_command(args: argparse.Namespace) -> int:
    """Handle `mlstack costs`."""
    try:
        window = parse_since(args.since)
        target = resolve(args)
        runs = run_costs(
            target.aws.client("s3"), target.outputs["ArtifactsBucketName"], datetime.now(UTC) - window
        )
    except ValueError as err:
        error(str(err))
        return 2
    except StackError as err:
        error(str(err))
        return 1
    except (ClientError, BotoCoreError) as err:
        error(f"cannot read the reports: {err}")
        return 1
    if args.json:
        total = sum(float(r["usd"] or 0.0) for r in runs)
        print(json.dumps({"since": args.since, "runs": runs, "total_usd": round(total, 6)}, indent=2))
        return 0
    show(costs_rows(runs, args.since))
    if any(r["region"] is None for r in runs):
        print("note: runs reported before costs were recorded show as unknown")
    return 0
