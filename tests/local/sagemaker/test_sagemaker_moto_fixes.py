"""Each moto internal the local SageMaker patches or relies on: fails loudly when moto changes."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from moto.core.utils import camelcase_to_underscores, method_names_from_class
from moto.s3.models import S3Backend
from moto.sagemaker.models import FakeTrainingJob, HyperParameterTuningJob, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.models import SageMakerRuntimeBackend
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_callback,
    state_task_service_factory,
    state_task_service_unsupported,
)
from moto.stepfunctions.parser.asl.utils import boto_client

from localaws import patches
from localaws import sagemaker as local_sagemaker
from localaws.patches import _patching
from localaws.patches._patching import MotoChangedError
from localaws.sagemaker import api, sfn_integration

MOTO_LACKS = (
    "list_training_jobs_for_hyper_parameter_tuning_job",
    "list_candidates_for_auto_ml_job",
    "stop_training_job",
    "stop_hyper_parameter_tuning_job",
    "update_endpoint",
    "describe_auto_ml_job",
)


@pytest.fixture
def unpatched() -> Iterator[None]:
    """moto as shipped during the test (every fix reverted), the local SageMaker installed after."""
    patches.revert_all()
    yield
    patches.revert_all()
    local_sagemaker.install()


def test_fact_9_moto_sagemaker_is_metadata_only_so_we_replace_the_handlers(unpatched):
    """Fact 9: moto completes jobs at once with fake content and lacks several actions."""
    # moto's own training and tuning jobs are Completed at creation, with a fake best job.
    assert 'self.training_job_status = "Completed"' in inspect.getsource(FakeTrainingJob.__init__)
    assert '"TrainingJobName": "FakeTrainingJobName"' in inspect.getsource(HyperParameterTuningJob.__init__)
    # Actions moto lacks are still missing from its handlers (ours are added).
    for missing in MOTO_LACKS:
        assert not hasattr(SageMakerResponse, missing), f"moto now implements {missing}: revisit the override"
    assert set(MOTO_LACKS) == api.MOTO_LACKS
    # The actions we replace still exist in moto (so our names match its dispatch).
    for replaced in ("create_training_job", "describe_hyper_parameter_tuning_job", "create_auto_ml_job_v2"):
        assert hasattr(SageMakerResponse, replaced)
        assert replaced not in api.MOTO_LACKS
    local_sagemaker.install()
    for replaced in ("create_training_job", "describe_hyper_parameter_tuning_job", "create_auto_ml_job_v2"):
        assert _patching.original(SageMakerResponse, replaced) is not api.HANDLERS[replaced]


def test_install_fails_loudly_once_moto_implements_an_action_we_add(unpatched):
    SageMakerResponse.update_endpoint = lambda self: None  # type: ignore[attr-defined]
    try:
        with pytest.raises(MotoChangedError, match="update_endpoint"):
            local_sagemaker.install()
    finally:
        patches.revert_all()
        del SageMakerResponse.update_endpoint  # type: ignore[attr-defined]


def test_dispatch_finds_handlers_by_snake_case_action_name():
    local_sagemaker.install()
    assert camelcase_to_underscores("CreateAutoMLJobV2") == "create_auto_ml_job_v2"
    assert camelcase_to_underscores("ListTrainingJobsForHyperParameterTuningJob") in method_names_from_class(
        SageMakerResponse
    )
    for name, handler in api.HANDLERS.items():
        assert getattr(SageMakerResponse, name) is handler, name


def test_runtime_invoke_endpoint_is_replaced_and_moto_still_returns_static_bodies(unpatched):
    """Fact 9: moto's InvokeEndpoint answers b'body' for any endpoint name."""
    assert SageMakerRuntimeResponse.invoke_endpoint is not api._invoke_endpoint
    assert list(inspect.signature(SageMakerRuntimeBackend.invoke_endpoint).parameters) == [
        "self",
        "endpoint_name",
        "unique_repr",
    ]
    assert '"body"' in inspect.getsource(SageMakerRuntimeBackend.invoke_endpoint)
    local_sagemaker.install()
    assert SageMakerRuntimeResponse.invoke_endpoint is api._invoke_endpoint
    assert _patching.original(SageMakerRuntimeResponse, "invoke_endpoint") is not api._invoke_endpoint


