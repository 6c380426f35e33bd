"""moto's CloudFormation skips AWS::S3::BucketPolicy: register a resource model that puts the policy."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from localaws.patches._patching import UpdateIsCreate, register_cfn_model

_MODEL: list[type[Any]] = []


def bucket_policy_model() -> type[Any]:
    """The CloudFormation model class (defined lazily: it must subclass moto's CloudFormationModel)."""
    if _MODEL:
        return _MODEL[0]
    from moto.core.common_models import CloudFormationModel

    class LocalBucketPolicy(UpdateIsCreate, CloudFormationModel):
        """AWS::S3::BucketPolicy: the policy document on the bucket."""

        def __init__(self, bucket_name: str, account_id: str, region_name: str) -> None:
            self.bucket_name, self.account_id, self.region_name = bucket_name, account_id, region_name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::S3::BucketPolicy"

        @property
        def physical_resource_id(self) -> str:
            return self.bucket_name

        @staticmethod
        def _backend(account_id: str, region_name: str) -> Any:
            from moto.s3.models import s3_backends
            from moto.utilities.utils import get_partition

            return s3_backends[account_id][get_partition(region_name)]

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
            document = properties["PolicyDocument"]
            policy = document if isinstance(document, str) else json.dumps(document)
            cls._backend(account_id, region_name).put_bucket_policy(properties["Bucket"], policy.encode())
            return cls(properties["Bucket"], account_id, region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            from moto.s3.exceptions import MissingBucket

            with contextlib.suppress(MissingBucket):  # the bucket went first: nothing to detach
                self._backend(account_id, region_name).delete_bucket_policy(self.bucket_name)

    _MODEL.append(LocalBucketPolicy)
    return LocalBucketPolicy


def apply() -> None:
    register_cfn_model(bucket_policy_model(), "s3_bucket_policy")
