"""What IAM checks one API call needs: the actions, the resource ARN AWS uses for each, the context.

Most calls need `<prefix>:<Operation>` on the resource they name. The exceptions are AWS's own:
S3 reads and writes of SSE-KMS objects need the key too (as the caller, via S3), passing a role
needs iam:PassRole, CreateEndpoint on an encrypted config needs kms:CreateGrant, and some
operations are authorized under another action's name (HeadObject is s3:GetObject).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from contracts.local_aws import ACCOUNT_ID, REGION
from localaws.iam import policies
from localaws.iam.calls import ApiCall
from localaws.iam.evaluator import ContextValue


@dataclass(frozen=True)
class Check:
    """One authorization AWS makes for a call: `action` on `resource`, with the resource's own policy."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    resource_policy: str | None = None


_PREFIX = {"stepfunctions": "states", "sagemaker-runtime": "sagemaker", "service-quotas": "servicequotas"}
# Operations IAM authorizes under another name (Service Authorization Reference, each service's page).
_RENAMED = {
    ("s3", "HeadObject"): "GetObject",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("s3", "CopyObject"): "PutObject",
    ("s3", "DeleteObjects"): "DeleteObject",  # one check per key
    ("s3", "UploadPartCopy"): "PutObject",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "GetBucketEncryption"): "GetEncryptionConfiguration",
    ("s3", "PutBucketEncryption"): "PutEncryptionConfiguration",
    ("s3", "DeleteBucketPolicy"): "DeleteBucketPolicy",
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeAsync",
}
# Calls AWS answers for anyone with valid credentials (no permission exists for them).
_UNAUTHORIZED = {("sts", "GetCallerIdentity")}
_SAGEMAKER_KINDS = {
    "HyperParameterTuningJob": "hyper-parameter-tuning-job",
    "TrainingJob": "training-job",
    "AutoMLJobV2": "automl-job",
    "AutoMLJob": "automl-job",
    "ProcessingJob": "processing-job",
    "TransformJob": "transform-job",
    "EndpointConfig": "endpoint-config",
    "Endpoint": "endpoint",
    "Model": "model",
}
_VERBS = ("Create", "Describe", "Delete", "Stop", "Update")
_SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"


def action_of(call: ApiCall) -> str:
    """The IAM action AWS authorizes `call` under."""
    prefix = _PREFIX.get(call.service, call.service)
    return f"{prefix}:{_RENAMED.get((call.service, call.operation), call.operation)}"


def checks(call: ApiCall) -> list[Check]:
    """Every authorization `call` needs, in the order AWS makes them."""
    if (call.service, call.operation) in _UNAUTHORIZED:
        return []
    resolve = _RESOLVERS.get(call.service, _anything)
    return resolve(call, action_of(call))


def _anything(call: ApiCall, action: str) -> list[Check]:
    return [Check(action, "*")]


