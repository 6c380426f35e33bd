"""CheckQuotas: quotas found by name, compared with the run's needs; unknown quotas only warn."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.stub import Stubber

from contracts.quotas import Usage, requirements
from handlers.check_quotas.handler import lambda_handler
from handlers.common import clients
from handlers.common.errors import QuotaExceeded
from tests.handlers.conftest import http_response, script_wire, throttling
from tests.handlers.runs import make_run

ALL_APPLIED = [
    ("ml.m5.xlarge for training job usage", "L-TRAIN", 4.0),
    ("ml.m5.large for endpoint usage", "L-ENDPT", 2.0),
    ("Number of parallel training jobs per hyperparameter tuning job", "L-PARAL", 10.0),
    ("Number of concurrent hyperparameter tuning jobs", "L-TUNE", 100.0),
    ("Maximum number of concurrent AutoML jobs", "L-AUTOML", 5.0),
]


def quotas(*entries: tuple[str, str, float]) -> list[dict[str, Any]]:
    return [{"QuotaName": n, "QuotaCode": c, "Value": v, "ServiceCode": "sagemaker"} for n, c, v in entries]


@pytest.fixture
def stub():
    client = clients.service_quotas()
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_enough_quota_passes_with_every_quota_checked(stub, context):
    # Given every quota this run needs is applied and high enough (split over two pages)
    stub.add_response(
        "list_service_quotas",
        {"Quotas": quotas(*ALL_APPLIED[:2]), "NextToken": "p2"},
        {"ServiceCode": "sagemaker"},
    )
    stub.add_response(
        "list_service_quotas",
        {"Quotas": quotas(*ALL_APPLIED[2:])},
        {"ServiceCode": "sagemaker", "NextToken": "p2"},
    )
    # When the quotas are checked
    result = lambda_handler({"run": make_run()}, context)
    # Then each is reported with what is needed and what is applied
    assert result["warnings"] == []
    assert result["checked"] == [
        {"quota": "ml.m5.xlarge for training job usage", "needed": 2, "applied": 4, "ok": True},
        {"quota": "ml.m5.large for endpoint usage", "needed": 2, "applied": 2, "ok": True},
        {
            "quota": "Number of parallel training jobs per hyperparameter tuning job",
            "needed": 2,
            "applied": 10,
            "ok": True,
        },
        {"quota": "Number of concurrent hyperparameter tuning jobs", "needed": 1, "applied": 100, "ok": True},
        {"quota": "Maximum number of concurrent AutoML jobs", "needed": 1, "applied": 5, "ok": True},
    ]


def test_too_little_quota_fails_with_needed_applied_and_how_to_raise(stub, context):
    # Given a new account: no training instances of the type the run uses
    low = [("ml.m5.xlarge for training job usage", "L-TRAIN", 0.0), *ALL_APPLIED[1:]]
    stub.add_response("list_service_quotas", {"Quotas": quotas(*low)}, {"ServiceCode": "sagemaker"})
    # When the quotas are checked, Then QuotaExceeded names the quota, the amounts and the way to more
    with pytest.raises(QuotaExceeded) as raised:
        lambda_handler({"run": make_run()}, context)
    message = str(raised.value)
    assert "ml.m5.xlarge for training job usage: needed 2, applied 0" in message
    assert (
        "https://eu-west-1.console.aws.amazon.com/servicequotas/home/services/sagemaker/quotas/L-TRAIN"
        in message
    )
    assert (
        "aws service-quotas request-service-quota-increase --service-code sagemaker "
        "--quota-code L-TRAIN --desired-value 2" in message
    )
    assert "endpoint usage" not in message  # only the short quota is named


def test_default_value_is_used_when_no_value_is_applied(stub, context):
    # Given the endpoint quota has no applied value, only an AWS default
    applied = [q for q in ALL_APPLIED if "endpoint" not in q[0]]
    stub.add_response("list_service_quotas", {"Quotas": quotas(*applied)}, {"ServiceCode": "sagemaker"})
    stub.add_response(
        "list_aws_default_service_quotas",
        {"Quotas": quotas(("ml.m5.large for endpoint usage", "L-ENDPT", 0.0))},
        {"ServiceCode": "sagemaker"},
    )
    # When checked, Then the default decides (here: too low)
    with pytest.raises(QuotaExceeded, match=re.escape("ml.m5.large for endpoint usage: needed 2, applied 0")):
        lambda_handler({"run": make_run()}, context)


def test_quotas_that_do_not_exist_are_warnings(stub, context):
    # Given Service Quotas knows only the instance quotas
    stub.add_response(
        "list_service_quotas", {"Quotas": quotas(*ALL_APPLIED[:2])}, {"ServiceCode": "sagemaker"}
    )
    stub.add_response("list_aws_default_service_quotas", {"Quotas": []}, {"ServiceCode": "sagemaker"})
    # When checked
    result = lambda_handler({"run": make_run()}, context)
    # Then the found ones are checked and each missing one is a warning naming it
    assert [c["quota"] for c in result["checked"]] == [q[0] for q in ALL_APPLIED[:2]]
    assert len(result["warnings"]) == 3
    assert "'Maximum number of concurrent AutoML jobs' not found" in result["warnings"][2]


def test_service_quotas_unavailable_only_warns(stub, context):
    # Given the role may not read Service Quotas, and the defaults API has nothing for SageMaker
    stub.add_client_error("list_service_quotas", "AccessDeniedException", "not authorized")
    stub.add_client_error("list_aws_default_service_quotas", "NoSuchResourceException", "no such service")
    # When checked
    result = lambda_handler({"run": make_run()}, context)
    # Then the run goes on, with the reasons recorded
    assert result["checked"] == []
    assert "ListServiceQuotas failed (AccessDeniedException" in result["warnings"][0]
    assert "ListAWSDefaultServiceQuotas failed (NoSuchResourceException" in result["warnings"][1]
    assert len(result["warnings"]) == 2 + 5


def test_throttling_is_retried(context):
    # Given Service Quotas throttles the first request
    client = clients.service_quotas()
    ok = http_response(200, json.dumps({"Quotas": quotas(*ALL_APPLIED)}).encode())
    script = script_wire(client, "ListServiceQuotas", [throttling(), ok])
    # When checked
    result = lambda_handler({"run": make_run()}, context)
    # Then the client retried and the check completed
    assert script.sent == 2
    assert all(c["ok"] for c in result["checked"]) and len(result["checked"]) == 5


def test_spot_runs_check_the_spot_quota(stub, context):
    run = make_run()
    run["tuning"]["use_spot"] = True
    spot = ("ml.m5.xlarge for spot training job usage", "L-SPOT", 1.0)
    stub.add_response(
        "list_service_quotas", {"Quotas": quotas(spot, *ALL_APPLIED)}, {"ServiceCode": "sagemaker"}
    )
    with pytest.raises(QuotaExceeded, match=r"spot training job usage: needed 2, applied 1\b.*L-SPOT"):
        lambda_handler({"run": run}, context)


def test_quota_table_renders_names_and_needs_from_usage():
    usage = Usage("ml.g5.xlarge", "ml.c5.large", max_parallel_training_jobs=5)
    needs = {r.key: r for r in requirements(usage)}
    assert needs["training-instances"].quota == "ml.g5.xlarge for training job usage"
    assert needs["training-instances"].needed == 5
    assert needs["endpoint-instances"].quota == "ml.c5.large for endpoint usage"
    assert needs["endpoint-instances"].needed == 2
    assert "spot-training-instances" not in needs
    spot = {r.key for r in requirements(Usage("ml.g5.xlarge", "ml.c5.large", 5, use_spot=True))}
    assert "spot-training-instances" in spot and "training-instances" not in spot
