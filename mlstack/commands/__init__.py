"""Subcommands of the `mlstack` CLI, one module each, plus the output helpers they share."""

import sys

from rich.console import Console
from rich.markup import escape


def tty_console() -> Console | None:
    """A rich console when stdout is a terminal; None when output is piped (plain text then)."""
    return Console() if sys.stdout.isatty() else None


def error(message: str) -> None:
    """Report a failure on stderr, in red on a terminal."""
    if sys.stderr.isatty():
        Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    else:
        print(f"error: {message}", file=sys.stderr)
