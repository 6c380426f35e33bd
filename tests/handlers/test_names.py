"""Run names: deterministic, collision-free, within SageMaker's limits for any execution name."""

from __future__ import annotations

import pytest

from contracts.names import MAX_JOB_NAME, MAX_NAME, NAME_PATTERN, check_name, run_names

MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:Pipeline-abc"


@pytest.mark.parametrize(
    "execution", ["a", "run-1", "My run 2026-11-22T05:00:00Z", "x" * 80, "___", "ünïcödé-名前"]
)
def test_every_name_fits_sagemaker_rules(execution: str) -> None:
    names = run_names("mlsprd01", MACHINE, execution)
    for field, name in names.as_dict().items():
        if field == "run_id":
            continue
        assert NAME_PATTERN.match(name), name
        assert len(name) <= (MAX_JOB_NAME if field.endswith("_job") else MAX_NAME), name


def test_names_are_deterministic() -> None:
    assert run_names("mlsdev", MACHINE, "run-1") == run_names("mlsdev", MACHINE, "run-1")


def test_same_execution_name_in_another_stack_does_not_collide() -> None:
    other = MACHINE.replace("Pipeline-abc", "Pipeline-xyz")
    assert run_names("mlsdev", MACHINE, "run-1").endpoint != run_names("mlsdev", other, "run-1").endpoint


def test_executions_whose_slugs_collide_still_get_distinct_names() -> None:
    first = run_names("mlsdev", MACHINE, "experiment-number-one")
    second = run_names("mlsdev", MACHINE, "experiment-number-two")
    assert first.run_id[:10] == second.run_id[:10]
    assert first.tuning_job != second.tuning_job


def test_resources_of_one_run_share_the_run_id_and_prefix() -> None:
    names = run_names("mlsdev", MACHINE, "run-1")
    assert all(
        name.startswith(f"mlsdev-{names.run_id}") for name in names.as_dict().values() if name != names.run_id
    )
    assert names.tuning_model != names.autopilot_model


def test_empty_execution_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        run_names("mlsdev", MACHINE, "")


@pytest.mark.parametrize(("name", "limit"), [("a" * 33, 32), ("-leading", 63), ("under_score", 63)])
def test_check_name_rejects_what_sagemaker_rejects(name: str, limit: int) -> None:
    with pytest.raises(ValueError, match="not a valid SageMaker name"):
        check_name(name, limit)
