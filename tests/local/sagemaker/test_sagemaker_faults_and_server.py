"""Fault injection, shutdown without leftovers, and the same API through a real moto server."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from localaws import sagemaker as local_sagemaker
from localaws.sagemaker import faults, procs
from tests.local.sagemaker.conftest import (
    BUCKET,
    REGION,
    ROLE,
    XGB_IMAGE,
    features_csv,
    label_first_csv,
    make_binary,
    training_request,
    wait_training,
    wait_until,
)
from tests.local.sagemaker.test_sagemaker_endpoints import call, variants, wait_endpoint
from tests.local.sagemaker.test_sagemaker_tuning import tuning_request, wait_tuning


@pytest.fixture(autouse=True)
def _no_faults() -> Iterator[None]:
    faults.clear()
    yield
    faults.clear()


def test_injected_training_and_tuning_failures(sm, dataset):
    app = local_sagemaker.control_app()
    call(
        app,
        "POST",
        "/_mlstack/sagemaker/faults",
        {"fail": "training", "reason": "Injected: spot lost", "count": 1},
    )
    call(
        app, "POST", "/_mlstack/sagemaker/faults", {"fail": "tuning", "reason": "Injected: quota", "count": 1}
    )
    sm.create_training_job(**training_request("fault-train", dataset["prefix"]))
    sm.create_hyper_parameter_tuning_job(**tuning_request("fault-tune", dataset["prefix"]))

    job = wait_training(sm, "fault-train")
    tune = wait_tuning(sm, "fault-tune")

    assert (job["TrainingJobStatus"], job["FailureReason"]) == ("Failed", "Injected: spot lost")
    assert tune["FailureReason"] == "Injected: quota"
    assert call(app, "GET", "/_mlstack/sagemaker/faults")["fail"] == {}  # each was used once


def test_delayed_endpoint_stays_creating(sm, dataset):
    sm.create_training_job(**training_request("delay-src", dataset["prefix"]))
    url = wait_training(sm, "delay-src")["ModelArtifacts"]["S3ModelArtifacts"]
    sm.create_model(
        ModelName="delay", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": url}
    )
    sm.create_endpoint_config(EndpointConfigName="delay", ProductionVariants=variants(("v", "delay")))
    faults.add({"delay_endpoint_s": 30})

    sm.create_endpoint(EndpointName="delay", EndpointConfigName="delay")
    wait_until(lambda: any(p["label"] == "endpoint:delay/v" for p in procs.live()))

    assert sm.describe_endpoint(EndpointName="delay")["EndpointStatus"] == "Creating"
    with pytest.raises(sm.exceptions.ClientError) as err:
        sm.delete_endpoint(EndpointName="delay")  # AWS refuses to delete an endpoint being created
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_shutdown_leaves_no_process_behind(sm, dataset):
    request = training_request("shutdown-train", dataset["prefix"])
    request["HyperParameters"]["num_round"] = "1000000"
    sm.create_training_job(**request)
    wait_until(lambda: any(p["label"] == "training:shutdown-train" for p in procs.live()))
    pids = [p["pid"] for p in procs.live()]

    local_sagemaker.shutdown()

    assert procs.live() == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert wait_training(sm, "shutdown-train")["TrainingJobStatus"] in ("Failed", "Stopped")


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    local_sagemaker.install()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    try:
        yield f"http://localhost:{port}"
    finally:
        local_sagemaker.shutdown()
        server.stop()


def test_train_deploy_and_invoke_through_a_moto_server(moto_server):
    def client(service: Any) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=moto_server)

    s3, sm, runtime = client("s3"), client("sagemaker"), client("sagemaker-runtime")
    s3.create_bucket(Bucket=BUCKET)
    x, y = make_binary(200, 4, seed=3)
    s3.put_object(Bucket=BUCKET, Key="srv/train/t.csv", Body=label_first_csv(x[:150], y[:150]))
    s3.put_object(Bucket=BUCKET, Key="srv/validation/v.csv", Body=label_first_csv(x[150:], y[150:]))
    sm.create_training_job(**training_request("srv-train", f"s3://{BUCKET}/srv"))
    url = wait_training(sm, "srv-train")["ModelArtifacts"]["S3ModelArtifacts"]
    sm.create_model(
        ModelName="srv", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": url}
    )
    sm.create_endpoint_config(EndpointConfigName="srv", ProductionVariants=variants(("only", "srv")))
    sm.create_endpoint(EndpointName="srv", EndpointConfigName="srv")
    assert wait_endpoint(sm, "srv")["EndpointStatus"] == "InService"

    out = runtime.invoke_endpoint(EndpointName="srv", Body=features_csv(x[:3]), ContentType="text/csv")

    assert out["InvokedProductionVariant"] == "only"
    assert len(out["Body"].read().decode().split()) >= 1
    sm.delete_endpoint(EndpointName="srv")
