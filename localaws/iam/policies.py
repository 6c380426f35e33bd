"""The policies a decision needs, read from moto's backends: a role's identity policies, resources' own."""

from __future__ import annotations

import ast
import contextlib
import json
from typing import Any

from contracts.local_aws import ACCOUNT_ID, REGION

_PARTITION = "aws"
_STATEMENT_KEYS = frozenset(
    ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource")
) | {"Condition"}


def identity_policies(role_arn: str) -> dict[str, str]:
    """A role's inline policies by name and its managed policies by ARN (default versions)."""
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[ACCOUNT_ID][_PARTITION].get_role_by_arn(role_arn)
    except Exception:  # a role deleted under a running session: AWS denies its calls
        return {}
    found = {name: as_json(document) for name, document in role.policies.items()}
    for arn, managed in role.managed_policies.items():
        for version in managed.versions:
            if version.version_id == managed.default_version_id:
                found[arn] = as_json(version.document)
    return found


def as_json(document: Any) -> str:
    """A policy as JSON text: moto keeps some as dicts and CloudFormation's as their Python repr."""
    if isinstance(document, str):
        try:
            json.loads(document)
        except ValueError:
            return json.dumps(ast.literal_eval(document))
        return document
    return json.dumps(document)


def trust_policy(role_arn: str) -> str | None:
    from moto.iam.models import iam_backends

    try:
        return str(iam_backends[ACCOUNT_ID][_PARTITION].get_role_by_arn(role_arn).assume_role_policy_document)
    except Exception:
        return None


def bucket_policy(bucket: str) -> str | None:
    from moto.s3.models import s3_backends

    found = s3_backends[ACCOUNT_ID][_PARTITION].buckets.get(bucket)
    return None if found is None or found.policy is None else found.policy.decode()


def bucket_key_arn(bucket: str) -> str | None:
    """The KMS key of the bucket's default encryption (SSE-KMS), as an ARN."""
    from moto.s3.models import s3_backends

    found = s3_backends[ACCOUNT_ID][_PARTITION].buckets.get(bucket)
    rules = ((found.encryption or {}).get("Rule") if found is not None else None) or []
    for rule in rules if isinstance(rules, list) else [rules]:
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        if default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID"):
            return key_arn(default["KMSMasterKeyID"])
    return None


def object_key_arn(bucket: str, key: str) -> str | None:
    """The KMS key an existing object is encrypted with, as an ARN (None: not SSE-KMS or no object)."""
    from moto.s3.models import s3_backends

    try:
        found = s3_backends[ACCOUNT_ID][_PARTITION].get_object(bucket, key)
    except Exception:
        return None
    if found is None or found.encryption != "aws:kms":
        return None
    return key_arn(found.kms_key_id) if found.kms_key_id else bucket_key_arn(bucket)


def key_arn(key_id: str) -> str:
    """Any key id, key ARN, alias or alias ARN as the key's ARN (unknown ids stay as given)."""
    from moto.kms.models import kms_backends

    backend = kms_backends[ACCOUNT_ID][REGION]
    with contextlib.suppress(Exception):
        return str(backend.describe_key(backend.any_id_to_key_id(key_id)).arn)
    return key_id


def key_policy(arn: str) -> str | None:
    from moto.kms.models import kms_backends

    with contextlib.suppress(Exception):
        return str(kms_backends[ACCOUNT_ID][REGION].describe_key(arn.rsplit("/", 1)[-1]).policy)
    return None


def topic_policy(arn: str) -> str | None:
    from moto.sns.models import sns_backends

    topic: Any = sns_backends[ACCOUNT_ID][REGION].topics.get(arn)
    return None if topic is None else str(topic.policy)


def queue_policy(name: str) -> str | None:
    from moto.sqs.models import sqs_backends

    queue: Any = sqs_backends[ACCOUNT_ID][REGION].queues.get(name)
    return None if queue is None or not queue.policy else str(queue.policy)


def function_policy(name: str) -> str | None:
    from moto.awslambda.models import lambda_backends

    try:
        policy = json.loads(json.loads(lambda_backends[ACCOUNT_ID][REGION].get_policy(name))["Policy"])
    except Exception:  # no permission added yet: no policy
        return None
    # moto keeps the AddPermission request's FunctionName in each statement; IAM's grammar has no such key.
    policy["Statement"] = [{k: v for k, v in s.items() if k in _STATEMENT_KEYS} for s in policy["Statement"]]
    return json.dumps(policy)
