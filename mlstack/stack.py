"""The deployed stack a command works on: its name (from cdk.json's stage) and its Outputs."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from mlstack.aws import Aws, connect, running_local_aws
from stacks.config import ConfigError, StageConfig, load_config

CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"
REQUIRED_OUTPUTS = ("StateMachineArn", "DataBucketName", "ArtifactsBucketName", "NamePrefix")


class StackError(RuntimeError):
    """The stack cannot be used: not deployed, not reachable, or missing an Output."""


class StackNotDeployedError(StackError):
    """No stack of that name exists where the command looked."""


class UnreachableError(StackError):
    """That AWS cannot be asked at all (no credentials, no region, no network)."""


def cdk_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def stage_config(stage: str | None) -> StageConfig:
    """The stage's configuration, exactly as `cdk deploy -c stage=<stage>` reads it."""
    context = cdk_context()
    return load_config({"stage": stage or context.get("stage"), "stages": context.get("stages")})


def stage_of(args: argparse.Namespace) -> StageConfig:
    """--stage; else the stage whose stack is --stack; else cdk.json's default stage."""
    if args.stage is None and args.stack:
        for name, raw in cdk_context().get("stages", {}).items():
            if isinstance(raw, dict) and raw.get("stack_name") == args.stack:
                return stage_config(name)
    return stage_config(args.stage)


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """--stack / --stage / --local, shared by every command that talks to a deployed stack."""
    parser.add_argument("--stage", help="cdk.json stage whose stack to use (default: cdk.json's 'stage')")
    parser.add_argument("--stack", metavar="NAME", help="CloudFormation stack name (default: the stage's)")
    parser.add_argument(
        "--local",
        action="store_true",
        help="use the embedded local AWS (as does AWS_ENDPOINT_URL when set)",
    )


@dataclass(frozen=True)
class Target:
    """A deployed stack: where it is, its name and its Outputs."""

    aws: Aws
    name: str
    outputs: dict[str, str]

    @property
    def state_machine_arn(self) -> str:
        return self.outputs["StateMachineArn"]

    @property
    def name_prefix(self) -> str:
        return self.outputs["NamePrefix"]

    def execution_arn(self, name: str) -> str:
        """The ARN an execution of this stack's state machine named `name` has (or would have)."""
        head, _, machine = self.state_machine_arn.rpartition(":stateMachine:")
        return f"{head}:execution:{machine}:{name}"


def default_stack_name(args: argparse.Namespace) -> str:
    """--stack, else the stack name of --stage (or cdk.json's default stage)."""
    if args.stack:
        return str(args.stack)
    try:
        return stage_config(args.stage).stack_name
    except ConfigError as err:
        raise StackError(str(err)) from None


def stack_outputs(aws: Aws, name: str) -> dict[str, str]:
    """The stack's Outputs; StackError when it is not deployed there."""
    where = aws.where
    try:
        stacks = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as err:
        if "does not exist" in str(err):
            raise StackNotDeployedError(
                f"stack {name!r} is not deployed at {where}; deploy it (cdk deploy -c stage=...) "
                "or name another one with --stack"
            ) from None
        raise StackError(f"cannot describe stack {name!r} at {where}: {err}") from None
    except BotoCoreError as err:
        raise UnreachableError(f"cannot reach CloudFormation at {where}: {err}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise StackError(f"stack {name!r} lacks the Outputs {', '.join(missing)}; is it an ML Stack?")
    return outputs


def resolve(args: argparse.Namespace) -> Target:
    """The stack the command's --stack/--stage/--local arguments name, with its Outputs."""
    aws = connect(bool(args.local))
    name = default_stack_name(args)
    return Target(aws, name, stack_outputs(aws, name))


def stage_stack_names() -> list[str]:
    """The stack of every stage in cdk.json, the default stage's first."""
    context = cdk_context()
    stages = list(context.get("stages") or {})
    default = context.get("stage")
    ordered = ([default] if default in stages else []) + [stage for stage in stages if stage != default]
    names: list[str] = []
    for stage in ordered:
        try:
            name = stage_config(stage).stack_name
        except ConfigError as err:
            raise StackError(str(err)) from None
        if name not in names:
            names.append(name)
    return names


def deployed_targets(args: argparse.Namespace) -> tuple[list[Target], list[str]]:
    """Every stage's stack that is deployed where the user can reach it, and why others were not used.

    With --local or AWS_ENDPOINT_URL that AWS alone is asked; else the AWS the environment names and,
    when it runs, the local AWS (a local stack is invisible to the former, and the latter is no AWS
    to ask when it is down).
    """
    chosen = connect(bool(args.local))
    places = [chosen]
    notes: list[str] = []
    if not chosen.is_local:
        local = running_local_aws()
        if local is None:
            notes.append("the local AWS is not running, so its stacks were not searched (mlstack local up)")
        else:
            places.append(local)
    targets: list[Target] = []
    for aws in places:
        for name in stage_stack_names():
            try:
                targets.append(Target(aws, name, stack_outputs(aws, name)))
            except StackNotDeployedError:
                notes.append(f"{name} at {aws.where}: not deployed")
            except UnreachableError as err:
                notes.append(str(err))
                break  # the other stacks there cannot be reached either
            except StackError as err:
                notes.append(str(err))
    return targets, notes


Found = TypeVar("Found")


def find_in_stacks(
    args: argparse.Namespace, lookup: Callable[[Target], Found | None], what: str
) -> tuple[Target, Found]:
    """The stack where `lookup` finds `what`, and what it found.

    --stage or --stack names the one stack to look in. Without them, every stage's stack that is
    deployed and reachable (deployed_targets): a run of the local stage must be found though cdk.json's
    default stage is another. StackError names every stack searched when none (or more than one) has it.
    """
    if args.stage or args.stack:
        target = resolve(args)
        found = lookup(target)
        if found is None:
            raise StackError(f"no {what} in stack {target.name} at {target.aws.where}")
        return target, found
    targets, notes = deployed_targets(args)
    hits: list[tuple[Target, Found]] = []
    misses: list[str] = []
    for target in targets:
        found = lookup(target)
        if found is None:
            misses.append(f"{target.name} at {target.aws.where}: not there")
        else:
            hits.append((target, found))
    if len(hits) == 1:
        return hits[0]
    if hits:
        where = ", ".join(f"{target.name} at {target.aws.where}" for target, _ in hits)
        raise StackError(f"{what} is in several stacks ({where}); choose one with --stage or --stack")
    raise StackError(f"no {what} in any stage's stack; searched: {'; '.join(misses + notes)}")
