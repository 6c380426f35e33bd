"""`mlstack report`: download reports/<run>/, print leaderboard and test metrics, draw the charts as PNGs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from contracts.names import run_names
from handlers.common.aws_errors import is_not_found
from mlstack.commands import error
from mlstack.commands.costs import bill_rows, cost_summary_lines
from mlstack.leaderboard import TOP, confusion_matrices, finalists_table, leaderboard_table
from mlstack.stack import StackError, Target, add_target_arguments, find_in_stacks
from mlstack.tables import show

FILES = ("evaluation.json", "leaderboard.json", "report.html")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `report` to the CLI."""
    parser = subparsers.add_parser(
        "report",
        help="download a run's report, print its tables, draw its charts",
        description="Download reports/<run_id>/ from the artifacts bucket; print the leaderboard and the "
        "test-set metrics; write report.html into --out and PNG charts (tuning trials and hyperparameters, "
        "leaderboard, ROC and precision-recall curves, per-class scores or predicted against actual, "
        "confusion matrices, the Autopilot candidates' feature importance, the data) into --png. With "
        "--from, draw them from a report downloaded before, without AWS.",
        allow_abbrev=False,
    )
    # A run to download, or a report downloaded before: exactly one (argparse says so, with the usage).
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "run", metavar="RUN", nargs="?", help="run id (as `mlstack run` prints), execution name or ARN"
    )
    parser.add_argument("--out", type=Path, help="directory to write to (default: reports/<run_id>)")
    parser.add_argument(
        "--png", type=Path, metavar="DIR", help="directory for the PNG charts (default: --out)"
    )
    source.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="DIR",
        help="a directory holding a run's evaluation.json and leaderboard.json: render report.html and the "
        "charts from them (default --out: that directory)",
    )
    parser.add_argument("--top", type=int, default=TOP, help="trials/candidates per job in the table")
    add_target_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=report_command)


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if is_not_found(err):
            return False
        raise
    return True


def find_run_id(s3: Any, target: Target, run: str) -> str | None:
    """The run id: RUN itself if its report exists, else the one derived from an execution name or ARN."""
    bucket = target.outputs["ArtifactsBucketName"]
    if _exists(s3, bucket, f"reports/{run}/evaluation.json"):
        return run
    name = run.rsplit(":", 1)[-1]  # an execution ARN ends with its name
    try:
        run_id = run_names(target.name_prefix, target.state_machine_arn, name).run_id
    except ValueError:
        return None
    return run_id if _exists(s3, bucket, f"reports/{run_id}/evaluation.json") else None


def download(s3: Any, bucket: str, run_id: str, out: Path) -> dict[str, Path]:
    """The report's files, written to `out` (report.html may be missing if Evaluate failed midway)."""
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for name in FILES:
        try:
            body = s3.get_object(Bucket=bucket, Key=f"reports/{run_id}/{name}")["Body"].read()
        except ClientError as err:
            if is_not_found(err) and name == "report.html":
                continue
            raise
        path = out / name
        path.write_bytes(body)
        files[name] = path
    return files


def draw(evaluation: dict[str, Any], board: dict[str, Any], out: Path) -> tuple[list[Path], list[str]]:
    """Every chart that the documents allow, as PNGs in `out`; notes for those they do not."""
    from mlstack import charts  # matplotlib is slow to import: only when drawing

    out.mkdir(parents=True, exist_ok=True)
    drawn: list[Path | None] = [
        charts.tuning_chart(board, out / "tuning.png"),
        charts.hyperparameters_chart(board, out / "hyperparameters.png"),
        charts.leaderboard_chart(board, evaluation, out / "leaderboard.png"),
    ]
    notes: list[str] = []
    classes = list(evaluation.get("classes") or [])
    problem_type = evaluation.get("problem_type")
    variants = evaluation.get("variants") or {}
    if problem_type == "binary":
        drawn.append(charts.curves_chart(evaluation, out / "curves.png"))
    elif problem_type == "multiclass":
        drawn.append(charts.class_scores_chart(evaluation, out / "class-scores.png"))
    else:
        for variant, entry in variants.items():
            path = out / f"prediction-{charts.file_name(variant)}.png"
            drawn.append(charts.prediction_chart(variant, entry.get("insight") or {}, path))
    if variants and not any(entry.get("insight") for entry in variants.values()):
        notes.append("this evaluation.json predates per-finalist insight: curves and samples are not in it")
    for variant, matrix in confusion_matrices(evaluation).items():
        path = out / f"confusion-{charts.file_name(variant)}.png"
        drawn.append(charts.confusion_chart(matrix, classes, f"{variant}: confusion matrix", path))
    for candidate in (board.get("autopilot") or {}).get("candidates") or []:
        path = out / f"importance-{charts.file_name(str(candidate.get('name')))}.png"
        drawn.append(charts.importance_chart(candidate, path))
    data = evaluation.get("data")
    if isinstance(data, dict):
        drawn.append(charts.data_chart(data, out / "data.png"))
        if data.get("status") != "read":
            notes.append(f"data: {data.get('reason')}")
    return [p for p in drawn if p is not None], notes


