"""The `mlstack` command line: one subcommand per module listed in COMMAND_MODULES."""

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

# Each module exposes `register(subparsers)`, which adds its parser with `set_defaults(func=...)`,
# func(args) -> exit code. A new command is a new module here.
COMMAND_MODULES: tuple[str, ...] = tuple(
    f"mlstack.commands.{name}"
    for name in (
        "local",
        "data",
        "run",
        "report",
        "ranges",
        "compare",
        "costs",
        "prices",
        "quotas",
        "sweep",
        "demo",
    )
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="mlstack",
        description="Drive the ML Stack: prepare data, run the pipeline, report, clean up.",
        allow_abbrev=False,
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the return value is the process exit code."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.func
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
