"""`mlstack compare RUN RUN …`: the best objective so far against training jobs spent, on one chart."""

from __future__ import annotations

import argparse
import html
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from contracts.warm_start import train_channel
from mlstack.commands import error
from mlstack.commands.ranges import find_board
from mlstack.leaderboard import best_so_far, trial_objectives, tuning_maximize
from mlstack.stack import StackError, Target, add_target_arguments, find_in_stacks
from mlstack.tables import Rows, number, show

MAX_ROWS = 40  # rows of the terminal's series table; longer series show every k-th job


class CompareError(ValueError):
    """The runs cannot be compared; the message says why and what to compare instead."""


@dataclass(frozen=True)
class Series:
    """One run's best objective so far after each training job it (and its compared parents) paid for."""

    run_id: str
    strategy: str
    start: int  # training jobs of compared parents before this run's first (a warm start continues them)
    best: list[float | None]  # after each of this run's own jobs
    prior_best: float | None  # the compared parents' best, where a warm start begins
    ended: str | None

    @property
    def jobs(self) -> list[int]:
        return list(range(self.start + 1, self.start + len(self.best) + 1))

    @property
    def final(self) -> float | None:
        return self.best[-1] if self.best else self.prior_best

    def at(self, jobs: int) -> float | None:
        """The best so far once `jobs` training jobs were spent (None before it started or had one)."""
        if jobs <= self.start:
            return None
        index = min(jobs - self.start, len(self.best)) - 1
        return self.best[index] if index >= 0 else None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `compare` to the CLI."""
    parser = subparsers.add_parser(
        "compare",
        help="best objective so far against training jobs, for runs on the same dataset",
        description="Compare the tuning of runs on the same dataset and objective (different strategies, or "
        "a run and its warm-started child): the best objective so far after each training job, as a table, "
        "compare.png and a self-contained compare.html. A warm-started run continues after the compared "
        "parents it started from, from their best.",
        allow_abbrev=False,
    )
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run ids or execution names (two or more)")
    parser.add_argument("--out", type=Path, help="directory to write to (default: comparisons/<first run>)")
    add_target_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the series as JSON")
    parser.set_defaults(func=compare_command)


def _objective_key(board: Mapping[str, Any]) -> tuple[str, str]:
    objective = (board.get("tuning") or {}).get("objective") or {}
    return str(objective.get("MetricName")), str(objective.get("Type"))


def _parents(board: Mapping[str, Any]) -> list[str]:
    config = (board.get("tuning") or {}).get("warm_start") or {}
    return [
        str(p.get("HyperParameterTuningJobName")) for p in config.get("ParentHyperParameterTuningJobs") or []
    ]


def build_series(boards: Sequence[tuple[str, Mapping[str, Any], str]]) -> list[Series]:
    """Each run's series from (run id, leaderboard, dataset); CompareError for runs that differ in either.

    A warm-started run whose parents are among the compared runs starts after their jobs, from their best.
    """
    if len(boards) < 2:
        raise CompareError("give at least two runs to compare")
    first_id, first, first_data = boards[0]
    for run_id, board, data in boards[1:]:
        if data != first_data:
            raise CompareError(
                f"run {run_id} tuned on {data}, run {first_id} on {first_data}: compare runs on the same "
                "dataset (a different dataset moves every objective)"
            )
        if _objective_key(board) != _objective_key(first):
            raise CompareError(
                f"run {run_id} tuned {_objective_key(board)[0]}, run {first_id} {_objective_key(first)[0]}: "
                "compare runs with the same objective"
            )
    maximize = tuning_maximize(first)
    by_job = {str((b.get("tuning") or {}).get("job")): (run_id, b) for run_id, b, _ in boards}
    series = []
    for run_id, board, _ in boards:
        parents = [by_job[job][1] for job in _parents(board) if job in by_job and by_job[job][0] != run_id]
        prior = [v for parent in parents for v in trial_objectives(parent) if v is not None]
        prior_best = (max if maximize else min)(prior) if prior else None
        own = trial_objectives(board)
        tuning = board.get("tuning") or {}
        series.append(
            Series(
                run_id=run_id,
                strategy=str(tuning.get("strategy") or "?"),
                start=sum(len(trial_objectives(p)) for p in parents),
                best=best_so_far([prior_best, *own], maximize)[1:],
                prior_best=prior_best,
                ended=tuning.get("ended"),
            )
        )
    return series


def _label(s: Series) -> str:
    warm = f", warm start after {s.start} jobs" if s.start else ""
    return f"{s.run_id} ({s.strategy}{warm})"


def series_table(series: Sequence[Series], metric: str) -> Rows:
    """The best so far per run after each number of training jobs (every k-th row for long series)."""
    last = max(s.start + len(s.best) for s in series)
    step = max(1, -(-last // MAX_ROWS))
    counts = sorted({*range(step, last + 1, step), last})
    rows = [(str(n), *(number(s.at(n)) for s in series)) for n in counts]
    title = f"best {metric} so far after N training jobs" + (f" (a row per {step} jobs)" if step > 1 else "")
    return Rows(title, ("jobs", *(s.run_id for s in series)), rows)


def summary_table(series: Sequence[Series], maximize: bool) -> Rows:
    """Per run: strategy, jobs, best, the job that reached it, why tuning ended; the best run marked."""
    finals = [s.final for s in series]
    scored = [v for v in finals if v is not None]
    top = (max if maximize else min)(scored) if scored else None
    rows = []
    for s in series:
        reached = next((n for n in s.jobs if s.at(n) == s.final), None) if s.best else None
        rows.append(
            (
                s.run_id,
                s.strategy,
                f"{s.start + 1}-{s.start + len(s.best)}" if s.start else str(len(s.best)),
                number(s.final),
                str(reached or "-"),
                s.ended or "-",
            )
        )
    highlight = frozenset(i for i, v in enumerate(finals) if v is not None and v == top)
    return Rows(
        "runs compared (* = best)",
        ("run", "strategy", "jobs", "best", "best at job", "ended"),
        rows,
        highlight,
    )


def chart(series: Sequence[Series], metric: str, maximize: bool, fmt: str) -> bytes:
    """The step chart of every run's best so far, as PNG or SVG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 3.8))
    for s in series:
        points = [(n, v) for n in s.jobs if (v := s.at(n)) is not None]
        if s.prior_best is not None:
            points.insert(0, (s.start, s.prior_best))
        if points:
            axes.step([n for n, _ in points], [v for _, v in points], where="post", label=_label(s))
    axes.set(
        title=f"Best {metric} so far ({'higher' if maximize else 'lower'} is better)",
        xlabel="training jobs (a warm-started run continues after its parents)",
        ylabel=metric,
    )
    axes.legend(loc="lower right" if maximize else "upper right", fontsize="small")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def html_page(series: Sequence[Series], metric: str, maximize: bool, svg: str) -> str:
    """A self-contained page: the chart as inline SVG and both tables."""

    def table(rows: Rows) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in rows.headers)
        body = "".join(
            f"<tr{' class=best' if i in rows.highlight else ''}>"
            + "".join(f"<td>{html.escape(c)}</td>" for c in row)
            + "</tr>"
            for i, row in enumerate(rows.rows)
        )
        return f"<h2>{html.escape(rows.title)}</h2><table><tr>{head}</tr>{body}</table>"

    svg_body = svg[svg.index("<svg") :]
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
        "tr.best{font-weight:bold;color:#2a9d8f}"
    )
    title = f"Tuning compared: {html.escape(metric)}"
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title>"
        f"<style>{style}</style></head><body><h1>{title}</h1>{svg_body}"
        f"{table(summary_table(series, maximize))}{table(series_table(series, metric))}</body></html>"
    )


