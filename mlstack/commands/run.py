"""`mlstack run`: validate an input like ValidateInput does, start an execution, optionally follow it."""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.live import Live
from rich.table import Table

from contracts import warm_start
from contracts.names import RunNames, run_names, tuning_job_name
from contracts.run import Run
from contracts.run_options import RUN_OPTIONS, Flag, stage_defaults
from handlers.common.aws_errors import error_code, is_not_found
from handlers.common.errors import InvalidInput
from handlers.common.settings import Settings
from handlers.validate_input.handler import over_budget, validate
from handlers.validate_input.options import KNOWN_KEYS
from handlers.validate_input.plan import iso_utc
from mlstack.commands import error, tty_console
from mlstack.commands.costs import cost_summary_lines, estimate_notes, estimate_rows
from mlstack.commands.ranges import Narrowed, find_board, suggest_ranges
from mlstack.commands.source import SourceError, script_input
from mlstack.commands.source import add_arguments as add_script_arguments
from mlstack.narrowing import NarrowingError
from mlstack.progress import Snapshot, plain_line, rows
from mlstack.stack import StackError, Target, add_target_arguments, resolve, stage_of
from mlstack.tables import metrics_table, show
from mlstack.watch import follow
from stacks.config import ConfigError, StageConfig

# Step Functions' execution name rules: 1-80 characters, no whitespace or brackets or wildcards.
EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
# A generated name ends in this many random hex digits: runs started in the same second (a shell loop,
# `&`) must not share a name, for StartExecution answers a second start of a running execution's name
# and input with that execution.
_SUFFIX_DIGITS = 6
_SYSTEM_RANDOM = random.SystemRandom()
# Step Functions reports startDate in milliseconds.
_START_DATE_RESOLUTION = timedelta(milliseconds=1)


