"""contracts/script_mode.py: MetricDefinitions, objectives and images as SageMaker takes them (pure)."""

from __future__ import annotations

import pytest

from contracts import script_mode


@pytest.mark.parametrize(
    ("name", "regex", "problem"),
    [
        ("validation:auc", r"auc=([0-9.]+)", None),
        ("validation:auc", r"(?:val|valid)-auc=([0-9.]+)", None),
        ("", r"auc=([0-9.]+)", "give 1 to 255 characters"),
        ("x" * 256, r"auc=([0-9.]+)", "give 1 to 255 characters"),
        ("auc", "a" * 501, "1 to 500 characters"),
        ("auc", r"auc=([0-9.]+", "does not compile"),
        ("auc", r"auc=[0-9.]+", "has 0 capturing groups; it needs exactly one"),
        ("auc", r"(auc)=([0-9.]+)", "has 2 capturing groups"),
    ],
)
def test_a_metric_definition_needs_a_name_and_a_regex_with_one_group(name, regex, problem):
    found = script_mode.metric_problem(name, regex)
    assert found is None if problem is None else problem in str(found)


def test_name_equals_regex_splits_at_the_first_equals_sign():
    assert script_mode.parse_metric("validation:auc=auc=([0-9.]+)") == {
        "Name": "validation:auc",
        "Regex": "auc=([0-9.]+)",
    }
    with pytest.raises(script_mode.ScriptModeError, match="write NAME=REGEX"):
        script_mode.parse_metric("auc")
    with pytest.raises(script_mode.ScriptModeError, match="capturing groups"):
        script_mode.parse_metric("auc=auc [0-9]+")


@pytest.mark.parametrize(
    ("metric", "kind"),
    [
        ("validation:auc", "Maximize"),
        ("validation:accuracy", "Maximize"),
        ("validation:logloss", "Minimize"),
        ("val_error", "Minimize"),
        ("validation:rmse", "Minimize"),
        ("train:MAE", "Minimize"),
    ],
)
def test_losses_and_errors_are_minimized_anything_else_maximized(metric, kind):
    assert script_mode.objective_type(metric) == kind


def test_a_metric_value_is_the_first_group_of_a_match_that_is_a_number():
    assert script_mode.first_match(r"auc[:=] ?([0-9.]+)", "[3] train-auc: 0.8 validation auc=0.91") == 0.8
    assert script_mode.first_match(r"auc=(\S+)", "auc=n/a auc=0.7") == 0.7
    assert script_mode.first_match(r"auc=([0-9.]+)", "loss=0.3") is None


def test_unmatched_names_the_definitions_a_job_found_no_value_for():
    definitions = [{"Name": "a", "Regex": "a=(.+)"}, {"Name": "b", "Regex": "b=(.+)"}]
    assert script_mode.unmatched(definitions, ["a"]) == [{"Name": "b", "Regex": "b=(.+)"}]


def test_images_come_from_the_table_per_framework_version_and_region():
    assert script_mode.image_uri("sklearn", None, "us-east-1") == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    )
    assert script_mode.image_uri("xgboost", "1.7-1", "eu-west-1").endswith("/sagemaker-xgboost:1.7-1")
    with pytest.raises(script_mode.ScriptModeError, match="use one of sklearn, xgboost"):
        script_mode.image_uri("pytorch", None, "us-east-1")
    with pytest.raises(
        script_mode.ScriptModeError, match=r"no scikit-learn container of that version.*1\.9-0"
    ):
        script_mode.image_uri("sklearn", "9.9", "us-east-1")
    with pytest.raises(script_mode.ScriptModeError, match=r"publishes no XGBoost 3\.2-0 image in mars-1"):
        script_mode.image_uri("xgboost", "3.2-0", "mars-1")


def test_static_hyperparameters_are_json_encoded_as_the_sdk_sends_a_frameworks():
    static = script_mode.static_hyperparameters("train.py", "us-east-1", {"n": 3, "criterion": "gini"})
    assert static == {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": '"/opt/ml/input/data/code/sourcedir.tar.gz"',
        "sagemaker_region": '"us-east-1"',
        "sagemaker_container_log_level": "20",
        "n": "3",
        "criterion": '"gini"',
    }
    assert script_mode.serving_environment("train.py", "us-east-1")["SAGEMAKER_SUBMIT_DIRECTORY"] == (
        "/opt/ml/model/code"
    )
