"""`mlstack ranges suggest RUN`: narrower tuning ranges from a run's trials, as JSON for --tuning-ranges."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from contracts.names import run_names
from contracts.reports import report_key
from handlers.common.aws_errors import is_not_found
from mlstack.commands import error
from mlstack.narrowing import TOP_FRACTION, NarrowingError, Suggestion, api_ranges, as_tuning_ranges, narrow
from mlstack.stack import StackError, Target, add_target_arguments, find_in_stacks
from training.tuning_ranges import DEFAULT_RANGES, RangeError, parse_parameter_ranges


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ranges` to the CLI."""
    parser = subparsers.add_parser(
        "ranges",
        help="tuning ranges narrowed from a run's trials",
        description="Work with tuning ranges.",
        allow_abbrev=False,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    suggest = actions.add_parser(
        "suggest",
        help="narrow a run's ranges to where its best trials lie",
        description="Read RUN's leaderboard.json and suggest narrower ranges: per hyperparameter, the span "
        "of the best trials widened by a margin; a hyperparameter without signal keeps its range. Prints "
        "one line of why per hyperparameter and the JSON for `mlstack run --tuning-ranges` (or use "
        "`mlstack run --narrow-from RUN`, which also warm-starts from RUN).",
        allow_abbrev=False,
    )
    suggest.add_argument("run", metavar="RUN", help="run id (as `mlstack run` prints), execution name or ARN")
    suggest.add_argument(
        "--top",
        type=float,
        default=TOP_FRACTION,
        metavar="FRACTION",
        help=f"share of the trials that count as the best (default {TOP_FRACTION})",
    )
    add_target_arguments(suggest)
    suggest.add_argument("--json", action="store_true", help="print the result as JSON")
    suggest.set_defaults(func=suggest_command)


@dataclass(frozen=True)
class Narrowed:
    """A run's suggested ranges: each with its reason, and as `tuning_ranges` input."""

    run_id: str
    suggestions: list[Suggestion]
    tuning_ranges: dict[str, Any]

    def lines(self) -> list[str]:
        """One line per hyperparameter: old range -> new range, and why."""
        out = []
        for s in self.suggestions:
            old, new = s.old, s.new
            change = "unchanged" if old == new else f"-> {new.min_value:g}-{new.max_value:g} {new.scaling}"
            out.append(f"{new.name}: {old.min_value:g}-{old.max_value:g} {old.scaling} {change}: {s.why}")
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "tuning_ranges": self.tuning_ranges,
            "why": {s.new.name: s.why for s in self.suggestions},
        }


def find_board(target: Target, run: str) -> tuple[str, dict[str, Any]] | None:
    """RUN's run id and leaderboard.json (RUN as a run id, or the run of an execution name or ARN)."""
    s3 = target.aws.client("s3")
    candidates = [run]
    with contextlib.suppress(ValueError):  # not a valid execution name: a run id, or nothing
        candidates.append(
            run_names(target.name_prefix, target.state_machine_arn, run.rsplit(":", 1)[-1]).run_id
        )
    for run_id in candidates:
        try:
            body = s3.get_object(
                Bucket=target.outputs["ArtifactsBucketName"], Key=report_key(run_id, "leaderboard.json")
            )["Body"].read()
        except ClientError as err:
            if is_not_found(err):
                continue
            raise
        return run_id, json.loads(body)
    return None


def board_ranges(target: Target, board: Mapping[str, Any]) -> Any:
    """The ranges the run searched: from its leaderboard, else from its tuning job."""
    tuning = board.get("tuning") or {}
    if tuning.get("ranges"):
        return tuning["ranges"]
    described = target.aws.client("sagemaker").describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning.get("job")
    )
    return (described.get("HyperParameterTuningJobConfig") or {}).get("ParameterRanges")


def suggest_ranges(
    target: Target, run_id: str, board: Mapping[str, Any], top: float = TOP_FRACTION
) -> Narrowed:
    """RUN's narrowed ranges; NarrowingError when its trials or ranges cannot be narrowed."""
    tuning = board.get("tuning") or {}
    # A script run (its leaderboard names it; one recorded before says so by its sagemaker_program).
    xgboost = not (
        tuning.get("script") or "sagemaker_program" in (tuning.get("static_hyperparameters") or {})
    )
    searched = board_ranges(target, board) or {}
    try:
        ranges = parse_parameter_ranges(searched, xgboost)
    except RangeError as err:
        raise NarrowingError(
            f"run {run_id}'s ranges cannot be narrowed ({err}): narrowing needs the numeric ranges of a "
            "Bayesian, Random or Hyperband run, not a Grid search's values"
        ) from None
    maximize = (tuning.get("objective") or {}).get("Type") != "Minimize"
    suggestions = narrow(ranges, tuning.get("trials") or [], maximize, top_fraction=top, xgboost=xgboost)
    if xgboost:
        return Narrowed(run_id, suggestions, as_tuning_ranges(suggestions, DEFAULT_RANGES))
    # A script's ranges are all it tunes: every one is given, its categorical ones as they were.
    categorical = list(searched.get("CategoricalParameterRanges") or [])
    if categorical:
        return Narrowed(
            run_id, suggestions, {**api_ranges(suggestions), "CategoricalParameterRanges": categorical}
        )
    return Narrowed(run_id, suggestions, as_tuning_ranges(suggestions, ()))


def suggest_command(args: argparse.Namespace) -> int:
    """Handle `mlstack ranges suggest`."""
    if not 0 < args.top <= 1:
        error(f"--top: expected a share above 0 and at most 1, got {args.top}")
        return 2
    try:
        target, (run_id, board) = find_in_stacks(
            args,
            lambda stack: find_board(stack, args.run),
            f"leaderboard for {args.run!r} (as a run id or an execution name; Evaluate or Cleanup writes it)",
        )
        narrowed = suggest_ranges(target, run_id, board, args.top)
    except NarrowingError as err:
        error(f"{args.run}: {err}")
        return 2
    except StackError as err:
        error(str(err))
        return 1
    except (ClientError, BotoCoreError) as err:
        error(f"cannot read the ranges of {args.run!r}: {err}")
        return 1
    if args.json:
        print(json.dumps(narrowed.as_json(), indent=2))
        return 0
    for line in narrowed.lines():
        print(line)
    print(f"--tuning-ranges '{json.dumps(narrowed.tuning_ranges)}'")
    print(f"or in one step: mlstack run --dataset ... --narrow-from {run_id}")
    return 0
