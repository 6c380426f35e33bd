"""`mlstack demo` (what `make demo` runs): local AWS, deploy, prepare, run, report, check, destroy."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from contracts.local_aws import ACCOUNT_ID, DEFAULT_PORT, REGION, client_env
from contracts.names import run_names
from mlstack import cli
from mlstack.aws import Aws
from mlstack.commands import error
from mlstack.commands.run import default_name
from mlstack.demo_steps import StepError, Steps, announce, cdk, environment
from mlstack.orphans import tagged
from mlstack.stack import StackError, stack_outputs, stage_config
from mlstack.tables import Rows, show

STAGE = "local"
DATASET = "bank"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `demo` to the CLI."""
    parser = subparsers.add_parser(
        "demo",
        help="the whole pipeline offline: local AWS, deploy, run, report, destroy",
        description="Start the embedded local AWS (unless it runs), deploy the 'local' stage, prepare and "
        "upload the bank dataset, run the pipeline, print the report, show that nothing is left running, "
        "destroy the stack and stop the local AWS - each only if the demo started it.",
        allow_abbrev=False,
    )
    parser.add_argument("--rows", type=int, default=5000, help="bank rows to generate (default 5000)")
    parser.add_argument("--keep", action="store_true", help="keep the stack and the local AWS running")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"local AWS port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where data, logs and the report go (default: a temp dir)"
    )
    parser.set_defaults(func=demo_command)


def _start_local(port: int, steps: Steps, keep: bool) -> int:
    """Reuse a running local AWS, else start one (and remember to stop it)."""
    from localaws import process  # the emulator only when the demo runs

    running = process.status()
    if running is not None and process.health(running.port) is not None:
        print(f"      already running at {running.url}: reusing it", flush=True)
        return running.port
    if process.health(port) is not None:
        print(f"      a local AWS answers on port {port}: reusing it", flush=True)
        return port
    started = process.up(port=port)
    print(f"      started at {started.url} (pid {started.pid})", flush=True)
    if not keep:
        steps.undo.append(("local down", lambda: print(f"      stopped pid {process.down()}")))
    return port


def _deployed(aws: Aws, stack: str) -> bool:
    try:
        stack_outputs(aws, stack)
    except StackError:
        return False
    return True


def _in_process(*argv: str) -> None:
    code = cli.main(list(argv))
    if code != 0:
        raise StepError(f"mlstack {' '.join(argv[:1])} exited with {code}")


def demo(args: argparse.Namespace, steps: Steps, workdir: Path) -> None:
    """Every step; anything started is registered in `steps.undo` as soon as it exists."""
    config = stage_config(STAGE)
    with steps.step("local AWS"):
        port = _start_local(args.port, steps, args.keep)
    env = client_env(port)
    with environment(env):
        aws = Aws(env)
        out_dir = workdir / "cdk.out"  # not the repository's cdk.out: others may be synthesizing into it
        context = ["-c", f"stage={STAGE}"]
        with steps.step(f"cdk bootstrap + deploy {config.stack_name} (stage {STAGE})"):
            existed = _deployed(aws, config.stack_name)
            cdk(
                ["bootstrap", f"aws://{ACCOUNT_ID}/{REGION}", *context],
                env,
                out_dir,
                workdir / "bootstrap.log",
            )
            if not existed and not args.keep:
                steps.undo.append(
                    (
                        f"cdk destroy {config.stack_name}",
                        lambda: cdk(["destroy", "--force", *context], env, out_dir, workdir / "destroy.log"),
                    )
                )
            cdk(["deploy", "--require-approval", "never", *context], env, out_dir, workdir / "deploy.log")
            outputs = stack_outputs(aws, config.stack_name)
        uri = f"s3://{outputs['DataBucketName']}/datasets/{DATASET}/"
        with steps.step(f"mlstack data prepare {DATASET} --rows {args.rows} --upload {uri}"):
            prepare = [
                sys.executable,
                "-m",
                "mlstack.cli",
                "data",
                "prepare",
                DATASET,
                "--rows",
                str(args.rows),
            ]
            prepare += ["--out", str(workdir / DATASET), "--upload", uri]
            if subprocess.run(prepare, check=False).returncode != 0:  # inherits the local AWS's env
                raise StepError("mlstack data prepare failed")
        name = default_name(uri, datetime.now(UTC))
        run_id = run_names(outputs["NamePrefix"], outputs["StateMachineArn"], name).run_id
        with steps.step(f"mlstack run --dataset {uri} --follow"):
            _in_process("run", "--stack", config.stack_name, "--dataset", uri, "--name", name, "--follow")
        with steps.step(f"mlstack report {run_id}"):
            _in_process("report", run_id, "--stack", config.stack_name, "--out", str(workdir / "report"))
        with steps.step("nothing left running: endpoints, endpoint configs, models of the stack"):
            left = tagged(aws.client("sagemaker"), config.stack_name)
            if left:
                show(
                    Rows(
                        "left behind",
                        ("kind", "name", "run"),
                        [(r.kind, r.name, r.run_id or "-") for r in left],
                    )
                )
                raise StepError(f"{len(left)} SageMaker resources are left behind")
            print("      none: every endpoint, endpoint config and model of the run is deleted", flush=True)


def demo_command(args: argparse.Namespace) -> int:
    """Handle `mlstack demo`: run the steps, then undo what they started, whatever happened."""
    from localaws import process

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mlstack-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    steps = Steps(total=6)
    reason = None
    try:
        demo(args, steps, workdir)
    except (StepError, StackError, process.LocalAwsError) as err:
        reason = str(err)
    except (ClientError, BotoCoreError) as err:
        reason = f"AWS call failed: {err}"
    except KeyboardInterrupt:
        reason = "interrupted"
    failures = steps.teardown()
    for failure in failures:
        error(f"teardown: {failure}")
    if reason:
        error(f"demo failed: {reason}")
        return 1
    if failures:
        return 1
    announce(f"demo finished; files in {workdir}" + (" (stack and local AWS kept)" if args.keep else ""))
    return 0
