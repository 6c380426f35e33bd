"""The local SageMaker's own backend: its state apart from moto's SageMaker stores, cleared as moto's is."""

from __future__ import annotations

import pytest
from moto.core.base_backend import BackendDict
from moto.sagemaker.models import sagemaker_backends

from localaws.sagemaker.common import ResourceNotFound, ValidationException
from localaws.sagemaker.endpoints import Model
from localaws.sagemaker.models import backend
from tests.local.sagemaker.conftest import REGION, ROLE, XGB_IMAGE

ACCOUNT = "123456789012"
MOTO_SAGEMAKER_STORES = (
    "training_jobs",
    "hyper_parameter_tuning_jobs",
    "auto_ml_jobs",
    "_models",
    "endpoint_configs",
    "endpoints",
)


def create_model_and_config(sm):
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGB_IMAGE})
    sm.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[{"VariantName": "v", "ModelName": "m", "InstanceType": "ml.m5.large"}],
        KmsKeyId="alias/k",
    )


def test_records_live_in_our_backend_and_moto_stores_stay_empty(sm):
    # Given a model and an endpoint config created through the API
    create_model_and_config(sm)
    # Then our backend holds them, and the accessor IAM's rules read finds the config's key
    ours = backend(ACCOUNT, REGION)
    assert ours.models.lookup("m").arn.endswith(":model/m")
    config = ours.endpoint_configs.get("c")
    assert config is not None and config.request.get("KmsKeyId") == "alias/k"
    assert ours.endpoint_configs.get("missing") is None
    # And moto's own SageMaker stores hold nothing of ours
    moto = sagemaker_backends[ACCOUNT][REGION]
    for store in MOTO_SAGEMAKER_STORES:
        assert getattr(moto, store) == {}, store
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == ["m"]


def test_moto_reset_clears_our_backend_too(sm):
    create_model_and_config(sm)
    BackendDict.reset()  # what mock_aws does on start and moto's reset API does
    assert backend(ACCOUNT, REGION).models.get("m") is None
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []


def test_stores_answer_with_the_kind_s_own_errors(sm):
    create_model_and_config(sm)
    ours = backend(ACCOUNT, REGION)
    with pytest.raises(ValidationException, match='Cannot create already existing model "arn:aws:'):
        ours.models.add(Model(ACCOUNT, REGION, {"ModelName": "m", "PrimaryContainer": {"Image": XGB_IMAGE}}))
    with pytest.raises(ResourceNotFound, match="can't find a tuning job with name t"):
        ours.tuning_jobs.lookup("t")
    with pytest.raises(ResourceNotFound, match="Resource arn:aws:sagemaker:"):
        ours.tagged(f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/nope")
    assert ours.tagged(f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/C").name == "c"
