"""Sweeper: expired, unowned endpoints of this stack go (with config and models); everything else stays."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from contracts.metrics import EXPIRED_METRIC, METRIC_NAMESPACE, METRIC_SERVICE, STACK_DIMENSION
from contracts.names import run_names
from handlers.common import clients
from handlers.common.errors import ConfigurationError
from handlers.common.settings import settings
from handlers.common.stack_resources import Running
from handlers.sweeper.handler import lambda_handler
from handlers.sweeper.sweep import sweep
from tests.handlers.conftest import ACCOUNT, REGION, STATE_MACHINE

ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlstack-sagemaker"
PAST = "2026-01-01T00:00:00Z"
FUTURE = "2999-01-01T00:00:00Z"


@pytest.fixture(autouse=True)
def sweeper_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_MACHINE_ARN", STATE_MACHINE)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "sweeper")
    settings.cache_clear()


def tags(expires: str | None, stack: str = "MlStack-test") -> list[dict[str, str]]:
    found = [{"Key": "mlstack:stack", "Value": stack}, {"Key": "mlstack:run", "Value": "r"}]
    return found + ([{"Key": "mlstack:expires", "Value": expires}] if expires else [])


def deploy(name: str, expires: str | None, stack: str = "MlStack-test") -> None:
    """An endpoint with its config and one model, tagged as the pipeline tags them."""
    sm = clients.sagemaker()
    sm.create_model(
        ModelName=f"{name}-xgb",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "i", "ModelDataUrl": "s3://b/k"},
        Tags=tags(expires, stack),
    )
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "Tuning",
                "ModelName": f"{name}-xgb",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        Tags=tags(expires, stack),
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags(expires, stack))


def names_left() -> tuple[list[str], list[str], list[str]]:
    sm = clients.sagemaker()
    return (
        sorted(e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]),
        sorted(c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]),
        sorted(m["ModelName"] for m in sm.list_models()["Models"]),
    )


def start_running_execution(name: str) -> str:
    """A RUNNING execution of the stack's state machine (moto does not execute it); its endpoint name."""
    sfn = clients.stepfunctions()
    machines = sfn.list_state_machines()["stateMachines"]
    if not machines:
        sfn.create_state_machine(
            name=STATE_MACHINE.rsplit(":", 1)[1],
            definition=json.dumps({"StartAt": "W", "States": {"W": {"Type": "Pass", "End": True}}}),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
        )
    sfn.start_execution(stateMachineArn=STATE_MACHINE, name=name)
    return run_names("mlstest", STATE_MACHINE, name).endpoint


def emitted_metrics(output: str) -> list[dict[str, Any]]:
    """The EMF documents Powertools printed."""
    docs = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"_aws"' in line]
    return [d for d in docs if "CloudWatchMetrics" in d["_aws"]]


def test_expired_unowned_endpoints_go_fresh_foreign_and_owned_ones_stay(aws, context, capsys):
    # Given an expired endpoint, a fresh one, another stack's expired one, and one a running execution owns
    deploy("mlstest-old-1", PAST)
    deploy("mlstest-new-1", FUTURE)
    deploy("mlstest-other-1", PAST, stack="MlStack-other")
    owned = start_running_execution("still-running")
    deploy(owned, PAST)
    # When the sweeper runs
    result = lambda_handler({"source": "aws.events"}, context)
    # Then only the expired, unowned endpoint of this stack went, with its config and model
    assert result["deleted"] == [
        "endpoint:mlstest-old-1",
        "endpoint-config:mlstest-old-1",
        "model:mlstest-old-1-xgb",
    ]
    assert sorted(result["expired"]) == sorted(["mlstest-old-1", owned])
    assert result["owned_by_running_execution"] == [owned]
    endpoints, configs, models = names_left()
    assert endpoints == sorted(["mlstest-new-1", "mlstest-other-1", owned])
    assert "mlstest-old-1" not in configs and "mlstest-old-1-xgb" not in models
    # And the alarm's metric counts both endpoints that outlived their TTL
    (doc,) = emitted_metrics(capsys.readouterr().out)
    assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == METRIC_NAMESPACE
    assert doc[EXPIRED_METRIC] in (2.0, [2.0])
    assert doc[STACK_DIMENSION] == "MlStack-test" and doc["service"] == METRIC_SERVICE