def _arn(service: str, resource: str, *, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


# --- SageMaker ---------------------------------------------------------------------------------


def sagemaker_arn(kind: str, name: str) -> str:
    """SageMaker puts names into ARNs in lower case."""
    return _arn("sagemaker", f"{kind}/{name.lower()}")


def _sagemaker_resource(call: ApiCall) -> str:
    params, operation = call.params, call.operation
    if isinstance(params.get("ResourceArn"), str):
        return str(params["ResourceArn"])
    if operation == "ListTrainingJobsForHyperParameterTuningJob":
        return sagemaker_arn("hyper-parameter-tuning-job", str(params.get("HyperParameterTuningJobName", "")))
    if operation == "ListCandidatesForAutoMLJob":
        return sagemaker_arn("automl-job", str(params.get("AutoMLJobName", "")))
    for noun, kind in _SAGEMAKER_KINDS.items():
        if operation.endswith(noun) and operation[: -len(noun)] in _VERBS:
            name = params.get(f"{noun.removesuffix('V2')}Name")
            if isinstance(name, str):
                return sagemaker_arn(kind, name)
    return "*"


def _passed_roles(call: ApiCall) -> list[str]:
    params = call.params
    roles = [params.get("RoleArn"), params.get("ExecutionRoleArn")]
    definition = params.get("TrainingJobDefinition")
    if isinstance(definition, Mapping):
        roles.append(definition.get("RoleArn"))
    return [role for role in roles if isinstance(role, str)]


def _sagemaker(call: ApiCall, action: str) -> list[Check]:
    found = [Check(action, _sagemaker_resource(call))]
    for role in _passed_roles(call):
        context = {"iam:PassedToService": _SAGEMAKER_SERVICE}
        found.append(Check("iam:PassRole", role, context))
    if call.operation == "CreateEndpoint":
        key = _endpoint_config_key(str(call.params.get("EndpointConfigName", "")))
        if key:  # SageMaker grants itself the config's key as the CreateEndpoint caller
            found.append(grant_for_sagemaker(key))
    return found


def grant_for_sagemaker(key: str) -> Check:
    arn = policies.key_arn(key)
    context = {"kms:GrantIsForAWSResource": "true", "kms:ViaService": f"sagemaker.{REGION}.amazonaws.com"}
    return Check("kms:CreateGrant", arn, context, policies.key_policy(arn))


def _endpoint_config_key(name: str) -> str | None:
    from localaws.sagemaker.models import backend

    config = backend(ACCOUNT_ID, REGION).endpoint_configs.get(name)
    key = config.request.get("KmsKeyId") if config is not None else None
    return str(key) if key else None


def _sagemaker_runtime(call: ApiCall, action: str) -> list[Check]:
    return [Check(action, sagemaker_arn("endpoint", str(call.params.get("EndpointName", ""))))]


# --- S3 and the KMS calls S3 makes for the caller ---------------------------------------------


def _s3(call: ApiCall, action: str) -> list[Check]:
    bucket = str(call.params.get("Bucket", ""))
    if not bucket:
        return [Check(action, "*")]
    policy = policies.bucket_policy(bucket)
    if call.operation == "DeleteObjects":
        return [
            Check(
                "s3:DeleteObjectVersion" if version else "s3:DeleteObject",
                f"arn:aws:s3:::{bucket}/{key}",
                {},
                policy,
            )
            for key, version in _deleted_keys(call.body)
        ]
    key = call.params.get("Key")
    if key is None:
        return [Check(action, f"arn:aws:s3:::{bucket}", {}, policy)]
    if call.operation == "DeleteObject" and call.params.get("versionId"):
        action = "s3:DeleteObjectVersion"
    elif call.operation == "GetObject" and call.params.get("versionId"):
        action = "s3:GetObjectVersion"
    found = [Check(action, f"arn:aws:s3:::{bucket}/{key}", _encryption_context(call), policy)]
    source = call.headers.get("x-amz-copy-source")
    if source:
        source_bucket, _, source_key = urllib.parse.unquote(source).lstrip("/").partition("/")
        source_key = source_key.split("?versionId=")[0]
        found.insert(
            0,
            Check(
                "s3:GetObject",
                f"arn:aws:s3:::{source_bucket}/{source_key}",
                {},
                policies.bucket_policy(source_bucket),
            ),
        )
        found += _decrypt(source_bucket, source_key)
    if call.operation in ("PutObject", "CopyObject", "CreateMultipartUpload"):
        found += _generate_data_key(call, bucket)
    elif call.operation == "GetObject":
        found += _decrypt(bucket, str(key))
    return found


def _encryption_context(call: ApiCall) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {}
    for header in ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id"):
        if header in call.headers:
            context[f"s3:{header}"] = call.headers[header]
    return context


def _via_s3() -> dict[str, ContextValue]:
    return {"kms:ViaService": f"s3.{REGION}.amazonaws.com", "kms:CallerAccount": ACCOUNT_ID}


def _generate_data_key(call: ApiCall, bucket: str) -> list[Check]:
    requested = call.headers.get("x-amz-server-side-encryption-aws-kms-key-id")
    if call.headers.get("x-amz-server-side-encryption") not in (None, "aws:kms", "aws:kms:dsse"):
        return []
    key = policies.key_arn(requested) if requested else policies.bucket_key_arn(bucket)
    if key is None:
        return []
    return [Check("kms:GenerateDataKey", key, _via_s3(), policies.key_policy(key))]


def _decrypt(bucket: str, key: str) -> list[Check]:
    arn = policies.object_key_arn(bucket, key)
    return [] if arn is None else [Check("kms:Decrypt", arn, _via_s3(), policies.key_policy(arn))]


_DELETED = re.compile(r"<Object>\s*<Key>([^<]*)</Key>(?:\s*<VersionId>([^<]*)</VersionId>)?", re.S)


def _deleted_keys(body: bytes) -> list[tuple[str, str | None]]:
    from html import unescape

    return [
        (unescape(key), version or None) for key, version in _DELETED.findall(body.decode("utf-8", "replace"))
    ]


# --- the other services the stack calls --------------------------------------------------------


def _kms(call: ApiCall, action: str) -> list[Check]:
    key = call.params.get("KeyId")
    if not isinstance(key, str):
        return [Check(action, "*")]
    arn = policies.key_arn(key)
    return [Check(action, arn, {}, policies.key_policy(arn))]


def _sns(call: ApiCall, action: str) -> list[Check]:
    topic = call.params.get("TopicArn") or call.params.get("ResourceArn")
    if not isinstance(topic, str):
        return [Check(action, "*")]
    return [Check(action, topic, {}, policies.topic_policy(topic))]


def _sqs(call: ApiCall, action: str) -> list[Check]:
    url = call.params.get("QueueUrl")
    if not isinstance(url, str):
        return [Check(action, "*")]
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return [Check(action, _arn("sqs", name), {}, policies.queue_policy(name))]


def _lambda(call: ApiCall, action: str) -> list[Check]:
    function = call.params.get("FunctionName")
    if not isinstance(function, str):
        return [Check(action, "*")]
    name = function.split(":function:")[-1].split(":")[0] if ":" in function else function
    return [Check(action, _arn("lambda", f"function:{name}"), {}, policies.function_policy(name))]


def _states(call: ApiCall, action: str) -> list[Check]:
    for member in ("executionArn", "stateMachineArn", "mapRunArn", "resourceArn"):
        value = call.params.get(member)
        if isinstance(value, str):
            return [Check(action, value)]
    return [Check(action, "*")]


def _logs(call: ApiCall, action: str) -> list[Check]:
    group = call.params.get("logGroupName")
    if not isinstance(group, str):
        return [Check(action, "*")]
    stream = call.params.get("logStreamName")
    suffix = f":log-stream:{stream}" if isinstance(stream, str) else ":*"
    return [Check(action, _arn("logs", f"log-group:{group}{suffix}"))]


def _events(call: ApiCall, action: str) -> list[Check]:
    rule = call.params.get("Rule") or call.params.get("Name")
    if call.operation in (
        "PutRule",
        "DescribeRule",
        "DeleteRule",
        "PutTargets",
        "RemoveTargets",
    ) and isinstance(rule, str):
        return [Check(action, _arn("events", f"rule/{rule}"))]
    return [Check(action, "*")]


def _sts(call: ApiCall, action: str) -> list[Check]:
    role = call.params.get("RoleArn")
    if not isinstance(role, str):
        return [Check(action, "*")]
    return [Check(action, role, {}, policies.trust_policy(role))]


def _ssm(call: ApiCall, action: str) -> list[Check]:
    name = call.params.get("Name")
    if not isinstance(name, str):
        return [Check(action, "*")]
    return [Check(action, _arn("ssm", f"parameter/{name.lstrip('/')}"))]


def _cloudformation(call: ApiCall, action: str) -> list[Check]:
    stack = call.params.get("StackName")
    if not isinstance(stack, str):
        return [Check(action, "*")]
    resource = stack if stack.startswith("arn:") else _arn("cloudformation", f"stack/{stack}/*")
    found = [Check(action, resource)]
    role = call.params.get("RoleARN")
    if isinstance(role, str):
        found.append(Check("iam:PassRole", role, {"iam:PassedToService": "cloudformation.amazonaws.com"}))
    return found


_RESOLVERS: dict[str, Callable[[ApiCall, str], list[Check]]] = {
    "sagemaker": _sagemaker,
    "sagemaker-runtime": _sagemaker_runtime,
    "s3": _s3,
    "kms": _kms,
    "sns": _sns,
    "sqs": _sqs,
    "lambda": _lambda,
    "stepfunctions": _states,
    "logs": _logs,
    "events": _events,
    "sts": _sts,
    "ssm": _ssm,
    "cloudformation": _cloudformation,
}
