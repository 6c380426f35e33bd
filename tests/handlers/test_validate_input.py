"""ValidateInput: the run object for good input, and a clear InvalidInput for every kind of bad input."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from contracts.names import run_names
from contracts.run import Run
from handlers.common import clients
from handlers.common.errors import ConfigurationError, InvalidInput
from handlers.validate_input.handler import lambda_handler
from handlers.validate_input.options import KNOWN_KEYS
from tests.handlers.conftest import (
    ARTIFACTS_BUCKET,
    DATA_BUCKET,
    ENV,
    STAGE_DEFAULTS,
    STATE_MACHINE,
    manifest,
    script_wire,
    throttling,
)
from tests.shapes import mismatches
from training import tuning_ranges

EXECUTION = "nightly-2026-11-22"


def event(given: Any, name: str = EXECUTION) -> dict[str, Any]:
    return {
        "input": given,
        "execution": {
            "name": name,
            "id": STATE_MACHINE.replace(":stateMachine:", ":execution:") + f":{name}",
            "state_machine": STATE_MACHINE,
            "start_time": "2026-11-22T05:00:00.123Z",
        },
    }


def test_good_input_gives_the_whole_run_object(put_dataset, context):
    # Given a prepared binary dataset in the data bucket
    uri = put_dataset()
    # When the input names only the dataset
    run = lambda_handler(event({"dataset": uri}), context)
    # Then the run has exactly the contract's fields, filled from the manifest and the stage defaults
    names = run_names("mlstest", STATE_MACHINE, EXECUTION)
    assert mismatches(run, Run) == []
    assert run["run_id"] == names.run_id
    assert run["names"] == names.as_dict()
    assert (run["execution_name"], run["problem_type"], run["target"]) == (EXECUTION, "binary", "y")
    assert run["classes"] == ["no", "yes"]
    assert run["dataset"] == {
        "uri": uri,
        "train": uri + "train/",
        "validation": uri + "validation/",
        "test": uri + "test/",
        "test_raw": uri + "test-raw/",
        "autopilot": uri + "autopilot/",
        "manifest": uri + "manifest.json",
    }
    tuning = run["tuning"]
    assert tuning["config"] == {
        "Strategy": "Bayesian",
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 8, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": tuning_ranges.parameter_ranges(tuning_ranges.DEFAULT_RANGES),
        "TrainingJobEarlyStoppingType": "Auto",
    }
    assert tuning["static_hyperparameters"] == {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "early_stopping_rounds": "10",
    }
    assert tuning["resource_config"] == {
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    }
    assert tuning["stopping_condition"] == {"MaxRuntimeInSeconds": 3600}
    assert tuning["use_spot"] is False
    assert tuning["output_path"] == f"s3://{ARTIFACTS_BUCKET}/jobs/{names.run_id}/tuning/"
    # Built-in XGBoost in the stack's image, on the train and validation channels; no script
    assert tuning["algorithm"] == {"TrainingImage": ENV["XGBOOST_IMAGE"], "TrainingInputMode": "File"}
    assert [(c["ChannelName"], c["ContentType"]) for c in tuning["input_data_config"]] == [
        ("train", "text/csv"),
        ("validation", "text/csv"),
    ]
    assert tuning["input_data_config"][0]["DataSource"]["S3DataSource"]["S3Uri"] == uri + "train/"
    assert "script" not in tuning
    assert run["autopilot"] == {
        "problem_type_config": {
            "TabularJobConfig": {
                "TargetAttributeName": "y",
                "ProblemType": "BinaryClassification",
                "CompletionCriteria": {"MaxCandidates": 4, "MaxAutoMLJobRuntimeInSeconds": 3600},
                "Mode": "ENSEMBLING",
            }
        },
        "objective": {"MetricName": "AUC"},
        "output_path": f"s3://{ARTIFACTS_BUCKET}/jobs/{names.run_id}/autopilot/",
    }
    assert run["endpoint"] == {
        "instance_type": "ml.m5.large",
        "keep": False,
        "expires": "2026-11-22T09:00:00Z",
    }
    assert run["poll_seconds"] == 60
    assert run["limits"] == {"autopilot_max_polls": 75, "endpoint_max_polls": 30}
    assert run["tags"] == [
        {"Key": "mlstack:stack", "Value": "MlStack-test"},
        {"Key": "mlstack:run", "Value": names.run_id},
        {"Key": "mlstack:expires", "Value": "2026-11-22T09:00:00Z"},
    ]
    assert run["report_prefix"] == f"s3://{ARTIFACTS_BUCKET}/reports/{names.run_id}/"
    assert len(json.dumps(run)) < 16_000  # far below Step Functions' 256 KB payload limit


def test_overrides_reach_every_block(put_dataset, context):
    # Given a multiclass dataset
    uri = put_dataset(doc=manifest("multiclass"))
    given = {
        "dataset": uri,
        "objective": "merror",
        "tuning_strategy": "Hyperband",
        "tuning_max_jobs": 20,
        "tuning_max_parallel_jobs": 4,
        "tuning_ranges": {"eta": {"min": 0.05, "max": 0.3}, "gamma": {"min": 0, "max": 5}},
        "use_spot_training": True,
        "training_max_runtime_s": 900,
        "training_instance_type": "ml.c5.2xlarge",
        "endpoint_instance_type": "ml.c5.large",
        "autopilot_max_candidates": 10,
        "autopilot_max_runtime_s": 1800,
        "autopilot_mode": "HYPERPARAMETER_TUNING",
        "poll_seconds": 7,
        "keep_endpoint": True,
        "endpoint_ttl_hours": 1.5,
    }
    # When every override is given
    run = lambda_handler(event(given), context)
    # Then each lands where the state machine reads it, in the contract's shape
    assert mismatches(run, Run) == []
    tuning = run["tuning"]
    config = tuning["config"]
    assert config["Strategy"] == "Hyperband"
    assert config["TrainingJobEarlyStoppingType"] == "Off"  # SageMaker requires it for Hyperband
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Minimize",
        "MetricName": "validation:merror",
    }
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 4}
    continuous = {r["Name"]: r for r in config["ParameterRanges"]["ContinuousParameterRanges"]}
    assert (continuous["eta"]["MinValue"], continuous["eta"]["MaxValue"]) == ("0.05", "0.3")
    assert continuous["eta"]["ScalingType"] == "Logarithmic"  # the default's scaling is kept
    assert (continuous["gamma"]["MinValue"], continuous["gamma"]["MaxValue"]) == ("0", "5")
    assert continuous["alpha"] == next(r.to_api() for r in tuning_ranges.DEFAULT_RANGES if r.name == "alpha")
    assert tuning["static_hyperparameters"]["objective"] == "multi:softprob"
    assert tuning["static_hyperparameters"]["eval_metric"] == "merror"
    assert tuning["static_hyperparameters"]["num_class"] == "3"
    assert tuning["stopping_condition"] == {"MaxRuntimeInSeconds": 900, "MaxWaitTimeInSeconds": 1800}
    assert tuning["use_spot"] is True
    assert tuning["resource_config"]["InstanceType"] == "ml.c5.2xlarge"
    tabular = run["autopilot"]["problem_type_config"]["TabularJobConfig"]
    assert tabular["ProblemType"] == "MulticlassClassification"
    assert tabular["Mode"] == "HYPERPARAMETER_TUNING"
    assert tabular["CompletionCriteria"] == {"MaxCandidates": 10, "MaxAutoMLJobRuntimeInSeconds": 1800}
    assert run["autopilot"]["objective"] == {"MetricName": "F1macro"}
    assert run["endpoint"] == {
        "instance_type": "ml.c5.large",
        "keep": True,
        "expires": "2026-11-22T06:30:00Z",
    }
    assert run["poll_seconds"] == 7
    assert run["limits"] == {
        "autopilot_max_polls": math.ceil(2700 / 7),
        "endpoint_max_polls": math.ceil(1800 / 7),
    }


def test_regression_uses_rmse_and_no_classes(put_dataset, context):
    uri = put_dataset(doc=manifest("regression"))
    run = lambda_handler(event({"dataset": uri, "objective": "validation:mae"}), context)
    assert mismatches(run, Run) == []
    assert run["classes"] == []
    assert run["tuning"]["config"]["HyperParameterTuningJobObjective"] == {
        "Type": "Minimize",
        "MetricName": "validation:mae",
    }
    assert run["tuning"]["static_hyperparameters"]["objective"] == "reg:squarederror"
    assert run["autopilot"]["objective"] == {"MetricName": "RMSE"}


def test_grid_search_gets_categorical_ranges_within_the_budget(put_dataset, context):
    uri = put_dataset()
    run = lambda_handler(event({"dataset": uri, "tuning_strategy": "Grid", "tuning_max_jobs": 12}), context)
    assert mismatches(run, Run) == []
    config, static = run["tuning"]["config"], run["tuning"]["static_hyperparameters"]
    ranges = config["ParameterRanges"]
    assert ranges["IntegerParameterRanges"] == [] and ranges["ContinuousParameterRanges"] == []
    sizes = [len(r["Values"]) for r in ranges["CategoricalParameterRanges"]]
    assert all(size >= 2 for size in sizes)
    assert math.prod(sizes) == config["ResourceLimits"]["MaxNumberOfTrainingJobs"] <= 12
    # Every default hyperparameter is either on the grid or fixed at a value inside its range
    on_grid = {r["Name"] for r in ranges["CategoricalParameterRanges"]}
    fixed = {r.name for r in tuning_ranges.DEFAULT_RANGES} - on_grid
    for item in tuning_ranges.DEFAULT_RANGES:
        if item.name in fixed:
            assert item.min_value <= float(static[item.name]) <= item.max_value
    assert "eta" in on_grid


def test_a_smaller_job_budget_narrows_the_default_parallelism(put_dataset, context):
    run = lambda_handler(event({"dataset": put_dataset(), "tuning_max_jobs": 1}), context)
    assert run["tuning"]["config"]["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": 1,
        "MaxParallelTrainingJobs": 1,
    }


def test_throttled_s3_listing_is_retried(put_dataset, context):
    # Given S3 throttles the first channel listing
    uri = put_dataset()
    script = script_wire(clients.s3(), "ListObjectsV2", [throttling("xml")])
    # When the input is validated
    run = lambda_handler(event({"dataset": uri}), context)
    # Then the client retried and validation went on
    assert run["problem_type"] == "binary"
    assert script.sent == 6  # 1 throttled + 5 channels listed


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("dataset missing", {}, "dataset: missing"),
    ("unknown key", {"tuning_jobs": 3}, "unknown keys tuning_jobs; known keys: .*tuning_max_jobs"),
    ("not an s3 uri", {"dataset": "https://example.com/datasets/bank/"}, "expected an s3:// URI"),
    ("dataset not a string", {"dataset": 42}, "expected an s3:// URI"),
    (
        "outside the data bucket",
        {"dataset": "s3://other-bucket/datasets/bank/"},
        f"s3://other-bucket/datasets/bank/ is outside the data bucket '{DATA_BUCKET}'; "
        "upload it with mlstack data prepare --upload",
    ),
    ("no trailing slash", {"dataset": f"s3://{DATA_BUCKET}/datasets/bank"}, "must be a prefix ending in '/'"),
    ("bucket root", {"dataset": f"s3://{DATA_BUCKET}/"}, "is not a dataset prefix"),
    (
        "extra prefix level",
        {"dataset": f"s3://{DATA_BUCKET}/datasets/bank/train/"},
        "is not a dataset prefix",
    ),
    ("missing datasets/ prefix", {"dataset": f"s3://{DATA_BUCKET}/bank/"}, "is not a dataset prefix"),
    (
        "unknown objective",
        {"objective": "validation:rmse"},
        "objective: 'validation:rmse' does not fit a binary",
    ),
    ("jobs zero", {"tuning_max_jobs": 0}, "tuning_max_jobs: expected an integer from 1 to 750, got 0"),
    ("jobs too many", {"tuning_max_jobs": 751}, "tuning_max_jobs: expected an integer from 1 to 750"),
    ("jobs as text", {"tuning_max_jobs": "8"}, "tuning_max_jobs: expected an integer"),
    ("jobs as bool", {"tuning_max_jobs": True}, "tuning_max_jobs: expected an integer"),
    (
        "parallel too many",
        {"tuning_max_parallel_jobs": 101},
        "tuning_max_parallel_jobs: expected an integer from 1 to 100",
    ),
    (
        "parallel above jobs",
        {"tuning_max_jobs": 2, "tuning_max_parallel_jobs": 3},
        "tuning_max_parallel_jobs: 3 is more than tuning_max_jobs",
    ),
    (
        "candidates zero",
        {"autopilot_max_candidates": 0},
        "autopilot_max_candidates: expected an integer from 1 to 750",
    ),
    ("candidates too many", {"autopilot_max_candidates": 751}, "autopilot_max_candidates"),
    (
        "training runtime short",
        {"training_max_runtime_s": 59},
        "training_max_runtime_s: expected an integer from 60",
    ),
    (
        "autopilot runtime short",
        {"autopilot_max_runtime_s": 30},
        "autopilot_max_runtime_s: expected an integer from 60",
    ),
    ("poll zero", {"poll_seconds": 0}, "poll_seconds: expected an integer from 1 to 3600"),
    ("poll too long", {"poll_seconds": 3601}, "poll_seconds"),
    ("ttl zero", {"endpoint_ttl_hours": 0}, "endpoint_ttl_hours: expected a number of hours above 0"),
    ("ttl text", {"endpoint_ttl_hours": "4"}, "endpoint_ttl_hours"),
    (
        "unknown strategy",
        {"tuning_strategy": "Evolutionary"},
        "tuning_strategy: expected one of Bayesian, Random",
    ),
    ("unknown mode", {"autopilot_mode": "FAST"}, "autopilot_mode: expected one of ENSEMBLING"),
    (
        "bad instance type",
        {"training_instance_type": "m5.large"},
        "training_instance_type: expected a SageMaker training instance type",
    ),
    # Valid for endpoints, not for training: the tuning API would refuse them minutes into the run.
    ("endpoint-only type", {"training_instance_type": "ml.t2.medium"}, "ml.t2.medium is only for endpoints"),
    ("small c5", {"training_instance_type": "ml.c5.large"}, "ml.c5.large is only for endpoints"),
    (
        "training-only type",
        {"endpoint_instance_type": "ml.c5n.xlarge"},
        "ml.c5n.xlarge is only for training jobs",
    ),
    # Local NVMe storage: SageMaker refuses the stack's volume key for these.
    ("nvme training", {"training_instance_type": "ml.g4dn.xlarge"}, "ml.g4dn.xlarge has local NVMe"),
    ("nvme g5", {"training_instance_type": "ml.g5.2xlarge"}, "ml.g5.2xlarge has local NVMe"),
    ("nvme endpoint", {"endpoint_instance_type": "ml.m5d.large"}, "ml.m5d.large has local NVMe"),
    ("spot as text", {"use_spot_training": "yes"}, "use_spot_training: expected true or false"),
    ("keep as number", {"keep_endpoint": 1}, "keep_endpoint: expected true or false"),
    ("ranges not an object", {"tuning_ranges": "fast"}, "tuning_ranges: expected an object"),
    ("range min above max", {"tuning_ranges": {"eta": {"min": 0.4, "max": 0.2}}}, "must be below MaxValue"),
    (
        "range outside limits",
        {"tuning_ranges": {"eta": {"min": 0.1, "max": 1.5}}},
        "'eta': 1.5 is out of range",
    ),
    (
        "unknown hyperparameter",
        {"tuning_ranges": {"learning_rate": {"min": 0.1, "max": 0.2}}},
        "not a tunable XGBoost",
    ),
    ("unknown range key", {"tuning_ranges": {"eta": {"low": 0.1}}}, "eta has unknown keys \\['low'\\]"),
    ("new range half given", {"tuning_ranges": {"gamma": {"max": 3}}}, "give both min and max"),
    ("range value text", {"tuning_ranges": {"eta": {"min": "0.1"}}}, "eta.min must be a number"),
    ("integer range fractional", {"tuning_ranges": {"max_depth": {"min": 2.5}}}, "max_depth"),
    (
        "log scale through zero",
        {"tuning_ranges": {"alpha": {"min": 0, "scaling": "Logarithmic"}}},
        "Logarithmic scaling needs MinValue > 0",
    ),
    (
        "reverse log up to 1",
        {"tuning_ranges": {"subsample": {"scaling": "ReverseLogarithmic"}}},
        "ReverseLogarithmic needs a continuous range inside \\[0, 1\\)",
    ),
    (
        "reverse log on an integer",
        {"tuning_ranges": {"max_depth": {"scaling": "ReverseLogarithmic"}}},
        "ReverseLogarithmic needs a continuous range",
    ),
    ("unknown scaling", {"tuning_ranges": {"eta": {"scaling": "Exponential"}}}, "ScalingType must be one of"),
]


@pytest.mark.parametrize(
    ("given", "message"), [(g, m) for _, g, m in BAD_INPUTS], ids=[i for i, _, _ in BAD_INPUTS]
)
def test_bad_input_is_rejected_with_what_to_fix(put_dataset, context, given, message):
    # Given a valid dataset, and an input with one thing wrong
    given = {"dataset": put_dataset(), **given} if "dataset" not in given and given != {} else given
    # When it is validated, Then InvalidInput (the Step Functions error name) says what to fix
    with pytest.raises(InvalidInput, match=message) as raised:
        lambda_handler(event(given), context)
    assert type(raised.value).__name__ == "InvalidInput"


BAD_DATASETS: list[tuple[str, dict[str, Any], str]] = [
    (
        "manifest missing",
        {"skip": ("manifest.json",)},
        "dataset: no manifest.json at s3://.*/datasets/bank/manifest.json",
    ),
    ("manifest not json", {"files": {"manifest.json": "{not json"}}, "manifest.json is not valid JSON"),
    (
        "unknown problem type",
        {"doc": {**manifest(), "problem_type": "ranking"}},
        "unknown problem_type 'ranking'",
    ),
    ("no target", {"doc": manifest(target="")}, "has no 'target' column name"),
    ("wrong class count", {"doc": manifest(classes=["a", "b", "c"])}, "has 3 classes for a binary problem"),
    (
        "channel missing in manifest",
        {"doc": manifest(channels={"train": "train/"})},
        "lacks the channels validation",
    ),
    ("format version", {"doc": manifest(format_version=9)}, "format_version 9"),
    (
        "too few rows for autopilot",
        {"doc": manifest(rows={"train": 400, "validation": 99, "test": 100})},
        "autopilot channel has 499 rows .* SageMaker Autopilot needs at least 500",
    ),
    (
        "channel escapes the prefix",
        {"doc": manifest(channels={**manifest()["channels"], "test": "../x/"})},
        "relative",
    ),
    (
        "empty channel",
        {"files": {"test-raw/test.csv": ""}},
        "channel 'test_raw' \\(s3://.*/test-raw/\\) is empty",
    ),
    ("missing channel", {"skip": ("autopilot/train.csv",)}, "channel 'autopilot'"),
]


@pytest.mark.parametrize(
    ("layout", "message"), [(layout, m) for _, layout, m in BAD_DATASETS], ids=[i for i, _, _ in BAD_DATASETS]
)
def test_incomplete_dataset_is_rejected(put_dataset, context, layout, message):
    # Given a dataset prefix with something missing or wrong
    uri = put_dataset(**layout)
    # When it is validated, Then the error names the dataset problem
    with pytest.raises(InvalidInput, match=message):
        lambda_handler(event({"dataset": uri}), context)


def test_names_too_long_are_rejected(put_dataset, context, monkeypatch):
    # Given a name prefix that leaves no room within SageMaker's 32-character job names
    monkeypatch.setenv("NAME_PREFIX", "a-very-long-stack-name-prefix")
    from handlers.common.settings import settings

    settings.cache_clear()
    # When a run is validated, Then it fails before anything exists
    with pytest.raises(InvalidInput, match="use a shorter NAME_PREFIX"):
        lambda_handler(event({"dataset": put_dataset()}), context)


@pytest.mark.parametrize(
    "given", [["s3://x/"], "s3://x/", None, 3], ids=["array", "string", "null", "number"]
)
def test_input_must_be_an_object(context, s3, given):
    with pytest.raises(InvalidInput, match="input: expected a JSON object"):
        lambda_handler(event(given), context)


def test_null_means_not_given_for_every_key(put_dataset, context):
    # Given every optional key as null
    nulls = {key: None for key in KNOWN_KEYS if key != "dataset"}

    # When the run is validated
    run = lambda_handler(event({"dataset": put_dataset(), **nulls}), context)

    # Then it is the run of the stage defaults, exactly as if the keys were absent
    plain = lambda_handler(event({"dataset": put_dataset()}), context)
    assert {k: v for k, v in run.items() if k != "names"} == {k: v for k, v in plain.items() if k != "names"}


def test_a_null_dataset_is_a_missing_dataset(context, s3):
    with pytest.raises(InvalidInput, match="dataset: missing"):
        lambda_handler(event({"dataset": None}), context)


def test_a_stage_default_missing_is_a_configuration_error(put_dataset, context, monkeypatch):
    defaults = {k: v for k, v in STAGE_DEFAULTS.items() if k != "poll_seconds"}
    monkeypatch.setenv("STAGE_DEFAULTS", json.dumps(defaults))
    from handlers.common.settings import settings

    settings.cache_clear()
    with pytest.raises(ConfigurationError, match="STAGE_DEFAULTS lacks 'poll_seconds'"):
        lambda_handler(event({"dataset": put_dataset()}), context)


# 665 'no' and 35 'yes' in training: 5% positives, as in the user's data.
CLASS_COUNTS = {
    "train": {"no": 665, "yes": 35},
    "validation": {"no": 142, "yes": 8},
    "test": {"no": 142, "yes": 8},
}


def test_a_binary_run_weighs_the_positive_class_by_the_training_balance(put_dataset, context):
    # Given a binary dataset whose manifest counts the classes of each channel
    uri = put_dataset(doc=manifest(class_counts=CLASS_COUNTS))
    # When the run is planned
    run = lambda_handler(event({"dataset": uri}), context)
    # Then every trial gets scale_pos_weight = negatives / positives of the training channel, static
    static = run["tuning"]["static_hyperparameters"]
    assert static["scale_pos_weight"] == "19"
    ranges = run["tuning"]["config"]["ParameterRanges"]
    assert "scale_pos_weight" not in [r["Name"] for kind in ranges.values() for r in kind]
    assert mismatches(run, Run) == []


def test_a_grid_run_keeps_the_class_weight_beside_the_fixed_values(put_dataset, context):
    uri = put_dataset(doc=manifest(class_counts=CLASS_COUNTS))
    run = lambda_handler(event({"dataset": uri, "tuning_strategy": "Grid", "tuning_max_jobs": 4}), context)
    assert run["tuning"]["static_hyperparameters"]["scale_pos_weight"] == "19"


def test_scale_pos_weight_cannot_be_a_tuning_range(put_dataset, context):
    # SageMaker's built-in XGBoost does not mark it tunable: the run says so before anything starts
    given = {"dataset": put_dataset(), "tuning_ranges": {"scale_pos_weight": {"min": 1, "max": 30}}}
    with pytest.raises(InvalidInput, match="'scale_pos_weight' is not a tunable XGBoost hyperparameter"):
        lambda_handler(event(given), context)


def test_multiclass_class_counts_set_no_class_weight(put_dataset, context):
    counts = {
        part: {"a": rows - 2 * (rows // 3), "b": rows // 3, "c": rows // 3}
        for part, rows in {"train": 700, "validation": 150, "test": 150}.items()
    }
    uri = put_dataset(doc=manifest("multiclass", class_counts=counts))
    run = lambda_handler(event({"dataset": uri}), context)
    assert "scale_pos_weight" not in run["tuning"]["static_hyperparameters"]


BAD_CLASS_COUNTS: list[tuple[str, Any, str]] = [
    ("not an object", [665, 35], "'class_counts' must be an object"),
    ("unknown channel", {**CLASS_COUNTS, "holdout": {"no": 1, "yes": 1}}, "unknown channels \\['holdout'\\]"),
    ("a class missing", {**CLASS_COUNTS, "train": {"no": 700}}, "class_counts.train must give a row count"),
    ("not whole", {**CLASS_COUNTS, "train": {"no": 664.5, "yes": 35.5}}, "whole numbers of rows"),
    (
        "wrong total",
        {**CLASS_COUNTS, "test": {"no": 140, "yes": 8}},
        "adds up to 148 rows, but rows.test is 150",
    ),
    ("no positive in training", {**CLASS_COUNTS, "train": {"no": 700, "yes": 0}}, "0 of 'yes'"),
]


@pytest.mark.parametrize(
    ("counts", "message"), [(c, m) for _, c, m in BAD_CLASS_COUNTS], ids=[i for i, _, _ in BAD_CLASS_COUNTS]
)
def test_bad_class_counts_are_rejected(put_dataset, context, counts, message):
    uri = put_dataset(doc=manifest(class_counts=counts))
    with pytest.raises(InvalidInput, match=message):
        lambda_handler(event({"dataset": uri}), context)


def test_the_run_carries_its_upper_bound_priced_in_its_region(put_dataset, context):
    # Given the dev stage's defaults in eu-west-1, whose table prices ml.m5.xlarge but not ml.m5.large hosting
    run = lambda_handler(event({"dataset": put_dataset()}), context)

    # Then the run holds the bound: 8 trials and 4 Autopilot candidates of an hour each at $0.257
    cost = run["cost"]
    assert (cost["region"], cost["max_cost_usd"]) == ("eu-west-1", None)
    lines = {line["item"]: line for line in cost["estimate"]["lines"]}
    assert lines["tuning"]["usd"] == pytest.approx(8 * 0.257)
    assert lines["autopilot"]["usd"] == pytest.approx(4 * 0.257)
    # and says which price it lacks rather than counting it as 0
    assert cost["estimate"]["complete"] is False
    assert cost["estimate"]["unknown"] == ["price unknown for ml.m5.large (hosting) in eu-west-1"]


def test_a_run_over_its_budget_is_refused_before_anything_exists(put_dataset, context):
    # Given a bound of $3.598: tuning $2.056, Autopilot $1.028, the endpoint 2 x 1 h x $0.257
    given = {"dataset": put_dataset(), "endpoint_instance_type": "ml.m5.xlarge", "max_cost_usd": 3}

    # When it is validated, it is refused, naming what would bring it under $3
    with pytest.raises(InvalidInput, match=r"up to \$3\.60 .* more than \$3\b") as refused:
        lambda_handler(event(given), context)
    assert "tuning_max_jobs 8 -> 5 (saves $0.77)" in str(refused.value)

    # And following the advice makes it a run
    run = lambda_handler(event({**given, "tuning_max_jobs": 5}), context)
    assert run["cost"]["estimate"]["total_usd"] <= 3
    assert run["cost"]["max_cost_usd"] == 3


def test_a_budget_cannot_be_checked_without_every_price(put_dataset, context):
    with pytest.raises(InvalidInput, match=r"price unknown for ml\.m5\.large \(hosting\) in eu-west-1"):
        lambda_handler(event({"dataset": put_dataset(), "max_cost_usd": 100}), context)


def test_a_budget_must_be_a_positive_number(put_dataset, context):
    with pytest.raises(InvalidInput, match="max_cost_usd: expected a number of USD above 0"):
        lambda_handler(event({"dataset": put_dataset(), "max_cost_usd": 0}), context)


def test_every_scaling_type_reaches_the_tuning_job_where_it_fits(put_dataset, context):
    # Given ranges that name each of SageMaker's scaling types where it works
    given = {
        "dataset": put_dataset(),
        "tuning_ranges": {
            "subsample": {"min": 0.5, "max": 0.99, "scaling": "ReverseLogarithmic"},
            "eta": {"scaling": "Auto"},
            "min_child_weight": {"scaling": "Linear"},
            "num_round": {"scaling": "Logarithmic"},
        },
    }
    # When the run is planned
    config = lambda_handler(event(given), context)["tuning"]["config"]["ParameterRanges"]
    # Then each range carries its scaling type to SageMaker
    scaling = {
        r["Name"]: r["ScalingType"]
        for kind in ("ContinuousParameterRanges", "IntegerParameterRanges")
        for r in config[kind]
    }
    assert scaling["subsample"] == "ReverseLogarithmic"
    assert (scaling["eta"], scaling["min_child_weight"], scaling["num_round"]) == (
        "Auto",
        "Linear",
        "Logarithmic",
    )


def test_completion_criteria_reach_the_tuning_config(put_dataset, context):
    # Given a run that sets every completion criterion
    given = {
        "dataset": put_dataset(),
        "tuning_target_objective": 0.95,
        "tuning_max_jobs_not_improving": 4,
        "tuning_complete_on_convergence": True,
    }
    # When the run is planned
    config = lambda_handler(event(given), context)["tuning"]["config"]
    # Then SageMaker gets them inside HyperParameterTuningJobConfig
    assert config["TuningJobCompletionCriteria"] == {
        "TargetObjectiveMetricValue": 0.95,
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 4},
        "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"},
    }


def test_no_completion_criteria_leave_the_key_out(put_dataset, context):
    config = lambda_handler(event({"dataset": put_dataset()}), context)["tuning"]["config"]
    assert "TuningJobCompletionCriteria" not in config


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"tuning_strategy": "Grid", "tuning_max_jobs_not_improving": 5},
            "tuning_max_jobs_not_improving: SageMaker's BestObjectiveNotImproving works with Bayesian and "
            "Random search only, not Grid; leave tuning_max_jobs_not_improving out, "
            "or choose tuning_strategy Bayesian",
        ),
        (
            {"tuning_strategy": "Hyperband", "tuning_complete_on_convergence": True},
            "tuning_complete_on_convergence: SageMaker's ConvergenceDetected works with Bayesian and Random",
        ),
        ({"tuning_max_jobs_not_improving": 2}, "expected an integer from 3 to 750, or none"),
        ({"tuning_target_objective": "high"}, "tuning_target_objective: expected a number, or none"),
        ({"tuning_complete_on_convergence": "Enabled"}, "expected true or false"),
    ],
)
def test_completion_criteria_a_strategy_does_not_take_are_refused(put_dataset, context, given, message):
    with pytest.raises(InvalidInput, match=message.replace("(", "\\(").replace(")", "\\)")):
        lambda_handler(event({"dataset": put_dataset(), **given}), context)


def test_a_stage_criterion_is_left_out_for_a_strategy_that_does_not_take_it(
    put_dataset, context, monkeypatch
):
    # Given a stage that stops on convergence by default
    defaults = {**STAGE_DEFAULTS, "tuning_complete_on_convergence": True, "tuning_target_objective": 0.99}
    monkeypatch.setenv("STAGE_DEFAULTS", json.dumps(defaults))
    from handlers.common.settings import settings

    settings.cache_clear()
    # When a run picks Grid search
    given = {"dataset": put_dataset(), "tuning_strategy": "Grid", "tuning_max_jobs": 4}
    config = lambda_handler(event(given), context)["tuning"]["config"]
    # Then the run goes without the stage's convergence stop, and keeps the target Grid allows
    assert config["TuningJobCompletionCriteria"] == {"TargetObjectiveMetricValue": 0.99}