def test_fact_12_moto_does_not_enforce_name_lengths():
    backend = SageMakerModelBackend("us-east-1", "123456789012")
    model = backend.create_model("m" * 100, "arn:aws:iam::123456789012:role/r", {}, None, None, None)
    assert model.model_name == "m" * 100


def test_fact_1_sagemaker_tasks_are_unsupported_in_moto_and_routed_to_ours(unpatched):
    # moto still lists sagemaker as "unsupported" and its .sync raises.
    assert "sagemaker" in state_task_service_factory._UNSUPPORTED_SERVICE_NAMES
    assert isinstance(
        state_task_factory.state_task_service_for("sagemaker"),
        state_task_service_unsupported.StateTaskServiceUnsupported,
    )
    assert "Unsupported .sync callback procedure" in inspect.getsource(
        state_task_service_callback.StateTaskServiceCallback._build_sync_resolver
    )
    unsupported = state_task_service_unsupported.StateTaskServiceUnsupported
    assert issubclass(unsupported, state_task_service_callback.StateTaskServiceCallback)
    # moto's task factory calls the service factory by the name it imported: we patch that name.
    assert "state_task_service_for(service_name=resource.service_name)" in inspect.getsource(
        state_task_factory.state_task_for
    )
    local_sagemaker.install()
    for module in (state_task_factory, state_task_service_factory):
        service_for = module.state_task_service_for
        assert service_for is not _patching.original(module, "state_task_service_for")
        assert isinstance(service_for("sagemaker"), sfn_integration.StateTaskServiceSageMaker)
        assert type(service_for("sqs")).__name__ == "StateTaskServiceSqs"


def test_sync_needs_a_callback_endpoint_in_moto():
    """moto's .sync path calls callback_endpoint.interrupt_all(): why we declare waitForTaskToken."""
    source = inspect.getsource(state_task_service_callback.StateTaskServiceCallback._eval_integration_pattern)
    assert "callback_endpoint.interrupt_all()" in source
    assert "ResourceCondition.WaitForTaskToken in self._supported_integration_patterns" in source
    assert state_task_service_callback._DELAY_SECONDS_SYNC_CONDITION_CHECK == 0.5


def test_aws_sdk_error_names_are_patched_for_sagemaker_only(unpatched):
    sdk = state_task_service_aws_sdk.StateTaskServiceAwsSdk
    # Unpatched, moto would name SageMaker errors "sagemaker.<Class>Exception".
    assert "sagemaker" not in state_task_service_aws_sdk._SERVICE_ERROR_NAMES
    assert callable(sdk._get_task_failure_event)
    local_sagemaker.install()
    assert sdk._from_error is not _patching.original(sdk, "_from_error")


def test_boto_client_for_is_how_the_interpreter_reaches_services():
    assert list(inspect.signature(boto_client.boto_client_for).parameters) == [
        "region",
        "service",
        "state_credentials",
    ]


def test_s3_backend_calls_we_use_keep_their_shape():
    for method, params in {
        "get_bucket": ["self", "bucket_name"],
        "list_objects": ["self", "bucket", "prefix", "delimiter", "marker", "max_keys"],
    }.items():
        assert list(inspect.signature(getattr(S3Backend, method)).parameters) == params
    put = inspect.signature(S3Backend.put_object).parameters
    assert {"bucket_name", "key_name", "value", "encryption", "kms_key_id"} <= set(put)
    assert {"bucket_name", "key_name"} <= set(inspect.signature(S3Backend.get_object).parameters)


def test_install_is_idempotent_and_revertible(unpatched):
    sdk = state_task_service_aws_sdk.StateTaskServiceAwsSdk
    shipped, shipped_from_error = SageMakerResponse.create_training_job, sdk._from_error
    local_sagemaker.install()
    handler = SageMakerResponse.create_training_job
    local_sagemaker.install()
    assert SageMakerResponse.create_training_job is handler is api.HANDLERS["create_training_job"]
    assert _patching.original(SageMakerResponse, "create_training_job") is shipped
    # A wrapper is rebuilt on reinstall, always around moto's own method: never a wrapper of a wrapper.
    assert inspect.getclosurevars(sdk._from_error).nonlocals["original"] is shipped_from_error
    patches.revert_all()
    assert SageMakerResponse.create_training_job is shipped
    assert not any(hasattr(SageMakerResponse, name) for name in MOTO_LACKS)
