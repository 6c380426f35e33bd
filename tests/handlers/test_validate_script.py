"""ValidateInput for a run that tunes the user's own script: the run object, and what it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts import script_mode
from contracts.run import Run
from handlers.common.errors import InvalidInput
from handlers.validate_input.handler import lambda_handler
from tests.handlers.conftest import ARTIFACTS_BUCKET, REGION
from tests.handlers.test_validate_input import event
from tests.shapes import mismatches

SOURCE_KEY = script_mode.source_key("ab" * 32)
SOURCE = f"s3://{ARTIFACTS_BUCKET}/{SOURCE_KEY}"
METRICS = [
    {"Name": "validation:auc", "Regex": r"validation:auc=([0-9.]+)"},
    {"Name": "validation:logloss", "Regex": r"logloss=([0-9.]+)"},
]
RANGES = {
    "learning_rate": {"min": 0.01, "max": 0.3, "scaling": "Logarithmic"},
    "max_leaf_nodes": {"min": 8, "max": 64},
    "criterion": {"values": ["gini", "entropy"]},
}


@pytest.fixture
def script_input(put_dataset: Any, s3: Any) -> dict[str, Any]:
    """A valid script run's input: a dataset, an uploaded source archive, metrics and ranges."""
    s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=SOURCE_KEY, Body=b"archive")
    return {
        "dataset": put_dataset(),
        "script": {"entry_point": "train.py", "source": SOURCE, "metrics": METRICS},
        "tuning_ranges": RANGES,
    }


