"""The deployed stack a command works on: its name (from cdk.json's stage) and its Outputs."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mlstack.aws import Aws, connect
from stacks.config import ConfigError, StageConfig, load_config

CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"
REQUIRED_OUTPUTS = ("StateMachineArn", "DataBucketName", "ArtifactsBucketName", "NamePrefix")


class StackError(RuntimeError):
    """The stack cannot be used: not deployed, not reachable, or missing an Output."""


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
    where = aws.endpoint_url or f"region {aws.region or '(none configured)'}"
    try:
        stacks = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as err:
        if "does not exist" in str(err):
            raise StackError(
                f"stack {name!r} is not deployed at {where}; deploy it (cdk deploy -c stage=...) "
                "or name another one with --stack"
            ) from None
        raise StackError(f"cannot describe stack {name!r} at {where}: {err}") from None
    except BotoCoreError as err:
        raise StackError(f"cannot reach CloudFormation at {where}: {err}") from None
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
