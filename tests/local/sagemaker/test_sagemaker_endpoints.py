"""Models, endpoint configs and endpoints: real model servers behind InvokeEndpoint."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localaws import sagemaker as local_sagemaker
from localaws.sagemaker import procs
from tests.local.sagemaker.conftest import (
    REGION,
    ROLE,
    XGB_IMAGE,
    features_csv,
    training_request,
    wait_training,
    wait_until,
)


def wait_endpoint(sm: Any, name: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        d = sm.describe_endpoint(EndpointName=name)
        return d if d["EndpointStatus"] not in ("Creating", "Updating") else None

    result: dict[str, Any] = wait_until(done, timeout=180)
    return result


@pytest.fixture
def two_models(sm, dataset):
    """Two trained XGBoost models (different depths) registered as SageMaker models."""
    for name, depth in (("ep-model-a", "2"), ("ep-model-b", "4")):
        request = training_request(name, dataset["prefix"])
        request["HyperParameters"]["max_depth"] = depth
        sm.create_training_job(**request)
    for name in ("ep-model-a", "ep-model-b"):
        job = wait_training(sm, name)
        assert job["TrainingJobStatus"] == "Completed"
        sm.create_model(
            ModelName=name,
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]},
            Tags=[{"Key": "mlstack:run", "Value": "r1"}],
        )
    return dataset


def variants(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "VariantName": variant,
            "ModelName": model,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": 1.0,
        }
        for variant, model in pairs
    ]


def test_endpoint_serves_each_variant_and_cleans_up(sm, runtime, two_models):
    sm.create_endpoint_config(
        EndpointConfigName="ep-config",
        ProductionVariants=variants(("tuned", "ep-model-a"), ("autopilot", "ep-model-b")),
    )
    sm.create_endpoint(EndpointName="ep-1", EndpointConfigName="ep-config", Tags=[{"Key": "k", "Value": "v"}])
    assert sm.describe_endpoint(EndpointName="ep-1")["EndpointStatus"] in ("Creating", "InService")

    described = wait_endpoint(sm, "ep-1")

    assert described["EndpointStatus"] == "InService"
    assert {v["VariantName"] for v in described["ProductionVariants"]} == {"tuned", "autopilot"}
    body = features_csv(two_models["x"][:5])
    for variant in ("tuned", "autopilot"):
        out = runtime.invoke_endpoint(
            EndpointName="ep-1", Body=body, ContentType="text/csv", TargetVariant=variant
        )
        assert out["InvokedProductionVariant"] == variant
        scores = [float(v) for v in out["Body"].read().decode().replace("\n", ",").split(",") if v]
        assert len(scores) == 5 and all(0.0 <= s <= 1.0 for s in scores)
    by_weight = {
        runtime.invoke_endpoint(EndpointName="ep-1", Body=body, ContentType="text/csv")[
            "InvokedProductionVariant"
        ]
        for _ in range(12)
    }
    assert by_weight == {"tuned", "autopilot"}
    listed = sm.list_endpoints(NameContains="ep-", StatusEquals="InService")["Endpoints"]
    assert [e["EndpointName"] for e in listed] == ["ep-1"]
    assert sm.list_tags(ResourceArn=described["EndpointArn"])["Tags"] == [{"Key": "k", "Value": "v"}]
    pids = [p["pid"] for p in procs.live() if p["label"].startswith("endpoint:ep-1/")]
    assert len(pids) == 2

    sm.delete_endpoint(EndpointName="ep-1")
    sm.delete_endpoint_config(EndpointConfigName="ep-config")
    sm.delete_model(ModelName="ep-model-a")

    assert not [p for p in procs.live() if p["label"].startswith("endpoint:ep-1/")]
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(ClientError) as err:
        sm.describe_endpoint(EndpointName="ep-1")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == ["ep-model-b"]


def test_invoke_errors_are_what_sagemaker_returns(sm, runtime, two_models):
    with pytest.raises(ClientError) as err:
        runtime.invoke_endpoint(EndpointName="missing", Body=b"1,2", ContentType="text/csv")
    assert err.value.response["Error"]["Code"] == "ValidationError"
    sm.create_endpoint_config(
        EndpointConfigName="ep-err", ProductionVariants=variants(("only", "ep-model-a"))
    )
    sm.create_endpoint(EndpointName="ep-err", EndpointConfigName="ep-err")
    wait_endpoint(sm, "ep-err")

    with pytest.raises(ClientError) as err:
        runtime.invoke_endpoint(EndpointName="ep-err", Body=b"not,a,number\n", ContentType="text/csv")

    assert err.value.response["Error"]["Code"] == "ModelError"
    assert err.value.response["OriginalStatusCode"] == 400  # type: ignore[typeddict-item]
    sm.delete_endpoint(EndpointName="ep-err")


def test_endpoint_with_missing_artifact_fails(sm, dataset):
    sm.create_model(
        ModelName="ep-broken",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": f"{dataset['prefix']}/nothing/model.tar.gz"},
    )
    sm.create_endpoint_config(EndpointConfigName="ep-broken", ProductionVariants=variants(("v", "ep-broken")))
    sm.create_endpoint(EndpointName="ep-broken", EndpointConfigName="ep-broken")

    described = wait_endpoint(sm, "ep-broken")

    assert described["EndpointStatus"] == "Failed"
    assert "model data archive" in described["FailureReason"]
    sm.delete_endpoint(EndpointName="ep-broken")


def test_one_broken_variant_fails_the_endpoint_and_stops_the_others(sm, two_models):
    # Given a config whose variants start together, one of them without its model archive
    sm.create_model(
        ModelName="ep-missing",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": f"{two_models['prefix']}/nothing/model.tar.gz"},
    )
    sm.create_endpoint_config(
        EndpointConfigName="ep-half",
        ProductionVariants=variants(("good", "ep-model-a"), ("broken", "ep-missing"), ("also", "ep-model-b")),
    )

    # When the endpoint is created
    sm.create_endpoint(EndpointName="ep-half", EndpointConfigName="ep-half")
    described = wait_endpoint(sm, "ep-half")

    # Then it fails naming the broken variant, and no server of the others is left running
    assert described["EndpointStatus"] == "Failed"
    assert "production variant broken" in described["FailureReason"]
    assert not [p for p in procs.live() if p["label"].startswith("endpoint:ep-half/")]
    sm.delete_endpoint(EndpointName="ep-half")


def test_update_endpoint_swaps_variants(sm, runtime, two_models):
    sm.create_endpoint_config(EndpointConfigName="ep-u1", ProductionVariants=variants(("a", "ep-model-a")))
    sm.create_endpoint_config(EndpointConfigName="ep-u2", ProductionVariants=variants(("b", "ep-model-b")))
    sm.create_endpoint(EndpointName="ep-upd", EndpointConfigName="ep-u1")
    wait_endpoint(sm, "ep-upd")

    sm.update_endpoint(EndpointName="ep-upd", EndpointConfigName="ep-u2")
    described = wait_endpoint(sm, "ep-upd")

    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "ep-u2"
    out = runtime.invoke_endpoint(
        EndpointName="ep-upd", Body=features_csv(two_models["x"][:1]), ContentType="text/csv"
    )
    assert out["InvokedProductionVariant"] == "b"
    sm.delete_endpoint(EndpointName="ep-upd")


def test_duplicates_and_unknown_models_are_rejected(sm, two_models):
    with pytest.raises(ClientError) as err:
        sm.create_model(ModelName="ep-model-a", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGB_IMAGE})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as err:
        sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=variants(("v", "no-such-model")))
    assert "Could not find model" in err.value.response["Error"]["Message"]


def test_faults_fail_throttle_and_delay_endpoints(sm, two_models):
    app = local_sagemaker.control_app()
    call(app, "POST", "/_mlstack/sagemaker/faults", {"throttle": "CreateEndpoint", "count": 1})
    no_retry = boto3.client("sagemaker", region_name=REGION, config=Config(retries={"total_max_attempts": 1}))
    call(
        app,
        "POST",
        "/_mlstack/sagemaker/faults",
        {"fail": "endpoint", "reason": "Injected: capacity", "count": 1},
    )
    sm.create_endpoint_config(EndpointConfigName="ep-f", ProductionVariants=variants(("v", "ep-model-a")))
    with pytest.raises(ClientError) as err:
        no_retry.create_endpoint(EndpointName="ep-f", EndpointConfigName="ep-f")
    assert err.value.response["Error"]["Code"] == "ThrottlingException"

    sm.create_endpoint(EndpointName="ep-f", EndpointConfigName="ep-f")
    described = wait_endpoint(sm, "ep-f")

    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"] == "Injected: capacity"
    state = call(app, "GET", "/_mlstack/sagemaker/state")
    assert [e["EndpointName"] for e in state["endpoints"]] == ["ep-f"]
    call(app, "DELETE", "/_mlstack/sagemaker/faults")
    assert call(app, "GET", "/_mlstack/sagemaker/faults")["fail"] == {}
    sm.delete_endpoint(EndpointName="ep-f")


def test_an_injected_invocation_fault_answers_model_error_once(sm, runtime, two_models):
    app = local_sagemaker.control_app()
    sm.create_endpoint_config(EndpointConfigName="ep-inv", ProductionVariants=variants(("v", "ep-model-a")))
    sm.create_endpoint(EndpointName="ep-inv", EndpointConfigName="ep-inv")
    wait_endpoint(sm, "ep-inv")
    fault = {"fail": "invocation", "reason": "Injected: crashed while predicting", "count": 1}
    call(app, "POST", "/_mlstack/sagemaker/faults", fault)
    body = features_csv(two_models["x"][:1])

    with pytest.raises(ClientError) as err:
        runtime.invoke_endpoint(EndpointName="ep-inv", Body=body, ContentType="text/csv")

    assert err.value.response["Error"]["Code"] == "ModelError"
    assert "Injected: crashed while predicting" in err.value.response["Error"]["Message"]
    answer = runtime.invoke_endpoint(EndpointName="ep-inv", Body=body, ContentType="text/csv")
    assert answer["InvokedProductionVariant"] == "v"  # the one injected failure was consumed
    sm.delete_endpoint(EndpointName="ep-inv")


def call(app: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    import io

    raw = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
    }
    status: list[str] = []
    out = b"".join(app(environ, lambda s, h: status.append(s)))
    assert status[0].startswith("200"), (status, out)
    return json.loads(out)


def test_ping_contract_of_a_variant_server(sm, two_models):
    sm.create_endpoint_config(EndpointConfigName="ep-ping", ProductionVariants=variants(("v", "ep-model-a")))
    sm.create_endpoint(EndpointName="ep-ping", EndpointConfigName="ep-ping")
    wait_endpoint(sm, "ep-ping")
    state = call(local_sagemaker.control_app(), "GET", "/_mlstack/sagemaker/state")
    port = state["endpoints"][0]["variants"]["v"]["port"]

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5) as resp:
        assert resp.status == 200
    sm.delete_endpoint(EndpointName="ep-ping")
