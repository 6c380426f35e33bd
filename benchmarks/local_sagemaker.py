"""The local SageMaker at the compute limit: tuning's wall time over its trials' compute, endpoint start.

Runs the local SageMaker in this process (moto in memory, as its tests do) on the synthetic bank set.
- `tuning_wall_over_compute`: CreateHyperParameterTuningJob → Completed, divided by the time the same
  trials' hyperparameters take to fit here, one after another in one process (train.py's `train()`,
  one thread each, as a job has), over MaxParallelTrainingJobs. 1.0 would mean no cost at all for
  starting processes, downloading, uploading and scheduling trials.
- `tuning_overhead_s_per_trial`: the part of that wall time (times the parallelism) outside the
  trials' own processes, per trial.
- `plain_trials_over_compute`: the same trials as plain processes, PARALLEL at a time, each reading
  its channels from CSV (as every training container must) and fitting, over the same compute: the
  floor under `tuning_wall_over_compute` on this machine, which no engine can go below.
- `endpoint_start_s`: CreateEndpoint → InService for the pipeline's endpoint (a tuned XGBoost variant
  and an Autopilot candidate variant), median of several.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from training.bank import DEFAULT_ROWS, TARGET
from training.channels import read_channel
from training.hyperparameters import parse_hyperparameters
from training.prepare_data import prepare
from training.train import train
from training.tuning_ranges import parameter_ranges, static_hyperparameters, tuning_objective

TRIALS = 20
PARALLEL = 2
ENDPOINT_RUNS = 5
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default, where boto3's calls land
BUCKET = "bench"
ROLE = "arn:aws:iam::123456789012:role/bench-sagemaker"
XGB_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
TERMINAL = ("Completed", "Failed", "Stopped")


@contextmanager
def _local_sagemaker() -> Iterator[Any]:
    """The local SageMaker in this process, its fork server ready; yields a SageMaker client."""
    from localaws import sagemaker
    from localaws.sagemaker import procs

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL")}
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            sagemaker.install()
            procs.fork_server().wait_ready()
            try:
                yield boto3.client("sagemaker", region_name=REGION)
            finally:
                sagemaker.shutdown()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _until(describe: Callable[[], dict[str, Any]], status: str, done: tuple[str, ...]) -> dict[str, Any]:
    """Describe until `status` is one of `done`: every 10 ms, cheap reads of the local backend's record
    (Describe* through boto3 that often would take CPU from what is measured)."""
    while (described := describe())[status] not in done:
        time.sleep(0.01)
    return described


def _record(kind: str, name: str) -> Callable[[], dict[str, Any]]:
    """The local SageMaker's own view of a job or endpoint, as its Describe* would answer."""
    from localaws.sagemaker.models import backend

    store = getattr(backend(ACCOUNT, REGION), kind)
    return lambda: {"status": store.lookup(name).status}


def _channels(prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "ChannelName": name,
            "ContentType": "text/csv",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{prefix}/{name}/"}},
        }
        for name in ("train", "validation")
    ]


def _training_seconds(described: dict[str, Any]) -> float:
    """Seconds a training job spent in its Training stage (its own process running train.py)."""
    return sum(
        float((t["EndTime"] - t["StartTime"]).total_seconds())
        for t in described["SecondaryStatusTransitions"]
        if t["Status"] == "Training"
    )


def _tune(sm: Any, prefix: str) -> tuple[float, str, list[dict[str, Any]]]:
    """Wall seconds of a tuning job, its best training job, and each trial's DescribeTrainingJob."""
    request = {
        "HyperParameterTuningJobName": "bench-tuning",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": tuning_objective("binary"),
            "ResourceLimits": {"MaxNumberOfTrainingJobs": TRIALS, "MaxParallelTrainingJobs": PARALLEL},
            "ParameterRanges": parameter_ranges(),
            # Off: a stopped trial computes less than its hyperparameters fit in full here.
            "TrainingJobEarlyStoppingType": "Off",
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": static_hyperparameters("binary"),
            "AlgorithmSpecification": {"TrainingImage": XGB_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "InputDataConfig": _channels(prefix),
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/tuning"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    }
    start = time.perf_counter()
    sm.create_hyper_parameter_tuning_job(**request)
    _until(_record("tuning_jobs", "bench-tuning"), "status", TERMINAL)
    wall = time.perf_counter() - start
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="bench-tuning")
    if described["HyperParameterTuningJobStatus"] != "Completed":
        raise RuntimeError(f"the benchmark's tuning job ended {described['HyperParameterTuningJobStatus']}")
    trials = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="bench-tuning", MaxResults=100
    )["TrainingJobSummaries"]
    described_trials = [sm.describe_training_job(TrainingJobName=t["TrainingJobName"]) for t in trials]
    return wall, described["BestTrainingJob"]["TrainingJobName"], described_trials


def _fit_seconds(data_dir: Path, trials: list[dict[str, str]]) -> list[float]:
    """Seconds each trial's hyperparameters take to fit in this process, one thread, data in memory."""
    train_set = read_channel(data_dir / "train", "train")
    validation_set = read_channel(data_dir / "validation", "validation")
    seconds = []
    for hyperparameters in trials:
        parsed = parse_hyperparameters({**hyperparameters, "nthread": "1"})
        start = time.perf_counter()
        train(train_set, validation_set, parsed, emit=lambda _line: None)
        seconds.append(time.perf_counter() - start)
    return seconds


