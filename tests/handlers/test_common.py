"""Shared helpers: S3 URIs, 'not found' detection, settings from the environment, client retries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from handlers.common import clients
from handlers.common.aws_errors import is_not_found
from handlers.common.errors import ConfigurationError
from handlers.common.s3uri import S3Uri, parse_s3_uri
from handlers.common.settings import Settings, settings
from tests.handlers.conftest import DATA_BUCKET, ENV, STAGE_DEFAULTS


def test_s3_uri_parse_and_join():
    uri = parse_s3_uri("s3://bucket/datasets/bank/")
    assert uri == S3Uri("bucket", "datasets/bank/")
    assert str(uri.join("test-raw/")) == "s3://bucket/datasets/bank/test-raw/"
    assert str(S3Uri("bucket", "reports/run").join("/report.html")) == "s3://bucket/reports/run/report.html"
    for bad in ("https://bucket/key", "s3://", "bucket/key", None):
        with pytest.raises(ValueError):
            parse_s3_uri(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("ValidationException", 'Could not find endpoint "arn:...:endpoint/x".', True),
        ("ValidationException", 'Could not find model "x".', True),
        ("ResourceNotFound", "Amazon SageMaker can't find a tuning job", True),
        ("NoSuchKey", "The specified key does not exist.", True),
        ("ValidationException", 'Cannot delete in-progress endpoint "x".', False),
        ("AccessDeniedException", "not authorized", False),
    ],
)
def test_not_found_detection(code, message, expected):
    err = ClientError({"Error": {"Code": code, "Message": message}}, "Op")
    assert is_not_found(err) is expected


def test_settings_are_read_once_from_the_environment(monkeypatch):
    first = settings()
    assert first.data_bucket == DATA_BUCKET
    assert dict(first.stage_defaults) == STAGE_DEFAULTS
    monkeypatch.setenv("DATA_BUCKET", "changed")
    assert settings() is first  # parsed once per process


def test_missing_settings_are_named():
    empty = Settings.from_env({})
    with pytest.raises(ConfigurationError, match="lacks DATA_BUCKET, KEY_ARN, STAGE_DEFAULTS"):
        empty.require("data_bucket", "key_arn", "stage_defaults")
    with pytest.raises(ConfigurationError, match="STAGE_DEFAULTS is not valid JSON"):
        Settings.from_env({**ENV, "STAGE_DEFAULTS": "{"})
    with pytest.raises(ConfigurationError, match="must be a JSON object"):
        Settings.from_env({**ENV, "STAGE_DEFAULTS": json.dumps([1])})


def test_clients_retry_in_standard_mode_and_honour_the_endpoint_variable(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    clients.clear()
    client = clients.sagemaker()
    # botocore counts max_attempts as retries: 5 retries after the first attempt
    config: Any = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 6}
    assert client.meta.endpoint_url == "http://localhost:4566"
    assert clients.sagemaker() is client  # one client per process
    runtime_config: Any = clients.sagemaker_runtime().meta.config
    assert runtime_config.read_timeout == 120
