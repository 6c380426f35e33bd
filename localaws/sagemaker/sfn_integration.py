"""Step Functions ↔ local SageMaker: the optimized integration (.sync included) and aws-sdk error names."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, Final

import botocore.session
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_factory,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback as callback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

from localaws.patches._patching import wrap

# Optimized SageMaker integrations Step Functions offers (connect-sagemaker), and which can .sync.
REQUEST_RESPONSE: Final = {
    "createModel",
    "createEndpointConfig",
    "createEndpoint",
    "updateEndpoint",
    "createTrainingJob",
    "createHyperParameterTuningJob",
    "createTransformJob",
    "createProcessingJob",
    "createLabelingJob",
}
# action -> (name parameter, describe call, status field)
SYNC: Final[dict[str, tuple[str, str, str]]] = {
    "createTrainingJob": ("TrainingJobName", "describe_training_job", "TrainingJobStatus"),
    "createHyperParameterTuningJob": (
        "HyperParameterTuningJobName",
        "describe_hyper_parameter_tuning_job",
        "HyperParameterTuningJobStatus",
    ),
}
OPTIMIZED_ERROR: Final = "SageMaker.AmazonSageMakerException"


def _epoch_millis(value: Any) -> Any:
    # Step Functions renders SageMaker timestamps in task output as epoch milliseconds.
    if isinstance(value, dict):
        return {k: _epoch_millis(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_epoch_millis(v) for v in value]
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    return value


class StateTaskServiceSageMaker(callback.StateTaskServiceCallback):
    """`arn:aws:states:::sagemaker:<action>[.sync]` against the (local) SageMaker API."""

    def __init__(self) -> None:
        # moto's .sync path ends with `callback_endpoint.interrupt_all()`, and the endpoint exists only
        # when waitForTaskToken is among the supported patterns: declare it, though SageMaker has none.
        patterns = {ResourceCondition.Sync, ResourceCondition.WaitForTaskToken}
        super().__init__(supported_integration_patterns=patterns)  # type: ignore[arg-type]

    def _get_supported_parameters(self) -> set[str] | None:
        action = self.resource.api_action
        if action not in REQUEST_RESPONSE:
            return None
        model = botocore.session.get_session().get_service_model("sagemaker")
        op = model.operation_model(action[0].upper() + action[1:])
        return set(op.input_shape.members) if op.input_shape is not None else set()

    def _client(self, region: str, credentials: Any) -> Any:
        return boto_client_for(service="sagemaker", region=region, state_credentials=credentials)

    def _from_error(self, env: Any, ex: Exception) -> FailureEvent:
        if isinstance(ex, ClientError):
            err = ex.response.get("Error", {})
            meta = ex.response.get("ResponseMetadata", {})
            cause = (
                f"{err.get('Message', '')} (Service: AmazonSageMaker; "
                f"Status Code: {meta.get('HTTPStatusCode')}; Error Code: {err.get('Code')}; "
                f"Request ID: {meta.get('RequestId')}; Proxy: null)"
            )
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(OPTIMIZED_ERROR),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(  # type: ignore[typeddict-item]
                    taskFailedEventDetails=TaskFailedEventDetails(
                        error=OPTIMIZED_ERROR,
                        cause=cause,
                        resource=self._get_sfn_resource(),
                        resourceType=self._get_sfn_resource_type(),
                    )
                ),
            )
        return super()._from_error(env=env, ex=ex)

    def _eval_service_task(
        self,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        client = self._client(resource_runtime_part.region, state_credentials)
        response = getattr(client, self._get_boto_service_action())(**normalised_parameters)
        response.pop("ResponseMetadata", None)
        env.stack.append(_epoch_millis(response))

    def _build_sync_resolver(
        self,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> Callable[[], Any] | None:
        action = self.resource.api_action
        if action not in SYNC:
            raise RuntimeError(
                f"Unsupported .sync callback procedure in resource {self.resource.resource_arn}"
            )
        env.stack.pop()  # the Create* output; .sync answers with the Describe* output instead
        name_param, describe, status_field = SYNC[action]
        name = normalised_parameters[name_param]
        client = self._client(resource_runtime_part.region, state_credentials)

        def resolve() -> Any:
            # moto's loop calls this every 0.5 s (AWS polls every 60 s): no sleep of our own.
            output = getattr(client, describe)(**{name_param: name})
            output.pop("ResponseMetadata", None)
            status = output.get(status_field)
            if status == "Completed":
                return _epoch_millis(output)
            if status in ("Failed", "Stopped"):
                raise FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                        event_type=HistoryEventType.TaskFailed,
                        event_details=EventDetails(  # type: ignore[typeddict-item]
                            taskFailedEventDetails=TaskFailedEventDetails(
                                resource=self._get_sfn_resource(),
                                resourceType=self._get_sfn_resource_type(),
                                error=StatesErrorNameType.StatesTaskFailed.to_name(),
                                cause=json.dumps(_epoch_millis(output)),
                            )
                        ),
                    )
                )
            return None

        return resolve


def _aws_sdk_from_error(original: Callable[..., Any]) -> Callable[..., Any]:
    """aws-sdk:sagemaker errors as Step Functions names them.

    An error SageMaker's model declares is SageMaker.<Code>Exception; any other (a throttle, a validation
    error, an access denial) is SageMaker.SageMakerException, the SDK's generic class. botocore raises a
    class of the code's name only for declared errors, a bare ClientError otherwise.
    """

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, ClientError) and str(self.resource.api_name).lower() == "sagemaker":
            err = ex.response.get("Error", {})
            meta = ex.response.get("ResponseMetadata", {})
            code = type(ex).__name__ if type(ex) is not ClientError else "SageMaker"
            name = f"SageMaker.{code}" if code.endswith("Exception") else f"SageMaker.{code}Exception"
            cause = (
                f"{err.get('Message', '')} (Service: SageMaker, Status Code: {meta.get('HTTPStatusCode')}, "
                f"Request ID: {meta.get('RequestId')})"
            )
            return self._get_task_failure_event(env=env, error=name, cause=cause)
        return original(self, env, ex)

    return from_error


def _route_sagemaker(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's service factory, with `sagemaker` tasks answered by our integration."""

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "sagemaker":
            return StateTaskServiceSageMaker()
        return original(service_name=service_name)

    return state_task_service_for


def install() -> None:
    """Route `sagemaker` service tasks to our integration; name aws-sdk SageMaker errors. Idempotent."""
    # moto's task factory imported the service factory function by name: patch it there too.
    for module in (state_task_factory, state_task_service_factory):
        wrap(module, "state_task_service_for", _route_sagemaker, expects=["service_name"])
    sdk = state_task_service_aws_sdk.StateTaskServiceAwsSdk
    wrap(sdk, "_from_error", _aws_sdk_from_error, expects=["self", "env", "ex"])