def _dataset(target: Target, board: Mapping[str, Any]) -> str:
    """The run's dataset: its leaderboard says it; an older one only names the tuning job's train channel."""
    if board.get("dataset"):
        return str(board["dataset"])
    described = target.aws.client("sagemaker").describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=(board.get("tuning") or {}).get("job")
    )
    train = train_channel(described.get("TrainingJobDefinition")) or "?"
    return train.rstrip("/").rsplit("/", 1)[0] + "/"


def compare_command(args: argparse.Namespace) -> int:
    """Handle `mlstack compare`."""
    try:
        boards = []
        for run in args.runs:

            def lookup(stack: Target, run: str = run) -> tuple[str, dict[str, Any]] | None:
                return find_board(stack, run)

            target, (run_id, board) = find_in_stacks(args, lookup, f"leaderboard for {run!r}")
            boards.append((run_id, board, _dataset(target, board)))
        series = build_series(boards)
    except CompareError as err:
        error(str(err))
        return 2
    except StackError as err:
        error(str(err))
        return 1
    except (ClientError, BotoCoreError) as err:
        error(f"cannot read the runs' leaderboards: {err}")
        return 1
    first = boards[0][1]
    metric, maximize = str(first["tuning"]["objective"]["MetricName"]), tuning_maximize(first)
    out = args.out or Path("comparisons") / series[0].run_id
    out.mkdir(parents=True, exist_ok=True)
    png, page = out / "compare.png", out / "compare.html"
    png.write_bytes(chart(series, metric, maximize, "png"))
    page.write_text(html_page(series, metric, maximize, chart(series, metric, maximize, "svg").decode()))
    if args.json:
        result = {
            "metric": metric,
            "maximize": maximize,
            "runs": [
                {
                    "run_id": s.run_id,
                    "strategy": s.strategy,
                    "start": s.start,
                    "best": s.best,
                    "ended": s.ended,
                }
                for s in series
            ],
            "files": [str(png), str(page)],
        }
        print(json.dumps(result, indent=2))
        return 0
    show(summary_table(series, maximize))
    show(series_table(series, metric))
    print(f"chart: {png}\nhtml: {page}")
    return 0
