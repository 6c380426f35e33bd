"""Stage configuration: the real cdk.json loads; bad context fails synth with a message naming the key."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stacks.config import ConfigError, StageConfig, load_config


@pytest.mark.parametrize("stage", ["dev", "local", "prod"])
def test_every_stage_in_cdk_json_loads(cdk_context: dict[str, Any], stage: str) -> None:
    config = load_config({**cdk_context, "stage": stage})
    assert isinstance(config, StageConfig)
    assert config.stage == stage


def test_prod_retains_data_and_dev_does_not(cdk_context: dict[str, Any]) -> None:
    assert load_config({**cdk_context, "stage": "prod"}).retain_data
    assert not load_config({**cdk_context, "stage": "dev"}).retain_data


def test_empty_email_means_no_subscription(cdk_context: dict[str, Any]) -> None:
    assert load_config({**cdk_context, "stage": "dev"}).notification_email is None


def _with(cdk_context: dict[str, Any], **changes: Any) -> dict[str, Any]:
    context = copy.deepcopy(cdk_context)
    context["stage"] = "dev"
    for key, value in changes.items():
        if value is _DELETE:
            del context["stages"]["dev"][key]
        else:
            context["stages"]["dev"][key] = value
    return context


_DELETE = object()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tuning_max_jobs": _DELETE}, "'stages.dev.tuning_max_jobs' is missing"),
        ({"tuning_max_jobs": 0}, "'stages.dev.tuning_max_jobs' must be an integer from 1 to 750, got 0"),
        ({"tuning_max_jobs": "8"}, "'stages.dev.tuning_max_jobs' must be an integer"),
        ({"use_spot_training": "yes"}, "'stages.dev.use_spot_training' must be true or false"),
        ({"tuning_strategy": "Bayes"}, "'stages.dev.tuning_strategy' must be one of Bayesian, Random"),
        (
            {"training_instance_type": "m5.xlarge"},
            "'stages.dev.training_instance_type': expected a SageMaker training instance type",
        ),
        (
            {"endpoint_instance_type": "ml.g5.xlarge"},
            "'stages.dev.endpoint_instance_type': ml.g5.xlarge has local NVMe storage",
        ),
        ({"removal_policy": "keep"}, "'stages.dev.removal_policy' must be one of destroy, retain"),
        ({"notification_email": "ops"}, "'stages.dev.notification_email' must be an e-mail address"),
        ({"name_prefix": "ML-Stack"}, "'stages.dev.name_prefix' must be 2-8 lowercase"),
        ({"log_retention_days": 10}, "'stages.dev.log_retention_days' must be one of 1, 3, 5, 7"),
        ({"tuning_max_parallel_jobs": 9, "tuning_max_jobs": 8}, "must not exceed 'tuning_max_jobs' (8)"),
        ({"tuning_budget": 3}, "unknown key(s) in 'stages.dev': tuning_budget"),
        (
            {"execution_timeout_minutes": 0},
            "'stages.dev.execution_timeout_minutes' must be an integer from 1 to 525600, got 0",
        ),
    ],
)
def test_invalid_context_names_the_key(
    cdk_context: dict[str, Any], changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(_with(cdk_context, **changes))
    assert message in str(error.value)


def test_unknown_stage_lists_the_known_ones(cdk_context: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"'stage' must be one of \['dev', 'local', 'prod'\], got 'qa'"):
        load_config({**cdk_context, "stage": "qa"})


def test_missing_stages_table_fails(cdk_context: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="'stages' is missing"):
        load_config({"stage": "dev"})


def test_config_is_frozen(cdk_context: dict[str, Any]) -> None:
    config = load_config({**cdk_context, "stage": "dev"})
    with pytest.raises(AttributeError):
        config.tuning_max_jobs = 100  # type: ignore[misc]
