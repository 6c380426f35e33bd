"""`mlstack data prepare`: turn a dataset or a CSV into the channel layout the pipeline trains on."""

import argparse
import json
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from contracts.dataset_layout import EXPLORATION_HTML
from mlstack.commands import error, tty_console
from training.tuning_ranges import PROBLEM_TYPES

# The same names as training.datasets.BUILTIN (a test checks), without importing pandas for --help.
BUILTIN_DATASETS = ("bank", "breast_cancer", "digits", "diabetes", "friedman", "imbalanced")
DEFAULT_SEED = 42


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `data prepare` to the CLI."""
    data = subparsers.add_parser("data", help="prepare datasets for the pipeline", allow_abbrev=False)
    actions = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    prepare = actions.add_parser(
        "prepare",
        help="explore, split 70/15/15, encode and write train/ validation/ test/ test-raw/ autopilot/ "
        "manifest.json exploration.json exploration.html",
        description="Prepare a dataset: an exploration of the raw columns (exploration.json and a "
        "self-contained exploration.html, with warnings), seeded stratified split, one-hot encoding, the "
        "channel layout and manifest.json the state machine reads; optionally upload it all to S3.",
        allow_abbrev=False,
    )
    prepare.add_argument(
        "source", metavar="DATASET", help=f"{', '.join(BUILTIN_DATASETS)} or the path of a CSV file"
    )
    prepare.add_argument(
        "--target", help="the column to predict (default: the dataset's own; needed for a CSV)"
    )
    prepare.add_argument(
        "--rows",
        type=_positive_int,
        help="rows to generate (bank, default 41188) or to sample (other datasets)",
    )
    prepare.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"seed for data and split (default {DEFAULT_SEED})"
    )
    prepare.add_argument("--problem-type", choices=PROBLEM_TYPES, help="default: inferred from the target")
    prepare.add_argument("--out", type=Path, help="output directory (default: datasets/<name>)")
    prepare.add_argument(
        "--upload", metavar="S3_URI", help="also upload, e.g. s3://<data-bucket>/datasets/<name>/"
    )
    prepare.add_argument("--json", action="store_true", help="print the result as JSON")
    prepare.set_defaults(func=run_prepare)


def run_prepare(args: argparse.Namespace) -> int:
    """Handle `mlstack data prepare`."""
    # Imported here so `mlstack --help` and the other commands do not pay for pandas and scikit-learn.
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    from training.datasets import load_dataset
    from training.errors import DatasetError
    from training.prepare_data import prepare

    try:
        dataset = load_dataset(args.source, rows=args.rows, seed=args.seed)
        out_dir = args.out or Path("datasets") / dataset.name
        prepared = prepare(
            dataset,
            out_dir,
            target=args.target,
            seed=args.seed,
            problem_type=args.problem_type,
            upload=args.upload,
        )
    except DatasetError as exc:
        error(str(exc))
        return 2
    except (BotoCoreError, ClientError, Boto3Error) as exc:
        error(f"upload to {args.upload} failed: {exc}")
        return 1
    result = {
        "out_dir": str(prepared.out_dir),
        "uri": prepared.uri,
        "manifest": prepared.manifest,
        "exploration": str(prepared.out_dir / EXPLORATION_HTML),
        "warnings": prepared.exploration["warnings"] if prepared.exploration else [],
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _show(result)
    return 0


def _show(result: dict[str, Any]) -> None:
    manifest = result["manifest"]
    headline = (
        f"{manifest['name']}: {manifest['problem_type']} on {manifest['target']!r}, "
        f"{len(manifest['feature_names'])} features -> {result['out_dir']}"
    )
    rows = manifest["rows"]
    console = tty_console()
    if console is None:
        print(headline)
        print("rows: " + ", ".join(f"{part} {n}" for part, n in rows.items()))
        if result["uri"]:
            print(f"uploaded: {result['uri']}")
        print(f"exploration: {result['exploration']}")
        for warning in result["warnings"]:
            print(f"warning: {warning['message']} {warning['action']}")
        return
    table = Table(title=headline, title_justify="left")
    table.add_column("split")
    table.add_column("rows", justify="right")
    classes = manifest["classes"]
    for name in classes:
        table.add_column(name, justify="right")
    for part, count in rows.items():
        per_class = manifest["class_counts"].get(part, {})
        table.add_row(part, str(count), *(str(per_class.get(name, "")) for name in classes))
    console.print(table)
    if result["uri"]:
        console.print(f"uploaded: [bold]{result['uri']}[/]")
    console.print(f"exploration: [bold]{escape(result['exploration'])}[/]", highlight=False)
    for warning in result["warnings"]:
        # Column names are the user's: escaped, so "[x]" in one is not read as markup.
        console.print(
            f"[yellow]warning:[/] {escape(warning['message'])} {escape(warning['action'])}", highlight=False
        )
