"""Stage configuration: the real cdk.json loads; bad context fails synth with a message naming the key."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from contracts.run_options import RUN_OPTIONS, Option, stage_defaults
from handlers.common.errors import InvalidInput
from handlers.validate_input.options import parse_options
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
        (
            {"endpoint_ttl_hours": 0},
            "'stages.dev.endpoint_ttl_hours' must be a number of hours above 0 and at most 720, got 0",
        ),
        ({"endpoint_ttl_hours": 721}, "'stages.dev.endpoint_ttl_hours' must be a number of hours"),
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


def test_an_endpoint_ttl_is_one_rule_at_synth_and_at_run(cdk_context: dict[str, Any]) -> None:
    # A number of hours, as ValidateInput always took it: a stage may keep endpoints 90 minutes too.
    config = load_config(_with(cdk_context, endpoint_ttl_hours=1.5))
    assert config.endpoint_ttl_hours == 1.5
    given = {"dataset": "s3://b/datasets/x/", "endpoint_ttl_hours": 1.5}
    assert parse_options(given, stage_defaults(config)).endpoint_ttl_hours == 1.5


@pytest.mark.parametrize("item", RUN_OPTIONS, ids=lambda item: item.key)
def test_synth_and_run_refuse_a_bad_value_in_the_same_words(
    cdk_context: dict[str, Any], item: Option
) -> None:
    # Given a value no rule accepts, set once in cdk.json and once in an execution's input
    bad: list[str] = []
    with pytest.raises(ConfigError) as at_synth:
        load_config(_with(cdk_context, **{item.key: bad}))
    defaults = stage_defaults(load_config(_with(cdk_context)))
    with pytest.raises(InvalidInput) as at_run:
        parse_options({"dataset": "s3://b/datasets/x/", item.key: bad}, defaults)
    # Then both name the key and say what the table's rule expects
    synth_words = str(at_synth.value).split(f"'stages.dev.{item.key}'", 1)[1].removeprefix(":")
    run_words = str(at_run.value).removeprefix(f"{item.key}:")
    assert synth_words.replace("must be", "expected").strip() == run_words.strip()
