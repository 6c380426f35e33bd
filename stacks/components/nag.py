"""cdk-nag acknowledgements: every one names its rule, the exact findings it covers, and why."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

# What `grant_read` / `grant_read_write` on a bucket and `grant_encrypt_decrypt` on a key put in a policy.
BUCKET_GRANT_ACTIONS = (
    "Action::s3:Abort*",
    "Action::s3:DeleteObject*",
    "Action::s3:GetBucket*",
    "Action::s3:GetObject*",
    "Action::s3:List*",
)
KEY_GRANT_ACTIONS = ("Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*")


def acknowledge(construct: IConstruct, rule_id: str, reason: str, findings: Iterable[str] = ()) -> None:
    """Accept a cdk-nag rule on the smallest construct that has it.

    Rules with granular findings (IAM5) are acknowledged one finding at a time, so a new wildcard
    that nobody reviewed still fails synth.
    """
    pack = rule_id.split("-")[
        0
    ]  # "AwsSolutions-IAM5" → "AwsSolutions", "Serverless-LambdaDLQ" → "Serverless"
    ids = [f"{pack}::{rule_id}[{finding}]" for finding in findings] or [f"{pack}::{rule_id}"]
    for id in ids:
        Validations.of(construct).acknowledge(Acknowledgment(id=id, reason=reason))


def resource_finding(scope: IConstruct, arn: str) -> str:
    """The IAM5 finding cdk-nag reports for a wildcard ARN (tokens rendered `<Ref>`, `<Id.Attr>`)."""
    return "Resource::" + _render(Stack.of(scope).resolve(arn))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(part) for part in parts)
    raise ValueError(f"cannot render {value!r} as a cdk-nag finding")