def threshold_notes(evaluation: dict[str, Any]) -> list[str]:
    """What the finalists table's threshold rows mean, and the tuning job's class weight (binary runs)."""
    notes: list[str] = []
    block = evaluation.get("decision_threshold")
    if isinstance(block, dict):
        rows = block.get("validation_rows")
        where = f"{rows} validation rows" if rows else f"none: {block.get('error')}"
        notes.append(f"threshold rows: {block.get('rule')} ({where})")
    weight = evaluation.get("scale_pos_weight")
    if isinstance(weight, dict):
        value = weight.get("value")
        notes.append(f"scale_pos_weight{'' if value is None else ' = ' + str(value)}: {weight.get('how')}")
    return notes


def _fetch(args: argparse.Namespace) -> tuple[str, Path, dict[str, Path]] | int:
    """(run id, output directory, the report's files): downloaded, or read from --from."""
    if args.source is not None:
        files = {name: args.source / name for name in FILES[:2]}
        missing = [str(p) for p in files.values() if not p.is_file()]
        if missing:
            error(f"--from {args.source}: no {', '.join(missing)}")
            return 2
        run_id = str(json.loads(files["evaluation.json"].read_text()).get("run_id"))
        return run_id, args.out or args.source, files
    try:
        # A run id or execution name belongs to one stack: look in every stack unless told which.
        target, run_id = find_in_stacks(
            args,
            lambda stack: find_run_id(stack.aws.client("s3"), stack, args.run),
            f"report for {args.run!r} (as a run id or an execution name; a run writes it in Evaluate)",
        )
        s3 = target.aws.client("s3")
        out = args.out or Path("reports") / run_id
        return run_id, out, download(s3, target.outputs["ArtifactsBucketName"], run_id, out)
    except StackError as err:
        error(str(err))
        return 1
    except (ClientError, BotoCoreError) as err:
        error(f"cannot download the report of {args.run!r}: {err}")
        return 1


def tuning_lines(board: dict[str, Any]) -> list[str]:
    """Why the tuning job ended and PlanDeployment's notes on its trials (as report.html says them)."""
    tuning = board.get("tuning") or {}
    ended = [f"ended: {tuning['ended']}"] if tuning.get("ended") else []
    return ended + [str(note) for note in tuning.get("notes") or []]


def report_command(args: argparse.Namespace) -> int:
    """Handle `mlstack report`."""
    fetched = _fetch(args)
    if isinstance(fetched, int):
        return fetched
    run_id, out, files = fetched
    evaluation = json.loads(files["evaluation.json"].read_text())
    board = json.loads(files["leaderboard.json"].read_text())
    if args.source is not None:
        from handlers.evaluate.report_html import render_report  # the page Evaluate writes, drawn again

        out.mkdir(parents=True, exist_ok=True)
        files["report.html"] = out / "report.html"
        files["report.html"].write_text(render_report(evaluation, board), encoding="utf-8")
    charts, notes = draw(evaluation, board, args.png or out)
    if args.json:
        result = {
            "run_id": run_id,
            "winner": evaluation.get("winner"),
            "metric": evaluation.get("winner_metric"),
            "metrics": {v: e.get("metrics") for v, e in (evaluation.get("variants") or {}).items()},
            "decision_threshold": evaluation.get("decision_threshold"),
            "scale_pos_weight": evaluation.get("scale_pos_weight"),
            "cost": evaluation.get("cost"),
            "data_warnings": (evaluation.get("data") or {}).get("warnings") or [],
            "tuning": tuning_lines(board),
            "files": [str(p) for p in [*files.values(), *charts]],
            "notes": notes,
        }
        print(json.dumps(result, indent=2))
        return 0
    show(leaderboard_table(board, args.top))
    for line in tuning_lines(board):
        print(f"tuning: {line}")
    show(finalists_table(evaluation))
    for line in threshold_notes(evaluation):
        print(f"note: {line}")
    cost = evaluation.get("cost")
    if isinstance(cost, dict) and cost.get("actual"):
        show(bill_rows(cost["actual"], cost.get("estimate")))
        for line in cost_summary_lines(cost)[2:]:  # the table has the totals and finalists
            print(f"note: {line}")
        for line in [cost.get("endpoint_span"), *(cost["actual"].get("unknown") or [])]:
            if line:
                print(f"note: {line}")
    for warning in (evaluation.get("data") or {}).get("warnings") or []:
        print(f"data: {warning.get('message')} {warning.get('action')}")
    for warning in board.get("warnings") or []:
        print(f"warning: {warning}")
    for note in notes:
        print(f"note: {note}")
    print(f"html: {files.get('report.html', '(not written)')}")
    print("charts: " + ", ".join(str(p) for p in charts))
    return 0
