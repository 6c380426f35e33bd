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


# Binary metrics may carry `at_threshold`: the same metrics at the threshold chosen on the validation set.
AT_THRESHOLD = "at_threshold"
DEFAULT_THRESHOLD = "0.5"


def metrics_table(by_variant: Mapping[str, Mapping[str, Any]], winner: str | None, title: str) -> Rows:
    """One row per variant, one column per scalar metric; a variant that failed shows its error.

    A variant with metrics at a chosen threshold gets a second row, and the table a threshold column.
    """
    columns: list[str] = []
    for metrics in by_variant.values():
        columns += [k for k in scalar_metrics(metrics) if k not in columns and k != "error"]
    columns = columns or ["result"]
    thresholds = any(isinstance(m.get(AT_THRESHOLD), Mapping) for m in by_variant.values())
    rows: list[tuple[str, ...]] = []
    highlight: set[int] = set()
    for variant, metrics in by_variant.items():
        if variant == winner:
            highlight.add(len(rows))
        error = metrics.get("error")
        at = metrics.get(AT_THRESHOLD)
        lead = (DEFAULT_THRESHOLD if isinstance(at, Mapping) else "-",) if thresholds else ()
        if error and not set(scalar_metrics(metrics)) - {"error"}:
            rows.append((variant, *lead, f"failed: {error}"[:80], *("" for _ in columns[1:])))
            continue
        rows.append((variant, *lead, *(number(metrics.get(c)) for c in columns)))
        if isinstance(at, Mapping):
            rows.append(_threshold_row(variant, at, columns))
    headers = ("variant", *(("threshold",) if thresholds else ()), *columns)
    return Rows(title, headers, rows, frozenset(highlight))


def _threshold_row(variant: str, at: Mapping[str, Any], columns: Sequence[str]) -> tuple[str, ...]:
    """The variant's metrics at its chosen threshold (blank where a metric does not depend on it)."""
    chosen = at.get("threshold")
    if chosen is None:
        note = f"no threshold: {at.get('reason') or 'none chosen'}"[:80]
        return (variant, "-", note, *("" for _ in columns[1:]))
    return (variant, number(chosen), *(number(at[c]) if c in at else "" for c in columns))
