"""Tables the commands print: plain rows (pure), shown with rich on a terminal, as aligned text otherwise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from mlstack.commands import tty_console


@dataclass(frozen=True)
class Rows:
    """A titled table of text cells; `highlight` marks rows to emphasise (the winner, a shortfall)."""

    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    highlight: frozenset[int] = field(default_factory=frozenset)

    def as_text(self) -> str:
        """Aligned columns under a title line, for pipes and logs."""
        widths = [len(h) for h in self.headers]
        for row in self.rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

        def line(cells: Sequence[str], mark: str = " ") -> str:
            return (mark + " " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))).rstrip()

        body = [line(row, "*" if i in self.highlight else " ") for i, row in enumerate(self.rows)]
        return "\n".join([self.title, line(self.headers), *body])

    def as_rich(self) -> Table:
        table = Table(title=self.title, title_justify="left")
        for header in self.headers:
            table.add_column(header, justify="left" if header == self.headers[0] else "right")
        for i, row in enumerate(self.rows):
            table.add_row(*row, style="bold green" if i in self.highlight else None)
        return table


def show(table: Rows) -> None:
    """Print a table: rich on a terminal, plain aligned text when piped."""
    console = tty_console()
    if console is None:
        print(table.as_text())
    else:
        console.print(table.as_rich())


def number(value: Any) -> str:
    """A metric as shown: 4 significant digits, '-' when absent."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int | float):
        return f"{value:.4g}"
    return str(value)


def scalar_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics that fit in a table cell (the confusion matrix does not)."""
    return {k: v for k, v in metrics.items() if v is None or isinstance(v, int | float)}


def metrics_table(by_variant: Mapping[str, Mapping[str, Any]], winner: str | None, title: str) -> Rows:
    """One row per variant, one column per scalar metric; a variant that failed shows its error."""
    columns: list[str] = []
    for metrics in by_variant.values():
        columns += [k for k in scalar_metrics(metrics) if k not in columns and k != "error"]
    columns = columns or ["result"]
    rows: list[tuple[str, ...]] = []
    for variant, metrics in by_variant.items():
        error = metrics.get("error")
        if error and not set(scalar_metrics(metrics)) - {"error"}:
            rows.append((variant, f"failed: {error}"[:80], *("" for _ in columns[1:])))
        else:
            rows.append((variant, *(number(metrics.get(c)) for c in columns)))
    highlight = frozenset(i for i, name in enumerate(by_variant) if name == winner)
    return Rows(title, ("variant", *columns), rows, highlight)
