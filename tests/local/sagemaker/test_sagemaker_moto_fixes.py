"""Each moto internal the local SageMaker patches or relies on: fails loudly when moto changes."""

from __future__ import annotations

import inspect

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

from localaws import sagemaker as local_sagemaker
from localaws.sagemaker import api, sfn_integration

MOTO_SAGEMAKER_STORES = (
    "training_jobs",
    "hyper_parameter_tuning_jobs",
    "auto_ml_jobs",
    "_models",
    "endpoint_configs",
    "endpoints",
)


def test_fact_9_moto_sagemaker_is_metadata_only_so_we_replace_the_handlers():
    """Fact 9: moto completes jobs at once with fake content and lacks several actions."""
    local_sagemaker.install()
    # moto's own training and tuning jobs are Completed at creation, with a fake best job.
    assert 'self.training_job_status = "Completed"' in inspect.getsource(FakeTrainingJob.__init__)
    assert '"TrainingJobName": "FakeTrainingJobName"' in inspect.getsource(HyperParameterTuningJob.__init__)
    # Actions moto lacks are still missing from its handlers (ours are the ones installed).
    for missing in (
        "list_training_jobs_for_hyper_parameter_tuning_job",
        "list_candidates_for_auto_ml_job",
        "stop_training_job",
        "stop_hyper_parameter_tuning_job",
        "update_endpoint",
        "describe_auto_ml_job",
    ):
        assert missing not in api.ORIGINALS, f"moto now implements {missing}: revisit the override"
    # The actions we replace still exist in moto (so our names match its dispatch).
    for replaced in ("create_training_job", "describe_hyper_parameter_tuning_job", "create_auto_ml_job_v2"):
        assert replaced in api.ORIGINALS


def test_dispatch_finds_handlers_by_snake_case_action_name():
    local_sagemaker.install()
    assert camelcase_to_underscores("CreateAutoMLJobV2") == "create_auto_ml_job_v2"
    assert camelcase_to_underscores("ListTrainingJobsForHyperParameterTuningJob") in method_names_from_class(
        SageMakerResponse
    )
    for name in api.HANDLERS:
        assert getattr(getattr(SageMakerResponse, name), api.MARK, False), name


def test_runtime_invoke_endpoint_is_replaced_and_moto_still_returns_static_bodies():
    """Fact 9: moto's InvokeEndpoint answers b'body' for any endpoint name."""
    local_sagemaker.install()
    assert getattr(SageMakerRuntimeResponse.invoke_endpoint, api.MARK, False)
    assert "runtime.invoke_endpoint" in api.ORIGINALS
    assert list(inspect.signature(SageMakerRuntimeBackend.invoke_endpoint).parameters) == [
        "self",
        "endpoint_name",
        "unique_repr",
    ]
    assert '"body"' in inspect.getsource(SageMakerRuntimeBackend.invoke_endpoint)


def test_backend_stores_we_share_exist_and_tagging_reads_arn_and_tags():
    backend = SageMakerModelBackend("us-east-1", "123456789012")
    for store in MOTO_SAGEMAKER_STORES:
        assert isinstance(getattr(backend, store), dict), store
    source = inspect.getsource(SageMakerModelBackend.iter_tagged_resources)
    assert "resource.arn" in source and '"tags"' in source


def test_fact_12_moto_does_not_enforce_name_lengths():
    backend = SageMakerModelBackend("us-east-1", "123456789012")
    model = backend.create_model("m" * 100, "arn:aws:iam::123456789012:role/r", {}, None, None, None)
    assert model.model_name == "m" * 100


def test_fact_1_sagemaker_tasks_are_unsupported_in_moto_and_routed_to_ours():
    local_sagemaker.install()
    # moto still lists sagemaker as "unsupported" and its .sync raises.
    assert "sagemaker" in state_task_service_factory._UNSUPPORTED_SERVICE_NAMES
    assert "Unsupported .sync callback procedure" in inspect.getsource(
        state_task_service_callback.StateTaskServiceCallback._build_sync_resolver
    )
    unsupported = state_task_service_unsupported.StateTaskServiceUnsupported
    assert issubclass(unsupported, state_task_service_callback.StateTaskServiceCallback)
    # moto's task factory calls the service factory by the name it imported: we patch that name.
    assert "state_task_service_for(service_name=resource.service_name)" in inspect.getsource(
        state_task_factory.state_task_for
    )
    service_for = getattr(state_task_factory, "state_task_service_for")  # noqa: B009
    assert getattr(service_for, sfn_integration.MARK, False)
    assert isinstance(service_for("sagemaker"), sfn_integration.StateTaskServiceSageMaker)
    assert type(service_for("sqs")).__name__ == "StateTaskServiceSqs"


def test_sync_needs_a_callback_endpoint_in_moto():
    """moto's .sync path calls callback_endpoint.interrupt_all(): why we declare waitForTaskToken."""
    source = inspect.getsource(state_task_service_callback.StateTaskServiceCallback._eval_integration_pattern)
    assert "callback_endpoint.interrupt_all()" in source
    assert "ResourceCondition.WaitForTaskToken in self._supported_integration_patterns" in source
    assert state_task_service_callback._DELAY_SECONDS_SYNC_CONDITION_CHECK == 0.5


def test_aws_sdk_error_names_are_patched_for_sagemaker_only():
    local_sagemaker.install()
    sdk = state_task_service_aws_sdk.StateTaskServiceAwsSdk
    assert getattr(sdk._from_error, sfn_integration.MARK, False)
    # Unpatched, moto would name SageMaker errors "sagemaker.<Class>Exception".
    assert "sagemaker" not in state_task_service_aws_sdk._SERVICE_ERROR_NAMES
    assert callable(sdk._get_task_failure_event)


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


def test_install_is_idempotent():
    local_sagemaker.install()
    before = dict(api.ORIGINALS)
    handler = SageMakerResponse.create_training_job
    local_sagemaker.install()
    assert SageMakerResponse.create_training_job is handler
    assert before == api.ORIGINALS
    assert not any(getattr(v, api.MARK, False) for v in api.ORIGINALS.values())
