"""Injected API errors reach clients as SageMaker sends them: modelled codes as their classes."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localaws.sagemaker import faults
from tests.local.sagemaker.conftest import REGION


@pytest.fixture
def sm_once(aws):
    """A client that does not retry, so each injected error is seen as it was answered."""
    faults.clear()
    yield boto3.client("sagemaker", region_name=REGION, config=Config(retries={"total_max_attempts": 1}))
    faults.clear()


@pytest.mark.parametrize(
    ("code", "modelled"),
    [
        ("ThrottlingException", False),
        ("ValidationException", False),
        ("AccessDeniedException", False),
        ("ResourceLimitExceeded", True),
        ("ResourceInUse", True),
    ],
)
def test_an_injected_error_is_answered_as_often_as_asked(sm_once, code, modelled):
    faults.add({"error": code, "action": "ListEndpoints", "count": 2})

    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            sm_once.list_endpoints()
        assert raised.value.response["Error"]["Code"] == code
        # The class Step Functions names the error after: SageMaker.<Code>Exception, else the generic one.
        assert (type(raised.value).__name__ == code) is modelled

    assert sm_once.list_endpoints()["Endpoints"] == []
    assert faults.snapshot()["errors"] == {"ListEndpoints": {"code": code, "count": 0}}


def test_an_unknown_error_code_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="ThrottlingException"):
        faults.add({"error": "Teapot", "action": "ListEndpoints"})
