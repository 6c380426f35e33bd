"""Local pipeline: StartExecution → SUCCEEDED on the demo dataset, per state, and evaluation throughput.

Runs against its own local AWS (free port, private state dir): deploy the real stack (stage local),
prepare the bank set, run the pipeline several times, destroy.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from benchmarks.common import run_checked, tool_env
from localaws import ports, process
from localaws.settings import client_env
from training.prepare_data import prepare

RUNS = 3
ROWS = 5000
STAGE = ["--context", "stage=local"]


def _session(env: dict[str, str]) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )


def _state_seconds(events: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds spent in each state (summed over loop iterations), from the execution history."""
    entered: dict[str, list[float]] = defaultdict(list)
    spent: dict[str, float] = defaultdict(float)
    for event in events:
        at = event["timestamp"].timestamp()
        if "stateEnteredEventDetails" in event:
            entered[event["stateEnteredEventDetails"]["name"]].append(at)
        elif "stateExitedEventDetails" in event:
            name = event["stateExitedEventDetails"]["name"]
            if entered[name]:
                spent[name] += at - entered[name].pop()
    return {name: round(seconds, 2) for name, seconds in spent.items()}


def run_once(
    sfn: Any, machine: str, dataset: str, name: str, overrides: dict[str, Any] | None = None
) -> tuple[float, dict[str, float], dict[str, Any]]:
    """One execution to its end: wall seconds, seconds per state, and its output."""
    start = time.perf_counter()
    arn = sfn.start_execution(
        stateMachineArn=machine,
        name=f"{name}-{int(time.time())}",
        input=json.dumps({"dataset": dataset, **(overrides or {})}),
    )["executionArn"]
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if described["status"] != "SUCCEEDED":
        raise RuntimeError(f"benchmark execution ended {described['status']}: {described.get('cause')}")
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return wall, _state_seconds(events), json.loads(described["output"])


@dataclass(frozen=True)
class Stack:
    """The real stack (stage local) deployed on a local AWS of its own."""

    tmp: Path
    session: boto3.Session
    endpoint: str
    outputs: dict[str, str]
    deploy_s: float
    server_pid: int

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def dataset(self, name: str, rows: int | None) -> str:
        """Prepare and upload a dataset; its s3:// prefix."""
        uri = f"s3://{self.outputs['DataBucketName']}/datasets/{name}-{rows}/"
        prepare(name, out_dir=self.tmp / f"{name}-{rows}", rows=rows, upload=uri, s3_client=self.client("s3"))
        return uri


@contextlib.contextmanager
def local_stack() -> Iterator[Stack]:
    """A local AWS on a free port (private state dir) with the stack deployed; destroyed and stopped after."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MLSTACK_STATE_DIR"] = str(Path(tmp) / "state")
        port = ports.free_port()
        status = process.up(port=port)
        try:
            yield from _deployed(Path(tmp), port, status.pid)
        finally:
            process.down()


def _deployed(tmp: Path, port: int, server_pid: int) -> Iterator[Stack]:
    env = tool_env(client_env(port))
    outputs_file = tmp / "outputs.json"
    cdk_out = ["--output", str(tmp / "cdk.out")]
    run_checked(["cdk", "bootstrap", *STAGE, *cdk_out], env)
    deploy = [
        "cdk",
        "deploy",
        *STAGE,
        *cdk_out,
        "--require-approval",
        "never",
        "--outputs-file",
        str(outputs_file),
    ]
    deploy_start = time.perf_counter()
    run_checked(deploy, env)
    deploy_s = time.perf_counter() - deploy_start
    try:
        (outputs,) = json.loads(outputs_file.read_text()).values()
        yield Stack(tmp, _session(env), env["AWS_ENDPOINT_URL"], outputs, deploy_s, server_pid)
    finally:
        try:
            run_checked(["cdk", "destroy", *STAGE, *cdk_out, "--force"], env)
        except RuntimeError as error:  # the local AWS goes down next anyway; say so, keep the figures
            print(f"warning: cdk destroy failed in the benchmark: {error}", file=sys.stderr)


def measure() -> dict[str, Any]:
    with local_stack() as stack:
        dataset = stack.dataset("bank", ROWS)
        sfn = stack.client("stepfunctions")
        runs = [run_once(sfn, stack.outputs["StateMachineArn"], dataset, f"bench-{i}") for i in range(RUNS)]
        evaluation = _evaluation(stack.client("s3"), runs[-1][2])
    walls = [wall for wall, _, _ in runs]
    median_index = walls.index(statistics.median_low(walls))
    timings = evaluation["timings"]
    rows = evaluation["test_rows"] * len(evaluation["variants"])
    return {
        "pipeline_s": round(statistics.median(walls), 2),
        "pipeline_samples_s": [round(w, 2) for w in walls],
        "pipeline_states_s": runs[median_index][1],
        "pipeline_rows": ROWS,
        "deploy_s": round(stack.deploy_s, 2),
        "eval_rows_per_s": round(rows / timings["score_s"], 1),
    }


def _evaluation(s3: Any, output: dict[str, Any]) -> dict[str, Any]:
    bucket, key = output["evaluation"]["evaluation"].removeprefix("s3://").split("/", 1)
    return dict(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))


if __name__ == "__main__":  # pragma: no cover - manual use
    print(json.dumps(measure(), indent=2))