def _plain_trial(data_dir: str, hyperparameters: dict[str, str]) -> None:
    """What a trial's container must do, nothing more: read its channels from CSV, fit, one thread."""
    train_set = read_channel(Path(data_dir) / "train", "train")
    validation_set = read_channel(Path(data_dir) / "validation", "validation")
    parsed = parse_hyperparameters({**hyperparameters, "nthread": "1"})
    train(train_set, validation_set, parsed, emit=lambda _line: None)


def _plain_trials_seconds(data_dir: Path, trials: list[dict[str, str]]) -> float:
    """Wall seconds of the same trials as plain processes, PARALLEL at a time, no SageMaker around them:
    the floor for any engine on this machine (fits side by side contend; each reads its channels)."""
    context = multiprocessing.get_context("spawn")  # no fork of a process that has started OpenMP
    with ProcessPoolExecutor(PARALLEL, context) as pool:
        run = functools.partial(_plain_trial, str(data_dir))
        list(pool.map(run, trials[:PARALLEL]))  # every worker started and its imports done
        start = time.perf_counter()
        list(pool.map(run, trials))
        return time.perf_counter() - start


def _autopilot_candidate(sm: Any, prefix: str) -> dict[str, Any]:
    sm.create_auto_ml_job_v2(
        AutoMLJobName="bench-autopilot",
        AutoMLJobInputDataConfig=[
            {
                "ChannelType": "training",
                "ContentType": "text/csv;header=present",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{prefix}/autopilot/"}},
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/automl"},
        AutoMLProblemTypeConfig={
            "TabularJobConfig": {
                "TargetAttributeName": TARGET,
                "ProblemType": "BinaryClassification",
                "CompletionCriteria": {"MaxCandidates": 3, "MaxAutoMLJobRuntimeInSeconds": 60},
            }
        },
        AutoMLJobObjective={"MetricName": "AUC"},
        RoleArn=ROLE,
    )
    described = _until(
        lambda: sm.describe_auto_ml_job_v2(AutoMLJobName="bench-autopilot"), "AutoMLJobStatus", TERMINAL
    )
    if described["AutoMLJobStatus"] != "Completed":
        raise RuntimeError(f"the benchmark's AutoML job ended {described.get('FailureReason')}")
    container: dict[str, Any] = described["BestCandidate"]["InferenceContainers"][0]
    return container


def _endpoint_starts(sm: Any, training_job: str, candidate: dict[str, Any]) -> list[float]:
    artifacts = sm.describe_training_job(TrainingJobName=training_job)["ModelArtifacts"]["S3ModelArtifacts"]
    sm.create_model(
        ModelName="bench-tuned",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": artifacts},
    )
    sm.create_model(ModelName="bench-autopilot", ExecutionRoleArn=ROLE, PrimaryContainer=candidate)
    variants = [
        {
            "VariantName": name,
            "ModelName": f"bench-{name}",
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
        }
        for name in ("tuned", "autopilot")
    ]
    sm.create_endpoint_config(EndpointConfigName="bench", ProductionVariants=variants)
    seconds = []
    for run in range(ENDPOINT_RUNS):
        name = f"bench-{run}"
        start = time.perf_counter()
        sm.create_endpoint(EndpointName=name, EndpointConfigName="bench")
        _until(_record("endpoints", name), "status", ("InService", "Failed"))
        seconds.append(time.perf_counter() - start)
        described = sm.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] != "InService":
            raise RuntimeError(f"the benchmark's endpoint failed: {described.get('FailureReason')}")
        sm.delete_endpoint(EndpointName=name)
    return seconds


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, _local_sagemaker() as sm:
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        prefix = f"s3://{BUCKET}/datasets/bank"
        prepare("bank", out_dir=Path(tmp), rows=DEFAULT_ROWS, seed=42, upload=f"{prefix}/", s3_client=s3)
        wall, best, trials = _tune(sm, prefix)
        trials.sort(key=lambda t: t["CreationTime"])  # the order the tuning job launched them in
        fits = _fit_seconds(Path(tmp), [t["HyperParameters"] for t in trials])
        plain = _plain_trials_seconds(Path(tmp), [t["HyperParameters"] for t in trials])
        starts = _endpoint_starts(sm, best, _autopilot_candidate(sm, prefix))
    compute = sum(fits) / PARALLEL
    in_processes = sum(_training_seconds(t) for t in trials)
    return {
        "tuning_wall_over_compute": round(wall / compute, 2),
        # What the trials' own processes do not account for: launching, downloading, uploading,
        # scheduling, and slots left idle at the end; unlike the ratio, no other load inflates it.
        "tuning_overhead_s_per_trial": round((wall * PARALLEL - in_processes) / len(trials), 3),
        "plain_trials_over_compute": round(plain / compute, 2),
        "tuning_wall_s": round(wall, 2),
        "tuning_fit_s": round(sum(fits), 2),
        "tuning_trials": f"{len(fits)} trials, {PARALLEL} in parallel, {DEFAULT_ROWS} rows",
        "endpoint_start_s": round(statistics.median(starts), 3),
        "endpoint_start_samples_s": [round(s, 3) for s in starts],
    }


if __name__ == "__main__":  # pragma: no cover - manual use
    print(json.dumps(measure(), indent=2))