def test_a_script_run_tunes_its_own_hyperparameters_in_its_frameworks_container(script_input, context):
    # Given static hyperparameters and an objective among the script's metrics
    script_input["script"]["hyperparameters"] = {"max_iter": 200, "loss": "log_loss"}
    script_input["objective"] = "validation:logloss"

    run = lambda_handler(event(script_input), context)

    assert mismatches(run, Run) == []
    tuning = run["tuning"]
    image = script_mode.image_uri("sklearn", "1.9-0", REGION)
    # Then the job runs the scikit-learn container with the script's metric definitions
    assert tuning["algorithm"] == {
        "TrainingImage": image,
        "TrainingInputMode": "File",
        "MetricDefinitions": METRICS,
    }
    assert tuning["script"] == {
        "entry_point": "train.py",
        "source": SOURCE,
        "framework": "sklearn",
        "framework_version": "1.9-0",
        "image": image,
    }
    # And the objective is the named metric, minimized as a loss
    objective = tuning["config"]["HyperParameterTuningJobObjective"]
    assert objective == {"Type": "Minimize", "MetricName": "validation:logloss"}
    # And script mode's hyperparameters come first, the run's own JSON-encoded as the SDK sends them
    assert tuning["static_hyperparameters"] == {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": '"/opt/ml/input/data/code/sourcedir.tar.gz"',
        "sagemaker_region": f'"{REGION}"',
        "sagemaker_container_log_level": "20",
        "max_iter": "200",
        "loss": '"log_loss"',
    }
    # And its ranges are of any name and kind, whole-number bounds making an integer range
    assert tuning["config"]["ParameterRanges"] == {
        "IntegerParameterRanges": [
            {"Name": "max_leaf_nodes", "MinValue": "8", "MaxValue": "64", "ScalingType": "Auto"}
        ],
        "ContinuousParameterRanges": [
            {"Name": "learning_rate", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Logarithmic"}
        ],
        "CategoricalParameterRanges": [{"Name": "criterion", "Values": ['"gini"', '"entropy"']}],
    }
    # And the source comes as the code channel, beside the dataset's
    channels = {c["ChannelName"]: c for c in tuning["input_data_config"]}
    assert list(channels) == ["train", "validation", "code"]
    assert channels["code"]["DataSource"]["S3DataSource"]["S3Uri"] == SOURCE
    assert "ContentType" not in channels["code"]


def test_the_objective_defaults_to_the_first_metric_and_the_xgboost_framework_to_its_image(
    script_input, context
):
    script_input["script"].update(framework="xgboost", framework_version="1.7-1")
    script_input["script"]["metrics"] = METRICS[:1]

    run = lambda_handler(event(script_input), context)

    objective = run["tuning"]["config"]["HyperParameterTuningJobObjective"]
    assert objective == {"Type": "Maximize", "MetricName": "validation:auc"}
    assert run["tuning"]["algorithm"]["TrainingImage"].endswith("/sagemaker-xgboost:1.7-1")


def test_ranges_may_be_sagemakers_own_shape_and_grid_makes_them_categorical(script_input, context):
    script_input["tuning_ranges"] = {
        "IntegerParameterRanges": [{"Name": "depth", "MinValue": "2", "MaxValue": "9"}],
        "CategoricalParameterRanges": [{"Name": "criterion", "Values": ["gini", "entropy"]}],
    }
    script_input["tuning_strategy"] = "Grid"
    script_input["tuning_max_jobs"] = 6

    config = lambda_handler(event(script_input), context)["tuning"]["config"]

    ranges = {r["Name"]: r["Values"] for r in config["ParameterRanges"]["CategoricalParameterRanges"]}
    assert ranges["criterion"] == ['"gini"', '"entropy"'] and len(ranges["depth"]) == 3
    assert config["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 6


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"script": "train.py"}, "script: expected an object such as"),
        ({"script": {"entry_point": "train.py"}}, "script: missing source, metrics"),
        ({"script": {"color": 1}}, "script: unknown keys color"),
        ({"script.entry_point": "../train.py"}, "must be a path inside the source directory"),
        ({"script.framework": "pytorch"}, "script.framework 'pytorch': use one of sklearn, xgboost"),
        ({"script.framework_version": "0.1"}, "no scikit-learn container of that version; use one of"),
        ({"script.metrics": []}, "script.metrics: expected a list of MetricDefinitions"),
        ({"script.metrics": [{"Name": "auc", "Regex": "auc=[0-9.]+"}]}, "has 0 capturing groups"),
        ({"script.metrics": [{"Name": "auc", "Regex": "auc=([0-9.]+"}]}, "does not compile"),
        ({"script.metrics": [METRICS[0], METRICS[0]]}, "'validation:auc' is defined twice"),
        ({"script.objective_type": "Best"}, "expected Maximize or Minimize"),
        ({"objective": "validation:f1"}, "'validation:f1' is not one of the script's metrics"),
        (
            {"script.source": "s3://elsewhere/code/x/sourcedir.tar.gz"},
            "must be s3://mlstack-artifacts-test/code/",
        ),
        (
            {"script.source": f"s3://{ARTIFACTS_BUCKET}/code/{'cd' * 32}/sourcedir.tar.gz"},
            "no object at s3://",
        ),
        ({"tuning_ranges": None}, "tuning_ranges: a script run names the hyperparameters to tune"),
        ({"tuning_ranges": {"lr": {"min": 0.3, "max": 0.1}}}, "lr: min 0.3 must be below max 0.1"),
        ({"tuning_ranges": {"lr": {"min": 0, "max": 1, "scaling": "Logarithmic"}}}, "needs min > 0"),
        (
            {"tuning_ranges": {"n": {"min": 1.5, "max": 4, "type": "integer"}}},
            "give whole-number min and max",
        ),
        ({"tuning_ranges": {"c": {"values": []}}}, "c.values must be a list of 1 to 30 values"),
        ({"tuning_ranges": {"sagemaker_program": {"min": 1, "max": 2}}}, "is SageMaker's own"),
        (
            {"tuning_ranges": {"bad name": {"min": 1, "max": 2}}},
            "not a hyperparameter name a script can take",
        ),
        (
            {"script.hyperparameters": {"max_leaf_nodes": 3}},
            "'max_leaf_nodes' is also in script.hyperparameters",
        ),
        ({"tuning_strategy": "Grid", "tuning_max_jobs": 1}, "Grid search runs every combination"),
    ],
)
def test_what_sagemaker_would_refuse_is_refused_saying_what_to_fix(script_input, context, change, message):
    for key, value in change.items():
        if key.startswith("script."):
            script_input["script"][key.split(".", 1)[1]] = value
        else:
            script_input[key] = value

    with pytest.raises(InvalidInput) as caught:
        lambda_handler(event(script_input), context)

    assert message in str(caught.value)


def test_the_run_object_stays_small_with_forty_metrics(script_input, context):
    script_input["script"]["metrics"] = [{"Name": f"m{i}", "Regex": rf"m{i}=([0-9.]+)"} for i in range(40)]
    run = lambda_handler(event(script_input), context)
    assert len(json.dumps(run)) < 20_000
