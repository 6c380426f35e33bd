"""moto fires custom resources and forgets them: wait for the provider's ResponseURL answer, honour FAILED."""

from __future__ import annotations

import json
import uuid
from typing import Any

from localaws import cfn_responses
from localaws.patches._patching import wrap
from localaws.settings import moto_port

# How long a stack operation waits for a provider that returned without answering (it should have
# answered before returning; this covers providers that answer from a background thread).
_ANSWER_GRACE_S = 5.0


class CustomResourceFailedError(Exception):
    """The provider answered FAILED, failed without answering, or never answered."""

    def __init__(self, message: str, logical_id: str | None = None) -> None:
        super().__init__(message)
        self.logical_id = logical_id  # the stack event names the failing resource


def _stringify(value: Any) -> Any:
    # CloudFormation hands custom resources every scalar as a string.
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if value is None or isinstance(value, str) else str(value)


def send_request(
    *,
    account_id: str,
    region_name: str,
    request_type: str,
    stack_id: str,
    logical_id: str,
    resource_type: str,
    properties: dict[str, Any],
    physical_id: str | None = None,
    old_properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Invoke the provider like CloudFormation does and return its SUCCESS answer (raise on anything else)."""
    from moto.awslambda.models import lambda_backends

    token = str(properties.get("ServiceToken", ""))
    if ":lambda:" not in token:
        raise CustomResourceFailedError(
            f"ServiceToken {token!r}: the local AWS supports Lambda providers only", logical_id
        )
    fn = lambda_backends[account_id][region_name].get_function(token)
    pending = cfn_responses.expect(moto_port())
    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": token,
        "ResponseURL": pending.url,
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": _stringify(properties),
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = _stringify(old_properties)
    response_headers: dict[str, str] = {}
    try:
        payload = fn.invoke(json.dumps(event), {"X-Amz-Invocation-Type": "RequestResponse"}, response_headers)
        answer = pending.wait(_ANSWER_GRACE_S if "x-amz-function-error" not in response_headers else 0.5)
    finally:
        cfn_responses.forget(pending)
    if answer is None:
        detail = payload.decode(errors="replace")[:500] if isinstance(payload, bytes) else str(payload)[:500]
        raise CustomResourceFailedError(
            f"Custom resource {logical_id} ({request_type}): the provider returned without answering "
            f"the ResponseURL (function result: {detail})",
            logical_id,
        )
    if answer.get("Status") != "SUCCESS":
        raise CustomResourceFailedError(
            "Received response status [FAILED] from custom resource. Message returned: "
            f"{answer.get('Reason', '')} (RequestId: {request_id})",
            logical_id,
        )
    return answer


def local_custom_resource_class() -> type[Any]:
    """A CustomModel whose Create/Update/Delete wait for the provider (built lazily: imports moto)."""
    from moto.cloudformation.custom_model import CustomModel

    class LocalCustomResource(CustomModel):
        """A custom resource as CloudFormation runs it: synchronous from the stack's point of view."""

        account_id: str
        stack_id: str
        resource_type: str
        properties: dict[str, Any]
        physical_id: str

        @property
        def physical_resource_id(self) -> str:
            return self.physical_id

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Any:
            properties = cloudformation_json["Properties"]
            resource = cls(region_name, str(uuid.uuid4()), kwargs["LogicalId"], resource_name)
            resource.account_id, resource.stack_id = account_id, kwargs["StackId"]
            resource.resource_type, resource.properties = kwargs["ResourceType"], properties
            answer = send_request(
                account_id=account_id,
                region_name=region_name,
                request_type="Create",
                stack_id=resource.stack_id,
                logical_id=resource.logical_id,
                resource_type=resource.resource_type,
                properties=properties,
            )
            resource.physical_id = answer.get("PhysicalResourceId") or resource_name
            resource.set_data(answer.get("Data") or {})
            return resource

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: Any,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> Any:
            properties = cloudformation_json["Properties"]
            answer = send_request(
                account_id=account_id,
                region_name=region_name,
                request_type="Update",
                stack_id=original_resource.stack_id,
                logical_id=original_resource.logical_id,
                resource_type=original_resource.resource_type,
                properties=properties,
                physical_id=original_resource.physical_id,
                old_properties=original_resource.properties,
            )
            resource = cls(region_name, str(uuid.uuid4()), original_resource.logical_id, new_resource_name)
            resource.account_id, resource.stack_id = account_id, original_resource.stack_id
            resource.resource_type, resource.properties = original_resource.resource_type, properties
            resource.physical_id = answer.get("PhysicalResourceId") or original_resource.physical_id
            resource.set_data(answer.get("Data") or {})
            if resource.physical_id != original_resource.physical_id:
                # A new physical id means replacement: CloudFormation deletes the old one afterwards.
                original_resource.delete(account_id, region_name)
            return resource

        def delete(self, account_id: str, region_name: str) -> None:
            send_request(
                account_id=account_id,
                region_name=region_name,
                request_type="Delete",
                stack_id=self.stack_id,
                logical_id=self.logical_id,
                resource_type=self.resource_type,
                properties=self.properties,
                physical_id=self.physical_id,
            )

    return LocalCustomResource


_CLASS: list[type[Any]] = []


def custom_resource_class() -> type[Any]:
    if not _CLASS:
        _CLASS.append(local_custom_resource_class())
    return _CLASS[0]


def _resource_class_from_type(original: Any) -> Any:
    def resource_class_from_type(resource_type: str) -> Any:
        if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
            return custom_resource_class()
        return original(resource_type)

    return resource_class_from_type


def _delete_custom_resources_first(original: Any) -> Any:
    def delete(self: Any) -> None:
        # CloudFormation deletes dependants first; moto deletes in set order and may remove the
        # provider function before the custom resource that needs it. Custom resources go first.
        cls = custom_resource_class()
        for logical_id, resource in reversed(list(self._parsed_resources.items())):
            if (
                isinstance(resource, cls)
                and self._resource_json_map.get(logical_id, {}).get("DeletionPolicy") != "Retain"
            ):
                resource.delete(self._account_id, self._region_name)
                self._parsed_resources.pop(logical_id)
        original(self)

    return delete


def apply() -> None:
    import moto.cloudformation.parsing as parsing

    wrap(parsing, "resource_class_from_type", _resource_class_from_type, expects=["resource_type"])
    wrap(parsing.ResourceMap, "delete", _delete_custom_resources_first, expects=["self"])
