"""Authorize what an AWS service does for the stack, such as EventBridge invoking a function."""

from __future__ import annotations

from contracts.local_aws import ACCOUNT_ID
from localaws.iam import policies
from localaws.iam.authorizer import current
from localaws.iam.principals import Principal
from localaws.iam.rules import Check


def authorize_invoke(service: str, function_arn: str, source_arn: str) -> None:
    """Raise AccessDeniedError unless the function's policy lets `service` invoke it for `source_arn`."""
    authorizer = current()
    if authorizer is None:
        return
    base, _, qualified = function_arn.partition(":function:")
    name = qualified.split(":")[0]  # a version or alias is authorized as the function
    context = {"aws:SourceArn": source_arn, "aws:SourceAccount": ACCOUNT_ID}
    check = Check("lambda:InvokeFunction", f"{base}:function:{name}", context, policies.function_policy(name))
    authorizer.authorize(Principal(arn=service), [check], f"{service.split('.')[0]}:InvokeFunction")
