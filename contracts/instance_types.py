"""Which instance types each SageMaker API accepts, and which of them the stack's KMS key rules out.

The accepted types are botocore's enums (`TrainingInstanceType` for tuning trials,
`ProductionVariantInstanceType` for endpoints): the service model is AWS's own list, ships with every
boto3 (the Lambda runtime's included) and grows with it. Types with local NVMe storage are refused
with a volume KMS key: SageMaker's API reference for `VolumeKmsKeyId` (ResourceConfig) and `KmsKeyId`
(CreateEndpointConfig) says "You can't request a KMS key when using an instance type with local
storage", and the stack encrypts every volume with its key.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

Use = Literal["training", "endpoint"]

_SHAPES: dict[Use, str] = {"training": "TrainingInstanceType", "endpoint": "ProductionVariantInstanceType"}
# EC2's instance-type table: a "d" among a family's attributes (m5d, c6gd, g4dn, p4de) means
# instance storage, and these accelerated families have NVMe storage without saying so in the name.
_NVME_FAMILIES = frozenset(
    {"dl1", "g5", "g6", "g6e", "p5", "p5e", "p5en", "p6", "p6e", "trn1", "trn1n", "trn2"}
)
_D_ATTRIBUTE = re.compile(r"^[a-z]+\d+[a-z]*d[a-z]*$")
EXAMPLES: dict[Use, str] = {"training": "ml.m5.xlarge", "endpoint": "ml.m5.large"}
_USED_BY: dict[Use, str] = {"training": "training jobs", "endpoint": "endpoints"}


@cache
def accepted(use: Use) -> frozenset[str]:
    """The instance types SageMaker's API accepts for `use`, as botocore's service model lists them."""
    # Imported here: only callers that validate pay for loading the model (~0.1 s).
    import botocore.session
    from botocore.model import StringShape

    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for(_SHAPES[use])
    assert isinstance(shape, StringShape)
    return frozenset(shape.enum)


def has_local_storage(instance_type: str) -> bool:
    """Whether the type comes with instance (NVMe) storage, which SageMaker won't encrypt with our key."""
    family = instance_type.split(".")[1].split("-")[0] if instance_type.count(".") == 2 else ""
    return family in _NVME_FAMILIES or bool(_D_ATTRIBUTE.match(family))


def instance_type_problem(instance_type: object, use: Use) -> str | None:
    """Why `instance_type` cannot serve `use` in this stack (a sentence saying what to pick), or None."""
    example = EXAMPLES[use]
    if not isinstance(instance_type, str) or instance_type not in accepted(use):
        other: Use = "endpoint" if use == "training" else "training"
        if isinstance(instance_type, str) and instance_type in accepted(other):
            return f"{instance_type} is only for {_USED_BY[other]}; {_USED_BY[use]} take e.g. {example}"
        return f"expected a SageMaker {use} instance type such as {example}, got {instance_type!r}"
    if has_local_storage(instance_type):
        return (
            f"{instance_type} has local NVMe storage, which SageMaker does not encrypt with the stack's "
            f"KMS key; choose an EBS-backed type such as {example}"
        )
    return None
