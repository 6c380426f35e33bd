"""ValidateInput's warm start: parents become WarmStartConfig, or InvalidInput says what to change."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from contracts.names import tuning_job_name
from handlers.common import clients
from handlers.common.errors import InvalidInput
from handlers.validate_input.handler import lambda_handler
from tests.handlers.conftest import ACCOUNT, DATA_BUCKET, ENV, REGION, STATE_MACHINE
from training import tuning_ranges

PREFIX = ENV["NAME_PREFIX"]
IMAGE = ENV["XGBOOST_IMAGE"]
PARENT = "bank-2026-1a2b3c4d"
STATIC = {"objective": "binary:logistic", "eval_metric": "auc", "early_stopping_rounds": "10"}


def event(given: dict[str, Any]) -> dict[str, Any]:
    name = "round-two"
    return {
        "input": given,
        "execution": {
            "name": name,
            "id": STATE_MACHINE.replace(":stateMachine:", ":execution:") + f":{name}",
            "state_machine": STATE_MACHINE,
            "start_time": "2026-11-22T05:00:00Z",
        },
    }


def described(run_id: str = PARENT, dataset: str = "bank", **changes: Any) -> dict[str, Any]:
    """A parent's DescribeHyperParameterTuningJob answer, as the stack's Tune state creates them."""
    answer: dict[str, Any] = {
        "HyperParameterTuningJobName": tuning_job_name(PREFIX, run_id),
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:hyper-parameter-tuning-job/p",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 8, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": tuning_ranges.parameter_ranges(tuning_ranges.DEFAULT_RANGES),
            "TrainingJobEarlyStoppingType": "Auto",
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": dict(STATIC),
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ENV["SAGEMAKER_ROLE_ARN"],
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": f"s3://{DATA_BUCKET}/datasets/{dataset}/train/",
                        }
                    },
                }
            ],
            "OutputDataConfig": {"S3OutputPath": "s3://artifacts/jobs/p/tuning/"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
        "HyperParameterTuningJobStatus": "Completed",
        "CreationTime": datetime(2026, 11, 22, tzinfo=UTC),
        "TrainingJobStatusCounters": {"Completed": 8},
        "ObjectiveStatusCounters": {"Succeeded": 8},
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = answer
        for key in parents:
            node = node[key]
        node[last] = value
    return answer


@pytest.fixture
def sagemaker() -> Iterator[Stubber]:
    with Stubber(clients.sagemaker()) as stub:
        yield stub
        stub.assert_no_pending_responses()


def expect(stub: Stubber, *answers: dict[str, Any]) -> None:
    for answer in answers:
        stub.add_response(
            "describe_hyper_parameter_tuning_job",
            copy.deepcopy(answer),
            {"HyperParameterTuningJobName": answer["HyperParameterTuningJobName"]},
        )


def test_a_parent_on_the_same_data_warm_starts_identical_data_and_algorithm(put_dataset, context, sagemaker):
    # Given a completed parent run on the same dataset, with the same ranges
    expect(sagemaker, described())
    # When a run names it in warm_start
    run = lambda_handler(event({"dataset": put_dataset(), "warm_start": [PARENT]}), context)
    # Then the tuning job starts from the parent's tuning job, as identical data and algorithm
    assert run["tuning"]["warm_start"] == {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": f"{PREFIX}-{PARENT}-hpo"}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }


def test_narrowed_ranges_and_other_data_warm_start_as_transfer_learning(put_dataset, context, sagemaker):
    # Given parents that trained on another dataset (one with more rows, say)
    other = "bank-2026-99999999"
    expect(sagemaker, described(dataset="bank-small"), described(other, dataset="bank-small"))
    given = {
        "dataset": put_dataset(),
        "warm_start": [PARENT, other],
        "tuning_ranges": {"eta": {"min": 0.05, "max": 0.2, "scaling": "Linear"}, "max_depth": {"max": 6}},
    }
    # When the run warm-starts from both with narrowed ranges
    run = lambda_handler(event(given), context)
    # Then their results become prior knowledge: transfer learning
    config = run["tuning"]["warm_start"]
    assert config["WarmStartType"] == "TransferLearning"
    assert [p["HyperParameterTuningJobName"] for p in config["ParentHyperParameterTuningJobs"]] == [
        f"{PREFIX}-{PARENT}-hpo",
        f"{PREFIX}-{other}-hpo",
    ]


def test_a_cold_start_has_no_warm_start_key(put_dataset, context):
    run = lambda_handler(event({"dataset": put_dataset()}), context)
    assert "warm_start" not in run["tuning"]


@pytest.mark.parametrize(
    ("parent", "given", "message"),
    [
        (
            described(HyperParameterTuningJobStatus="InProgress"),
            {},
            "run 'bank-2026-1a2b3c4d''s tuning job is InProgress; a parent must have ended "
            "(Completed, Stopped, Failed): wait for it, or leave it out",
        ),
        (
            described(),
            {"objective": "validation:logloss"},
            "run 'bank-2026-1a2b3c4d' tuned validation:auc, this run validation:logloss; a warm start "
            "keeps the objective: give objective validation:auc",
        ),
        (
            described(),
            {"tuning_ranges": {"gamma": {"min": 0, "max": 5}}},
            "SageMaker keeps the set of static plus tuned hyperparameters in a warm start, and run "
            "'bank-2026-1a2b3c4d''s differs: this run adds gamma (leave it out of tuning_ranges)",
        ),
        (
            described(HyperParameterTuningJobConfig__ParameterRanges={"IntegerParameterRanges": []}),
            {},
            "this run adds alpha, colsample_bytree, eta, max_depth, min_child_weight, num_round, subsample",
        ),
        (
            described(dataset="other"),
            {"warm_start_type": "IdenticalDataAndAlgorithm"},
            "warm_start_type IdenticalDataAndAlgorithm: run 'bank-2026-1a2b3c4d' trained on "
            "s3://mlstack-data-test/datasets/other/train/, this run on "
            "s3://mlstack-data-test/datasets/bank/train/; give warm_start_type TransferLearning",
        ),
        (
            described(
                TrainingJobDefinition__AlgorithmSpecification={
                    "TrainingImage": IMAGE.replace("1.7-1", "1.5-1"),
                    "TrainingInputMode": "File",
                }
            ),
            {},
            "IdenticalDataAndAlgorithm needs the same image: give warm_start_type TransferLearning",
        ),
        (
            described(TrainingJobStatusCounters={"Completed": 745}),
            {},
            "the parents ran 745 training jobs, which count against SageMaker's 750 per tuning job: "
            "give tuning_max_jobs 5 or less",
        ),
    ],
)
def test_a_warm_start_sagemaker_would_refuse_is_refused_saying_what_to_change(
    put_dataset, context, sagemaker, parent, given, message
):
    # Given a parent that breaks one of SageMaker's warm-start rules against this run
    expect(sagemaker, parent)
    # When a run warm-starts from it, Then ValidateInput refuses it before anything bills
    with pytest.raises(InvalidInput, match=re.escape(message)):
        lambda_handler(event({"dataset": put_dataset(), "warm_start": [PARENT], **given}), context)


@pytest.mark.parametrize(("values", "refused"), [(10, True), (4, False)])
def test_at_most_ten_changes_between_tuned_and_static(put_dataset, context, sagemaker, values, refused):
    # Given a parent that tuned early_stopping_rounds over `values` categorical values (this run fixes it:
    # one change per value) and fixed another objective (a changed static value: two changes)
    parent = described()
    parent["HyperParameterTuningJobConfig"]["ParameterRanges"]["CategoricalParameterRanges"] = [
        {"Name": "early_stopping_rounds", "Values": [str(5 + i) for i in range(values)]}
    ]
    static = {**STATIC, "objective": "binary:logitraw"}
    del static["early_stopping_rounds"]
    parent["TrainingJobDefinition"]["StaticHyperParameters"] = static
    expect(sagemaker, parent)
    given = event({"dataset": put_dataset(), "warm_start": [PARENT]})
    # When a run warm-starts from it, Then more than SageMaker's 10 changes are refused
    if refused:
        with pytest.raises(
            InvalidInput, match=r"12 changes from run 'bank-2026-1a2b3c4d' .*SageMaker allows 10"
        ):
            lambda_handler(given, context)
    else:
        assert (
            lambda_handler(given, context)["tuning"]["warm_start"]["WarmStartType"]
            == "IdenticalDataAndAlgorithm"
        )


def test_grid_search_cannot_warm_start(put_dataset, context, sagemaker):
    expect(sagemaker, described())
    with pytest.raises(InvalidInput, match="Grid search runs every point of its grid"):
        lambda_handler(
            event({"dataset": put_dataset(), "warm_start": [PARENT], "tuning_strategy": "Grid"}), context
        )


def test_a_run_without_a_tuning_job_in_this_stack_is_named(put_dataset, context, sagemaker):
    sagemaker.add_client_error(
        "describe_hyper_parameter_tuning_job",
        "ResourceNotFound",
        f"Amazon SageMaker can't find a tuning job with name {PREFIX}-gone-00000000-hpo",
    )
    with pytest.raises(InvalidInput, match="run 'gone-00000000' has no tuning job in this stack"):
        lambda_handler(event({"dataset": put_dataset(), "warm_start": ["gone-00000000"]}), context)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"warm_start": "bank-2026-1a2b3c4d"}, "warm_start: expected a list of run ids"),
        ({"warm_start": []}, "warm_start: expected a list of run ids"),
        ({"warm_start": [f"r{i}" for i in range(6)]}, "6 runs given; SageMaker takes at most 5 parents"),
        ({"warm_start": ["a1", "a1"]}, "a run is named twice"),
        ({"warm_start": ["a1"], "warm_start_type": "IDENTICAL"}, "warm_start_type: expected one of"),
        ({"warm_start_type": "TransferLearning"}, "warm_start_type: given without warm_start"),
        ({"warm_start": ["not a run id!"]}, "'not a run id!' is not a run id of this stack"),
    ],
)
def test_a_malformed_warm_start_is_refused_before_any_call(put_dataset, context, sagemaker, given, message):
    with pytest.raises(InvalidInput, match=message):
        lambda_handler(event({"dataset": put_dataset(), **given}), context)
