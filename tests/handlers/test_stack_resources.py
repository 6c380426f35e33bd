"""The stack's SageMaker resources: found by tag, owned by running runs, chosen by rule, deleted in order."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from contracts.names import run_names
from handlers.common import clients
from handlers.common.stack_resources import (
    KEEP_ENDPOINT,
    NO_WAIT,
    Resource,
    Rule,
    Running,
    Selection,
    carry_out,
    parse_expires,
    running_runs,
    stack_resources,
)
from tests.handlers.conftest import ACCOUNT, REGION, STATE_MACHINE
from tests.handlers.runs import NAMES

ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlstack-sagemaker"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
PAST = datetime(2026, 1, 1, tzinfo=UTC)
FUTURE = datetime(2999, 1, 1, tzinfo=UTC)


def start_running_execution(name: str) -> None:
    """A RUNNING execution of the stack's state machine (moto does not execute it)."""
    sfn = clients.stepfunctions()
    sfn.create_state_machine(
        name=STATE_MACHINE.rsplit(":", 1)[1],
        definition=json.dumps({"StartAt": "W", "States": {"W": {"Type": "Pass", "End": True}}}),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
    )
    sfn.start_execution(stateMachineArn=STATE_MACHINE, name=name)


def model(name: str, **tags: str) -> None:
    clients.sagemaker().create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "i", "ModelDataUrl": "s3://b/k"},
        Tags=[{"Key": f"mlstack:{key}", "Value": value} for key, value in tags.items()],
    )


# --- finding them -----------------------------------------------------------------------------------


def test_the_stacks_resources_are_those_it_tagged_with_their_run_and_expiry(aws):
    # Given models of this stack, of another stack and untagged, some outside the name prefix
    model("mlstest-a-xgb", stack="MlStack-test", run="run-a", expires="2026-11-22T09:00:00Z")
    model("other-b-xgb", stack="MlStack-test", run="run-b")
    model("mlstest-c-xgb", stack="MlStack-other", run="run-c")
    model("mlstest-d-xgb")
    sm = clients.sagemaker()
    # When they are listed by the stack tag, with and without the prefix
    every = list(stack_resources(sm, "model", stack_name="MlStack-test"))
    prefixed = list(stack_resources(sm, "model", stack_name="MlStack-test", name_prefix="mlstest"))
    # Then only this stack's are found, with what their tags say
    assert sorted((r.name, r.run_id) for r in every) == [("mlstest-a-xgb", "run-a"), ("other-b-xgb", "run-b")]
    (found,) = prefixed
    assert (found.label, found.expires) == ("model:mlstest-a-xgb", datetime(2026, 11, 22, 9, tzinfo=UTC))


def test_unreadable_tags_raise_unless_the_caller_collects_them():
    sm = clients.sagemaker()
    summary = {
        "ModelName": "mlstest-a-xgb",
        "ModelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/mlstest-a-xgb",
        "CreationTime": "2026-11-22T05:00:00Z",
    }
    with Stubber(sm) as stub:
        for _ in range(2):
            stub.add_response("list_models", {"Models": [summary]}, {"NameContains": "mlstest-"})
            stub.add_client_error("list_tags", "AccessDeniedException", "not allowed")
        with pytest.raises(ClientError, match="AccessDenied"):
            list(stack_resources(sm, "model", stack_name="MlStack-test", name_prefix="mlstest"))
        unreadable: list[str] = []
        found = stack_resources(
            sm, "model", stack_name="MlStack-test", name_prefix="mlstest", unreadable=unreadable
        )
        assert list(found) == []
    assert unreadable == ["model:mlstest-a-xgb: cannot read tags (AccessDeniedException)"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22T09:00:00Z", datetime(2026, 11, 22, 9, tzinfo=UTC)),
        ("2026-11-22T09:00:00", datetime(2026, 11, 22, 9, tzinfo=UTC)),
        ("tomorrow", None),
        (None, None),
    ],
)
def test_expiry_is_read_as_utc_and_malformed_means_unknown(value, expected):
    assert parse_expires(value) == expected


# --- who owns them ----------------------------------------------------------------------------------


def test_running_executions_own_their_derived_names(aws):
    start_running_execution("nightly-2026-11-22")
    running = running_runs(clients.stepfunctions(), name_prefix="mlstest", state_machine_arn=STATE_MACHINE)
    assert running.run_ids == {NAMES.run_id}
    assert running.owner(Resource("endpoint", NAMES.endpoint)) == NAMES.run_id
    assert running.owner(Resource("model", NAMES.tuning_model)) == NAMES.run_id
    assert running.owner(Resource("endpoint", "mlstest-other-00000000")) is None


def test_a_missing_state_machine_owns_nothing(aws):
    assert running_runs(clients.stepfunctions(), name_prefix="mlstest", state_machine_arn=STATE_MACHINE) == (
        Running()
    )


def test_an_execution_without_valid_names_owns_nothing(aws):
    # ValidateInput fails such an execution before it creates anything
    start_running_execution("nightly-2026-11-22")
    prefix = "a-very-long-stack-name-prefix"
    assert running_runs(clients.stepfunctions(), name_prefix=prefix, state_machine_arn=STATE_MACHINE) == (
        Running()
    )


