"""Instance types per SageMaker API, from botocore's model, less those the stack's KMS key rules out."""

from __future__ import annotations

import pytest

from contracts.instance_types import accepted, has_local_storage, instance_type_problem


def test_the_lists_are_botocores_own() -> None:
    assert "ml.m5.xlarge" in accepted("training")
    assert "ml.t2.medium" not in accepted("training")
    assert {"ml.t2.medium", "ml.c5.large"} <= accepted("endpoint")


@pytest.mark.parametrize("instance_type", ["ml.m5.xlarge", "ml.c5.2xlarge", "ml.p3.2xlarge", "ml.m7i.large"])
def test_ebs_backed_training_types_are_accepted(instance_type: str) -> None:
    assert instance_type_problem(instance_type, "training") is None


@pytest.mark.parametrize(
    ("instance_type", "local"),
    [
        ("ml.g4dn.xlarge", True),
        ("ml.p4d.24xlarge", True),
        ("ml.p4de.24xlarge", True),
        ("ml.r5d.large", True),
        ("ml.c6gd.large", True),
        ("ml.g5.xlarge", True),
        ("ml.trn1.2xlarge", True),
        ("ml.p6-b200.48xlarge", True),
        ("ml.m5.large", False),
        ("ml.c5n.xlarge", False),
        ("ml.p3.2xlarge", False),
        ("ml.inf2.xlarge", False),
        ("ml.m7i-flex.large", False),
    ],
)
def test_local_storage_follows_the_ec2_instance_table(instance_type: str, local: bool) -> None:
    assert has_local_storage(instance_type) is local
