"""Local pipeline: StartExecution → SUCCEEDED on the demo dataset, per state, and evaluation throughput.

Runs against its own local AWS (free port, private state dir): deploy the real stack (stage local),
prepare the bank set, run the pipeline several times, destroy.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
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


def _run_once(
    sfn: Any, machine: str, dataset: str, index: int
) -> tuple[float, dict[str, float], dict[str, Any]]:
    start = time.perf_counter()
    arn = sfn.start_execution(
        stateMachineArn=machine,
        name=f"bench-{index}-{int(time.time())}",
        input=json.dumps({"dataset": dataset}),
    )["executionArn"]
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if described["status"] != "SUCCEEDED":
        raise RuntimeError(f"benchmark execution ended {described['status']}: {described.get('cause')}")
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return wall, _state_seconds(events), json.loads(described["output"])


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MLSTACK_STATE_DIR"] = str(Path(tmp) / "state")
        port = ports.free_port()
        process.up(port=port)
        try:
            return _measure(Path(tmp), port)
        finally:
            process.down()


def _measure(tmp: Path, port: int) -> dict[str, Any]:
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
        session = _session(env)
        endpoint = env["AWS_ENDPOINT_URL"]
        dataset = f"s3://{outputs['DataBucketName']}/datasets/bank/"
        prepare(
            "bank",
            out_dir=tmp / "bank",
            rows=ROWS,
            upload=dataset,
            s3_client=session.client("s3", endpoint_url=endpoint),
        )
        sfn = session.client("stepfunctions", endpoint_url=endpoint)
        runs = [_run_once(sfn, outputs["StateMachineArn"], dataset, i) for i in range(RUNS)]
        evaluation = _evaluation(session.client("s3", endpoint_url=endpoint), runs[-1][2])
    finally:
        try:
            run_checked(["cdk", "destroy", *STAGE, *cdk_out, "--force"], env)
        except RuntimeError as error:  # the local AWS goes down next anyway; say so, keep the figures
            print(f"warning: cdk destroy failed in the benchmark: {error}", file=sys.stderr)
    walls = [wall for wall, _, _ in runs]
    median_index = walls.index(statistics.median_low(walls))
    timings = evaluation["timings"]
    rows = evaluation["test_rows"] * len(evaluation["variants"])
    return {
        "pipeline_s": round(statistics.median(walls), 2),
        "pipeline_samples_s": [round(w, 2) for w in walls],
        "pipeline_states_s": runs[median_index][1],
        "pipeline_rows": ROWS,
        "deploy_s": round(deploy_s, 2),
        "eval_rows_per_s": round(rows / timings["score_s"], 1),
    }


def _evaluation(s3: Any, output: dict[str, Any]) -> dict[str, Any]:
    bucket, key = output["evaluation"]["evaluation"].removeprefix("s3://").split("/", 1)
    return dict(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))


if __name__ == "__main__":  # pragma: no cover - manual use
    print(json.dumps(measure(), indent=2))