def test_a_second_round_finds_nothing_and_reports_zero(aws, context, capsys):
    deploy("mlstest-old-1", PAST)
    lambda_handler({}, context)
    capsys.readouterr()
    second = lambda_handler({}, context)
    assert second["deleted"] == [] and second["expired"] == [] and second["failures"] == []
    (doc,) = emitted_metrics(capsys.readouterr().out)
    assert doc[EXPIRED_METRIC] in (0.0, [0.0])


def test_endpoint_without_expiry_tag_is_left_alone(aws, context):
    deploy("mlstest-untagged", None)
    result = lambda_handler({}, context)
    assert result["deleted"] == [] and "no valid mlstack:expires" in result["notes"][0]


def _summary(name: str, status: str) -> dict[str, Any]:
    return {
        "EndpointName": name,
        "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{name}",
        "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
        "LastModifiedTime": datetime(2026, 1, 1, tzinfo=UTC),
        "EndpointStatus": status,
    }


def test_creating_endpoint_is_skipped_this_round():
    # Given an expired endpoint that is still Creating
    sm = clients.sagemaker()
    name = "mlstest-busy-1"
    with Stubber(sm) as stub:
        stub.add_response(
            "list_endpoints", {"Endpoints": [_summary(name, "Creating")]}, {"NameContains": "mlstest-"}
        )
        stub.add_response(
            "list_tags", {"Tags": tags(PAST)}, {"ResourceArn": _summary(name, "")["EndpointArn"]}
        )
        # When the sweep runs (the stub has no Describe/Delete answers: any such call fails the test)
        report = sweep(
            sm,
            name_prefix="mlstest",
            stack_name="MlStack-test",
            running=Running(),
            now=datetime(2026, 6, 1, tzinfo=UTC),
            has_time=lambda: True,
        )
        stub.assert_no_pending_responses()
    # Then it is counted as expired but left for the next round
    assert report.expired == [name] and report.busy == [name] and report.outcome.deleted == []


def test_endpoint_that_turns_busy_before_delete_is_skipped_not_failed():
    sm = clients.sagemaker()
    name = "mlstest-race-1"
    with Stubber(sm) as stub:
        stub.add_response(
            "list_endpoints", {"Endpoints": [_summary(name, "InService")]}, {"NameContains": "mlstest-"}
        )
        stub.add_response(
            "list_tags", {"Tags": tags(PAST)}, {"ResourceArn": _summary(name, "")["EndpointArn"]}
        )
        described = {**_summary(name, "InService"), "EndpointConfigName": name}
        stub.add_response("describe_endpoint", described, {"EndpointName": name})
        stub.add_client_error(
            "describe_endpoint_config", "ValidationException", "Could not find endpoint config"
        )
        stub.add_response(
            "describe_endpoint", {**described, "EndpointStatus": "Updating"}, {"EndpointName": name}
        )
        report = sweep(
            sm,
            name_prefix="mlstest",
            stack_name="MlStack-test",
            running=Running(),
            now=datetime(2026, 6, 1, tzinfo=UTC),
            has_time=lambda: True,
        )
        stub.assert_no_pending_responses()
    assert report.busy == [name] and report.failures == [] and report.outcome.deleted == []


def test_out_of_time_stops_before_the_next_endpoint(aws):
    deploy("mlstest-old-1", PAST)
    report = sweep(
        clients.sagemaker(),
        name_prefix="mlstest",
        stack_name="MlStack-test",
        running=Running(),
        now=datetime.now(UTC),
        has_time=lambda: False,
    )
    assert report.outcome.deleted == [] and "next round" in report.outcome.notes[0]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_missing_state_machine_setting_is_a_configuration_error(context, monkeypatch):
    monkeypatch.delenv("STATE_MACHINE_ARN")
    settings.cache_clear()
    with pytest.raises(ConfigurationError, match="STATE_MACHINE_ARN"):
        lambda_handler({}, context)
