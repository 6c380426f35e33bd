"""Script mode's tuning requests: an objective no MetricDefinition finds is refused, as AWS refuses it."""

from __future__ import annotations

from typing import Any

import pytest

from localaws.validation.model import validate
from localaws.validation.semantic import semantic_errors
from tests.local.validation.test_request_validation import TUNING, channel, tuning_request

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
REFUSAL = (
    "A metric is required for this hyperparameter tuning job objective. "
    "Provide a metric in the metric definitions."
)


def script_request(image: str, metrics: list[dict[str, str]] | None) -> dict[str, Any]:
    """The stack's tuning request for a script: its framework's image, its metrics, the code channel."""
    request = tuning_request()
    definition = request["TrainingJobDefinition"]
    definition["AlgorithmSpecification"] = {"TrainingImage": image, "TrainingInputMode": "File"}
    if metrics is not None:
        definition["AlgorithmSpecification"]["MetricDefinitions"] = metrics
    definition["InputDataConfig"].append(channel("code", "s3://artifacts-bucket/code/ab/sourcedir.tar.gz"))
    definition["StaticHyperParameters"] = {"sagemaker_program": '"train.py"'}
    return request


@pytest.mark.parametrize(
    ("image", "metrics", "refused"),
    [
        (SKLEARN, [{"Name": "validation:auc", "Regex": r"auc=([0-9.]+)"}], False),
        (SKLEARN, [{"Name": "validation:f1", "Regex": r"f1=([0-9.]+)"}], True),
        (SKLEARN, None, True),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:latest", None, True),
        # Built-in XGBoost (and a script in its container) has metrics of its own
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0", None, False),
    ],
)
def test_the_objective_needs_a_metric_definition_unless_the_algorithm_is_built_in(image, metrics, refused):
    request = script_request(image, metrics)
    assert validate("sagemaker", TUNING, request) == []
    assert semantic_errors("sagemaker", TUNING, request) == ([REFUSAL] if refused else [])