def _add_overrides(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("overrides of the stage defaults (checked as ValidateInput does)")
    # Type and help from the run options' table; bounds and choices are left to ValidateInput's rules,
    # so a bad value gets the message the pipeline would give.
    for item in RUN_OPTIONS:
        text = item.help.replace("%", "%%")  # argparse formats help with %
        if isinstance(item.rule, Flag):
            group.add_argument(
                item.flag, action=argparse.BooleanOptionalAction, default=None, dest=item.key, help=text
            )
            continue
        group.add_argument(
            item.flag,
            type=item.rule.cli_type,
            dest=item.key,
            metavar=item.rule.metavar,
            help=f"{text}; {item.rule.expected}",
        )
    group.add_argument(
        "--keep-endpoint", action="store_true", default=None, help="keep the endpoint until its TTL"
    )
    group.add_argument(
        "--objective", help="tuning objective, e.g. validation:logloss; a script's: one of its --metric names"
    )
    group.add_argument("--tuning-ranges", metavar="JSON", help='e.g. \'{"eta": {"min": 0.05, "max": 0.3}}\'')
    group.add_argument(
        "--warm-start",
        nargs="+",
        metavar="RUN",
        help=f"start tuning from these runs' tuning jobs (run ids or execution names; at most "
        f"{warm_start.MAX_PARENTS}, SageMaker's limit)",
    )
    group.add_argument(
        "--narrow-from",
        metavar="RUN",
        help="tune within ranges narrowed from RUN's trials (as `mlstack ranges suggest RUN` prints "
        "them), warm-started from RUN",
    )
    group.add_argument(
        "--warm-start-type",
        choices=warm_start.TYPES,
        help="default: IdenticalDataAndAlgorithm when the parents ran on this dataset, else TransferLearning",
    )
    group.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"any input key (VALUE is JSON, else a string); keys: {', '.join(KNOWN_KEYS)}",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `run` to the CLI."""
    parser = subparsers.add_parser(
        "run",
        help="start the pipeline on a prepared dataset (and follow it)",
        description="Start one execution of the stack's state machine. The input is checked with "
        "ValidateInput's own rules first; exit 2 when it is invalid, 1 when the run fails.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--dataset", required=True, metavar="S3_URI", help="s3://<data-bucket>/datasets/<name>/"
    )
    parser.add_argument(
        "--name",
        help="execution name, refused if an execution of that name exists "
        "(default: <dataset>-<UTC time>-<random hex>)",
    )
    add_target_arguments(parser)
    _add_overrides(parser)
    add_script_arguments(parser)
    parser.add_argument(
        "--estimate",
        action="store_true",
        help="print what the run can cost at most and exit without starting it (exit 2 over max_cost_usd)",
    )
    parser.add_argument("--follow", action="store_true", help="show progress until the run ends")
    parser.add_argument(
        "--interval", type=float, help="seconds between polls with --follow (default 2 local, 15 on AWS)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON (no progress)")
    parser.set_defaults(func=run_command)


class UsageError(ValueError):
    """The arguments cannot make a valid input; exit code 2."""


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # a bare word such as Bayesian or ml.m5.large


def build_input(args: argparse.Namespace) -> dict[str, Any]:
    """The execution input: dataset, then flags, then --set pairs (later ones win)."""
    given: dict[str, Any] = {"dataset": args.dataset}
    for item in RUN_OPTIONS:
        if getattr(args, item.key, None) is not None:
            given[item.key] = getattr(args, item.key)
    if args.keep_endpoint:
        given["keep_endpoint"] = True
    if args.objective is not None:
        given["objective"] = args.objective
    if args.tuning_ranges is not None:
        try:
            given["tuning_ranges"] = json.loads(args.tuning_ranges)
        except json.JSONDecodeError as err:
            raise UsageError(f"--tuning-ranges: not valid JSON ({err})") from None
    if args.warm_start:
        given["warm_start"] = list(args.warm_start)
    if args.warm_start_type is not None:
        given["warm_start_type"] = args.warm_start_type
    for pair in args.set:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--set: expected KEY=VALUE, got {pair!r}")
        given[key.strip()] = _value(text)
    return given


def resolve_run_id(sm: Any, target: Target, run: str) -> str:
    """A run id for RUN, given as a run id, execution name or ARN: the one whose tuning job exists.

    RUN itself when neither has one: ValidateInput then names it as a run without a tuning job.
    """
    candidates = [run]
    with contextlib.suppress(ValueError):  # not a valid execution name: a run id, or nothing
        candidates.append(
            run_names(target.name_prefix, target.state_machine_arn, run.rsplit(":", 1)[-1]).run_id
        )
    for candidate in candidates:
        try:
            sm.describe_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=tuning_job_name(target.name_prefix, candidate)
            )
        except ClientError as err:
            if is_not_found(err) or error_code(err) == "ValidationException":
                continue
            raise
        return candidate
    return run


def default_name(dataset: str, now: datetime, rng: random.Random = _SYSTEM_RANDOM) -> str:
    """<dataset name>-<UTC time>-<random hex>: sortable, readable in the console, new for every start.

    At most 40 + 16 + 7 = 63 of Step Functions' 80 characters. SageMaker names take the first 10 of
    them plus a hash of the whole name (contracts.names), so the suffix costs them no length.
    """
    name = re.sub(r"[^A-Za-z0-9-]+", "-", dataset.rstrip("/").rsplit("/", 1)[-1]).strip("-")[:40] or "run"
    suffix = f"{rng.getrandbits(4 * _SUFFIX_DIGITS):0{_SUFFIX_DIGITS}x}"
    return f"{name}-{now.astimezone(UTC):%Y%m%d-%H%M%S}-{suffix}"


def check_input(
    given: Mapping[str, Any],
    target: Target,
    stage: StageConfig,
    name: str,
    s3: Any,
    now: datetime,
    *,
    enforce_budget: bool = True,
) -> Run:
    """ValidateInput's own `validate` on the event the state machine would pass it: the run it plans,
    or InvalidInput with its message (options, dataset URI, manifest, channels, objective, ranges).

    Its S3 reads are the manifest and one short listing per channel: cheap enough to do before every start.
    """
    event = {
        "input": dict(given),
        "execution": {
            "name": name,
            "id": target.execution_arn(name),
            "state_machine": target.state_machine_arn,
            "start_time": iso_utc(now),
        },
    }
    config = Settings(
        data_bucket=target.outputs["DataBucketName"],
        artifacts_bucket=target.outputs["ArtifactsBucketName"],
        name_prefix=target.name_prefix,
        stack_name=target.name,
        stage_defaults=stage_defaults(stage),
    )
    return validate(
        event, config, s3, sagemaker=lambda: target.aws.client("sagemaker"), enforce_budget=enforce_budget
    )


def narrow_from(args: argparse.Namespace, target: Target, given: dict[str, Any]) -> Narrowed | None:
    """--narrow-from RUN: RUN's narrowed ranges become the input's tuning_ranges, RUN its first parent."""
    if not getattr(args, "narrow_from", None):
        return None
    if "tuning_ranges" in given:
        raise UsageError("--narrow-from sets the tuning ranges itself: leave --tuning-ranges out")
    found = find_board(target, args.narrow_from)
    if found is None:
        raise UsageError(
            f"--narrow-from: no leaderboard for {args.narrow_from!r} in {target.name} (as a run id or an "
            "execution name; Evaluate or Cleanup writes it when a run ends)"
        )
    try:
        narrowed = suggest_ranges(target, *found)
    except NarrowingError as err:
        raise UsageError(f"--narrow-from {args.narrow_from}: {err}") from None
    given["tuning_ranges"] = narrowed.tuning_ranges
    others = [run for run in given.get("warm_start") or [] if run != narrowed.run_id]
    given["warm_start"] = [narrowed.run_id, *others]
    return narrowed


def plan(
    args: argparse.Namespace,
    target: Target,
    s3: Any,
    *,
    enforce_budget: bool = True,
    say: Callable[[str], None] = lambda _: None,
) -> tuple[str, dict[str, Any], Run]:
    """Execution name, input and the run ValidateInput plans; UsageError or InvalidInput if it cannot run."""
    given = build_input(args)
    try:
        script = script_input(args, target, say)
    except SourceError as err:
        raise UsageError(str(err)) from None
    if script is not None:
        given["script"] = script
    narrowed = narrow_from(args, target, given)
    if narrowed is not None:
        say(f"ranges narrowed from run {narrowed.run_id}, which this run warm-starts from:")
        for line in narrowed.lines():
            say(f"  {line}")
    if given.get("warm_start"):
        sm = target.aws.client("sagemaker")
        given["warm_start"] = [resolve_run_id(sm, target, str(run)) for run in given["warm_start"]]
    stage = stage_of(args)  # reads cdk.json once
    now = datetime.now(UTC)
    name = args.name or default_name(str(given["dataset"]), now)
    if not EXECUTION_NAME.match(name):
        raise UsageError(f"--name: {name!r} must be 1-80 letters, digits, '-' or '_'")
    run = check_input(given, target, stage, name, s3, now, enforce_budget=enforce_budget)
    return name, given, run


class NameTakenError(UsageError):
    """An execution of that name exists: a start would join it (same input) or fail (other input)."""

    def __init__(self, name: str, target: Target, status: str = "", since: Any = None) -> None:
        state = f" ({status} since {since:%Y-%m-%d %H:%M:%S})" if status and since else ""
        super().__init__(
            f"--name: an execution named {name!r} already exists in {target.name}{state}; a run needs a "
            "name of its own: choose another --name, or leave it out for a generated one"
        )


def _server_clock_offset(target: Target, response: Mapping[str, Any], received: datetime) -> timedelta | None:
    """How far the service's clock is at least ahead of ours (None: unknown).

    The local AWS runs on this machine's clock. AWS's HTTP Date header has whole seconds, truncated:
    when we received it the service's clock read at least that, so the bound never overshoots.
    """
    if target.aws.is_local:
        return timedelta(0)
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        return parsedate_to_datetime(date) - received if date else None
    except (TypeError, ValueError):
        return None


def start(sfn: Any, target: Target, name: str, given: Mapping[str, Any]) -> str:
    """Start a new execution named `name` and return its ARN; NameTakenError if the name is in use.

    StartExecution is idempotent for Standard workflows: given the name and input of a running
    execution it returns that execution. So DescribeExecution refuses a name in use first, and a
    startDate from before our call exposes an execution someone started in between.
    """
    try:
        existing = sfn.describe_execution(executionArn=target.execution_arn(name))
    except ClientError as err:
        if error_code(err) != "ExecutionDoesNotExist":
            raise
        offset = _server_clock_offset(target, err.response, datetime.now(UTC))
    else:
        raise NameTakenError(name, target, existing["status"], existing["startDate"])
    sent = datetime.now(UTC)
    try:
        started = sfn.start_execution(
            stateMachineArn=target.state_machine_arn, name=name, input=json.dumps(given)
        )
    except ClientError as err:
        if error_code(err) == "ExecutionAlreadyExists":  # closed, or running with another input
            raise NameTakenError(name, target) from None
        raise
    if offset is not None and started["startDate"] < sent + offset - _START_DATE_RESOLUTION:
        raise NameTakenError(name, target, "RUNNING", started["startDate"])
    return str(started["executionArn"])


def _progress_printer(live: Live | None) -> Any:
    last: list[str] = []

    def show_snapshot(snapshot: Snapshot) -> None:
        if live is not None:
            table = Table(show_header=False, box=None, pad_edge=False)
            table.add_column(style="bold")
            table.add_column()
            for label, text in rows(snapshot):
                table.add_row(label, text)
            live.update(table)
            return
        line = plain_line(snapshot)
        if not last or line != last[-1]:  # a log gets a line per change, not per poll
            print(f"[{int(snapshot.elapsed_s):>4d}s] {line}", flush=True)
            last.append(line)

    return show_snapshot


def readable_cause(cause: str | None) -> str:
    """A failed Lambda's cause is its error JSON with a stack trace: the message is what a user needs."""
    if not cause:
        return "-"
    try:
        parsed = json.loads(cause)
    except json.JSONDecodeError:
        return cause
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        return str(parsed["errorMessage"])
    return cause


def finish(execution: Mapping[str, Any], as_json: bool) -> int:
    """Print the winner and metrics, or the error and cause; the exit code."""
    status = str(execution["status"])
    output = json.loads(execution.get("output") or "{}") if status == "SUCCEEDED" else {}
    result = {
        "executionArn": execution["executionArn"],
        "status": status,
        "error": execution.get("error"),
        "cause": execution.get("cause"),
        "output": output,
    }
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    elif status == "SUCCEEDED":
        evaluation = output.get("evaluation") or {}
        winner = evaluation.get("winner")
        print(f"run {output.get('run_id')} SUCCEEDED: winner {winner} by {evaluation.get('metric')}")
        show(metrics_table(evaluation.get("metrics") or {}, winner, "test-set metrics"))
        for line in cost_summary_lines(
            evaluation.get("cost"), (output.get("cleanup") or {}).get("endpoint_cost")
        ):
            print(line)
        print(f"report: {evaluation.get('report')}  (mlstack report {output.get('run_id')})")
    else:
        error(f"run {status}: {execution.get('error') or '-'}: {readable_cause(execution.get('cause'))}")
    return 0 if status == "SUCCEEDED" else 1


def show_estimate(run: Run, as_json: bool) -> int:
    """Print the run's upper bound (ValidateInput's own) and whether its budget allows it; the exit code."""
    problem = over_budget(run)
    estimate = run["cost"]["estimate"]
    if as_json:
        print(json.dumps({"run_id": run["run_id"], "estimate": estimate, "refused": problem}, indent=2))
    else:
        show(estimate_rows(estimate))
        for note in estimate_notes(estimate):
            print(f"note: {note}")
        budget = run["cost"]["max_cost_usd"]
        print(f"budget: {'none' if budget is None else f'${budget:g}'}; nothing was started")
        if problem:
            error(problem)
    return 2 if problem else 0


def run_command(args: argparse.Namespace) -> int:
    """Handle `mlstack run`."""
    try:
        target = resolve(args)
        name, given, run = plan(
            args,
            target,
            target.aws.client("s3"),
            enforce_budget=not args.estimate,
            say=(lambda _: None) if args.json else print,
        )
        names = RunNames(**run["names"])
    except (UsageError, InvalidInput, ConfigError) as err:
        error(str(err))
        return 2
    except StackError as err:
        error(str(err))
        return 1
    except (ClientError, BotoCoreError) as err:
        error(f"cannot check the input against the data bucket: {err}")
        return 1
    if args.estimate:
        return show_estimate(run, args.json)
    sfn, sm = target.aws.client("stepfunctions"), target.aws.client("sagemaker")
    try:
        arn = start(sfn, target, name, given)
    except NameTakenError as err:
        error(str(err))
        return 2
    except (ClientError, BotoCoreError) as err:
        error(f"cannot start execution {name!r}: {err}")
        return 1
    if not args.follow:
        if args.json:
            print(
                json.dumps({"executionArn": arn, "name": name, "run_id": names.run_id, "stack": target.name})
            )
        else:
            print(arn)
        return 0
    if not args.json:
        print(f"started {arn}\nrun id {names.run_id}", flush=True)
    interval = args.interval or (2.0 if target.aws.is_local else 15.0)
    console = None if args.json else tty_console()
    try:
        if args.json:
            final = follow(sfn, sm, arn, names, lambda _: None, interval)
        elif console is None:
            final = follow(sfn, sm, arn, names, _progress_printer(None), interval)
        else:
            with Live(console=console, refresh_per_second=4, transient=False) as live:
                final = follow(sfn, sm, arn, names, _progress_printer(live), interval)
    except (ClientError, BotoCoreError) as err:
        error(f"lost track of {arn}: {err}")
        return 1
    except KeyboardInterrupt:
        print(f"\nstopped following; the run goes on: {arn}", file=sys.stderr)
        return 130
    return finish(final, args.json)
