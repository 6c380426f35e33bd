"""Run objects as ValidateInput returns them, built through the contract without AWS for other handlers."""

from __future__ import annotations

import copy
from dataclasses import asdict
from typing import Any, cast

from contracts.costs import CostInputs, estimate
from contracts.names import run_names
from contracts.prices import load as load_prices
from contracts.run import (
    AlgorithmSpecification,
    Autopilot,
    Endpoint,
    Limits,
    ResourceConfig,
    ResourceLimits,
    Run,
    RunCost,
    RunDataset,
    StoppingCondition,
    Tag,
    Tuning,
    TuningConfig,
)
from tests.handlers.conftest import ARTIFACTS_BUCKET, DATA_BUCKET, ENV, REGION, STATE_MACHINE

EXECUTION = "nightly-2026-11-22"
NAMES = run_names("mlstest", STATE_MACHINE, EXECUTION)
XGBOOST_IMAGE = ENV["XGBOOST_IMAGE"]
CLASSES = {"binary": ["no", "yes"], "multiclass": ["a", "b", "c"], "regression": []}
TUNING_OBJECTIVES = {
    "binary": {"Type": "Maximize", "MetricName": "validation:auc"},
    "multiclass": {"Type": "Minimize", "MetricName": "validation:mlogloss"},
    "regression": {"Type": "Minimize", "MetricName": "validation:rmse"},
}
AUTOPILOT_OBJECTIVES = {"binary": "AUC", "multiclass": "F1macro", "regression": "RMSE"}
COST_INPUTS = CostInputs(
    region=REGION,
    training_instance_type="ml.m5.xlarge",
    training_instance_count=1,
    tuning_max_jobs=8,
    training_max_runtime_s=3600,
    use_spot=False,
    autopilot_max_candidates=4,
    autopilot_max_runtime_s=3600,
    endpoint_instance_type="ml.m5.large",
    endpoint_wait_s=1800,
)


def make_run(problem_type: str = "binary", **changes: Any) -> Run:
    """A run object for `problem_type`; `changes` replace top-level keys."""
    root = f"s3://{DATA_BUCKET}/datasets/bank/"
    run = Run(
        run_id=NAMES.run_id,
        execution_name=EXECUTION,
        problem_type=problem_type,
        target="y",
        classes=list(CLASSES[problem_type]),
        dataset=RunDataset(
            uri=root,
            train=root + "train/",
            validation=root + "validation/",
            test=root + "test/",
            test_raw=root + "test-raw/",
            autopilot=root + "autopilot/",
            manifest=root + "manifest.json",
        ),
        names=NAMES.as_run_names(),
        tuning=Tuning(
            config=TuningConfig(
                Strategy="Bayesian",
                HyperParameterTuningJobObjective=dict(TUNING_OBJECTIVES[problem_type]),
                ResourceLimits=ResourceLimits(MaxNumberOfTrainingJobs=8, MaxParallelTrainingJobs=2),
                ParameterRanges={},
                TrainingJobEarlyStoppingType="Auto",
            ),
            algorithm=AlgorithmSpecification(TrainingImage=XGBOOST_IMAGE, TrainingInputMode="File"),
            input_data_config=[
                {"ChannelName": name, "DataSource": {"S3DataSource": {"S3Uri": f"{root}{name}/"}}}
                for name in ("train", "validation")
            ],
            static_hyperparameters={},
            resource_config=ResourceConfig(InstanceType="ml.m5.xlarge", InstanceCount=1, VolumeSizeInGB=30),
            stopping_condition=StoppingCondition(MaxRuntimeInSeconds=3600),
            use_spot=False,
            output_path=f"s3://{ARTIFACTS_BUCKET}/jobs/{NAMES.run_id}/tuning/",
        ),
        autopilot=Autopilot(
            problem_type_config={},
            objective={"MetricName": AUTOPILOT_OBJECTIVES[problem_type]},
            output_path=f"s3://{ARTIFACTS_BUCKET}/jobs/{NAMES.run_id}/autopilot/",
        ),
        endpoint=Endpoint(instance_type="ml.m5.large", keep=False, expires="2026-11-22T09:00:00Z"),
        poll_seconds=60,
        limits=Limits(autopilot_max_polls=75, endpoint_max_polls=30),
        tags=[
            Tag(Key="mlstack:stack", Value="MlStack-test"),
            Tag(Key="mlstack:run", Value=NAMES.run_id),
            Tag(Key="mlstack:expires", Value="2026-11-22T09:00:00Z"),
        ],
        report_prefix=f"s3://{ARTIFACTS_BUCKET}/reports/{NAMES.run_id}/",
        cost=RunCost(
            region=REGION,
            max_cost_usd=None,
            inputs=asdict(COST_INPUTS),
            estimate=estimate(COST_INPUTS, load_prices()),
        ),
    )
    return cast(Run, {**run, **copy.deepcopy(changes)})