def test_ownership_is_by_run_tag_or_by_derived_name():
    running = Running.of([run_names("mlstest", STATE_MACHINE, "nightly")])
    (run_id,) = running.run_ids
    assert running.owner(Resource("model", "anything", run_id)) == run_id
    assert running.owner(Resource("endpoint", f"mlstest-{run_id}")) == run_id
    assert running.owner(Resource("model", "mlstest-gone-00000000-xgb", "gone-00000000")) is None


# --- which ones go ----------------------------------------------------------------------------------


def decisions(selection: Selection, *resources: Resource) -> list[tuple[bool, str]]:
    return [(d.delete, d.reason) for d in map(selection.decide, resources)]


def test_this_run_stops_its_jobs_and_keeps_serving_only_when_asked():
    job, endpoint = Resource("tuning-job", NAMES.tuning_job), Resource("endpoint", NAMES.endpoint)
    assert decisions(Selection(Rule.THIS_RUN), job, endpoint) == [(True, "this run's resource")] * 2
    kept = Selection(Rule.THIS_RUN, keep_serving=True)
    assert decisions(kept, job, endpoint) == [(True, "this run's resource"), (False, KEEP_ENDPOINT)]


def test_the_whole_stack_goes_even_what_a_running_run_owns():
    owned = Resource("endpoint", "mlstest-a", "run-a", PAST)
    selection = Selection(Rule.WHOLE_STACK, running=Running(run_ids=frozenset({"run-a"})))
    assert decisions(selection, owned) == [(True, "the stack is being deleted")]


def test_expired_and_unowned_goes_fresh_owned_and_untagged_stay():
    selection = Selection(Rule.EXPIRED_AND_UNOWNED, running=Running(run_ids=frozenset({"run-a"})), now=NOW)
    expired, owned = Resource("endpoint", "e1", "run-b", PAST), Resource("endpoint", "e2", "run-a", PAST)
    fresh, untagged = Resource("endpoint", "e3", "run-b", FUTURE), Resource("endpoint", "e4", "run-b")
    found = {r.name: selection.decide(r) for r in (expired, owned, fresh, untagged)}
    assert {name: (d.delete, d.expired, d.owner) for name, d in found.items()} == {
        "e1": (True, True, None),
        "e2": (False, True, "run-a"),
        "e3": (False, False, None),
        "e4": (False, None, None),
    }
    assert found["e4"].reason == "no valid mlstack:expires tag: left alone"
    with pytest.raises(ValueError, match="needs the time"):
        Selection(Rule.EXPIRED_AND_UNOWNED).decide(expired)


def test_unowned_ignores_expiry():
    selection = Selection(Rule.UNOWNED, running=Running(run_ids=frozenset({"run-a"})))
    fresh, owned = Resource("model", "m1", "run-b", FUTURE), Resource("model", "m2", "run-a", PAST)
    assert decisions(selection, fresh, owned) == [
        (True, "no running execution owns it"),
        (False, "run run-a is still running"),
    ]


# --- deleting them ----------------------------------------------------------------------------------


def test_jobs_stop_before_the_endpoint_its_config_and_models_go():
    # Given decisions in no particular order, one job listed running and one found by name only
    sm = clients.sagemaker()
    listed_job = Resource("training-job", "mlstest-t", status="InProgress")
    named_job = Resource("automl-job", "mlstest-a")
    serving = [Resource("model", "mlstest-m"), Resource("endpoint-config", "mlstest-c")]
    selection = Selection(Rule.WHOLE_STACK)
    with Stubber(sm) as stub:
        # Then the listed job is stopped without a Describe; the named one is described first
        stub.add_client_error("describe_auto_ml_job_v2", "ResourceNotFound", "no such job")
        stub.add_response("stop_training_job", {}, {"TrainingJobName": "mlstest-t"})
        stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": "mlstest-c"})
        stub.add_client_error("delete_model", "ValidationException", 'Could not find model "mlstest-m".')
        # When they are carried out
        out = carry_out(sm, map(selection.decide, [*serving, named_job, listed_job]), NO_WAIT)
        stub.assert_no_pending_responses()
    # And what was gone already counts as not found
    assert out.stopped == ["training-job:mlstest-t"]
    assert out.deleted == ["endpoint-config:mlstest-c"]
    assert out.not_found == ["automl-job:mlstest-a", "model:mlstest-m"]


def test_kept_resources_are_listed_and_their_reason_noted_once():
    resources = [Resource("endpoint", "e"), Resource("model", "m1"), Resource("model", "m2")]
    sm = clients.sagemaker()
    with Stubber(sm):  # no answers: any SageMaker call fails the test
        out = carry_out(sm, map(Selection(Rule.THIS_RUN, keep_serving=True).decide, resources), NO_WAIT)
    assert out.kept == ["endpoint:e", "model:m1", "model:m2"] and out.notes == [KEEP_ENDPOINT]
