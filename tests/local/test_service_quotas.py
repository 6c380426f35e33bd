"""Service Quotas for SageMaker in the local AWS: listed like AWS, applied values settable for tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from localaws import patches
from localaws.patches import _patching
from localaws.patches import service_quotas_sagemaker as quotas

QUOTA = "ml.m5.xlarge for training job usage"


def control(local_aws, method: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{local_aws.env['AWS_ENDPOINT_URL']}/_mlstack/sagemaker/quotas",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict = json.loads(response.read())
    return answer


def by_name(listing: list[dict]) -> dict[str, float]:
    return {q["QuotaName"]: q["Value"] for q in listing}


def test_moto_still_lacks_list_service_quotas_and_the_patch_adds_it_revertibly():
    from moto.servicequotas.responses import ServiceQuotasResponse

    try:
        patches.apply_all()
        assert callable(ServiceQuotasResponse.list_service_quotas)
    finally:
        patches.revert_all()
    # If this fails, moto implemented ListServiceQuotas: re-check (or drop) the patch.
    assert not hasattr(ServiceQuotasResponse, "list_service_quotas")


def test_add_refuses_an_attribute_that_exists():
    class Target:
        existing = 1

    with pytest.raises(_patching.MotoChangedError, match="now has"):
        _patching.add(Target, "existing", 2)


def test_sagemaker_quotas_are_listed_and_an_applied_value_can_be_lowered(local_aws):
    client = local_aws.client("service-quotas")
    applied = by_name(client.list_service_quotas(ServiceCode="sagemaker")["Quotas"])
    assert applied[QUOTA] == quotas.DEFAULTS[QUOTA]
    assert "Number of parallel training jobs per hyperparameter tuning job" in applied
    try:
        control(local_aws, "POST", {"name": QUOTA, "value": 1})

        lowered = by_name(client.list_service_quotas(ServiceCode="sagemaker")["Quotas"])
        defaults = by_name(client.list_aws_default_service_quotas(ServiceCode="sagemaker")["Quotas"])

        assert lowered[QUOTA] == 1
        assert defaults[QUOTA] == quotas.DEFAULTS[QUOTA]  # AWS defaults do not change
    finally:
        control(local_aws, "DELETE")
    assert (
        by_name(client.list_service_quotas(ServiceCode="sagemaker")["Quotas"])[QUOTA]
        == quotas.DEFAULTS[QUOTA]
    )
    # moto's own vpc defaults still answer
    assert client.list_aws_default_service_quotas(ServiceCode="vpc")["Quotas"]


def test_an_unknown_quota_name_is_refused(local_aws):
    with pytest.raises(urllib.error.HTTPError) as err:
        control(local_aws, "POST", {"name": "ml.m5.xlarge for trianing job usage", "value": 1})
    assert err.value.code == 400
    assert "unknown SageMaker quota" in json.loads(err.value.read())["message"]
