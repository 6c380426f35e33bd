"""Deliver a message to an ARN inside the local AWS (SQS, SNS, Lambda async, EventBridge bus)."""

from __future__ import annotations

import json
from typing import Any


def send_to_arn(arn: str, body: str, attributes: dict[str, str]) -> None:
    """Send `body` to the resource `arn` names, the way AWS services do for destinations and targets."""
    parts = arn.split(":")
    service, region, account = parts[2], parts[3], parts[4]
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        message_attributes = {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}
        sqs_backends[account][region].send_message(
            queue_name=parts[5], message_body=body, message_attributes=message_attributes or None
        )
    elif service == "sns":
        from moto.sns.models import sns_backends

        sns_attributes = {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}
        sns_backends[account][region].publish(body, arn=arn, message_attributes=sns_attributes)
    elif service == "lambda":
        invoke_async(arn, body.encode())
    elif service == "events":
        from moto.events.models import events_backends

        record: dict[str, Any] = json.loads(body)
        events_backends[account][region].put_events(
            [
                {
                    "Source": "lambda",
                    "DetailType": "Lambda Function Invocation Result",
                    "Detail": json.dumps(record),
                    "EventBusName": arn,
                }
            ]
        )
    else:
        raise ValueError(f"the local AWS cannot deliver to {arn}")


def invoke_async(function_arn: str, event: bytes) -> None:
    """Invoke a function the way EventBridge and other services do: InvocationType Event."""
    from moto.awslambda.models import lambda_backends

    parts = function_arn.split(":")
    region, account = parts[3], parts[4]
    lambda_backends[account][region].invoke(
        function_name=function_arn,
        qualifier=None,
        body=event.decode(),
        headers={"X-Amz-Invocation-Type": "Event"},
        response_headers={},
    )
