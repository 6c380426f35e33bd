"""moto's CloudFormation skips AWS::Lambda::EventInvokeConfig: async retries and destinations get lost."""

from __future__ import annotations

from typing import Any

from localaws.patches._patching import UpdateIsCreate, register_cfn_model

_MODEL: list[type[Any]] = []
_FIELDS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")


def event_invoke_config_model() -> type[Any]:
    """The CloudFormation model class (lazy: it must subclass moto's CloudFormationModel)."""
    if _MODEL:
        return _MODEL[0]
    from moto.core.common_models import CloudFormationModel

    class LocalEventInvokeConfig(UpdateIsCreate, CloudFormationModel):
        """AWS::Lambda::EventInvokeConfig: PutFunctionEventInvokeConfig on the function."""

        def __init__(self, function_name: str) -> None:
            self.function_name = function_name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Lambda::EventInvokeConfig"

        @property
        def physical_resource_id(self) -> str:
            return self.function_name

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Any:
            from moto.awslambda.models import lambda_backends

            properties = cloudformation_json["Properties"]
            config = {key: properties[key] for key in _FIELDS if key in properties}
            function_name = properties["FunctionName"]
            lambda_backends[account_id][region_name].put_function_event_invoke_config(function_name, config)
            return cls(function_name)

        def delete(self, account_id: str, region_name: str) -> None:
            from moto.awslambda.models import lambda_backends

            try:
                fn = lambda_backends[account_id][region_name].get_function(self.function_name)
            except Exception:
                return  # the function went first
            fn.event_invoke_config.clear()

    _MODEL.append(LocalEventInvokeConfig)
    return LocalEventInvokeConfig


def apply() -> None:
    register_cfn_model(event_invoke_config_model(), "lambda_event_invoke_config")
