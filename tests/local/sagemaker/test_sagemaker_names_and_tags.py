"""Name rules (fact 12) and tags on every resource the stack creates."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from localaws.sagemaker.common import ValidationException
from localaws.sagemaker.names import validate_name
from tests.local.sagemaker.conftest import ROLE, XGB_IMAGE, training_request, wait_training
from tests.local.sagemaker.test_sagemaker_tuning import tuning_request


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("hyperParameterTuningJobName", "a" * 32, True),
        ("hyperParameterTuningJobName", "a" * 33, False),
        ("autoMLJobName", "a" * 33, False),
        ("trainingJobName", "a" * 63, True),
        ("endpointName", "a" * 64, False),
        ("modelName", "run-1--x", True),
        ("modelName", "-leading", False),
        ("endpointConfigName", "under_score", False),
        ("trainingJobName", "trailing-", False),
    ],
)
def test_names_follow_the_service_model(field, value, ok):
    if ok:
        assert validate_name(field, value) == value
    else:
        with pytest.raises(ValidationException) as err:
            validate_name(field, value)
        assert f"at '{field}' failed to satisfy constraint" in err.value.message


def test_api_rejects_long_names_as_aws_words_it(sm, dataset):
    with pytest.raises(ClientError) as err:
        sm.create_hyper_parameter_tuning_job(**tuning_request("t" * 33, dataset["prefix"]))
    error = err.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("1 validation error detected: Value 'tttt")
    assert "Member must have length less than or equal to 32" in error["Message"]
    with pytest.raises(ClientError):
        sm.create_training_job(**training_request("bad_name", dataset["prefix"]))


def test_tags_on_jobs_models_configs_and_endpoints(sm, dataset):
    tags = [{"Key": "mlstack:run", "Value": "r1"}]
    arns = [
        sm.create_training_job(**training_request("tag-train", dataset["prefix"], Tags=tags))[
            "TrainingJobArn"
        ],
        sm.create_model(
            ModelName="tag-model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGB_IMAGE}, Tags=tags
        )["ModelArn"],
    ]
    arns.append(
        sm.create_endpoint_config(
            EndpointConfigName="tag-config",
            ProductionVariants=[
                {"VariantName": "v", "ModelName": "tag-model", "InstanceType": "ml.m5.large"}
            ],
            Tags=tags,
        )["EndpointConfigArn"]
    )
    for arn in arns:
        assert sm.list_tags(ResourceArn=arn)["Tags"] == tags
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "mlstack:expires", "Value": "2030"}])
        assert {t["Key"] for t in sm.list_tags(ResourceArn=arn)["Tags"]} == {"mlstack:run", "mlstack:expires"}
        sm.delete_tags(ResourceArn=arn, TagKeys=["mlstack:expires"])
        assert sm.list_tags(ResourceArn=arn)["Tags"] == tags
    with pytest.raises(ClientError):
        sm.list_tags(ResourceArn=arns[1].replace("tag-model", "nope"))
    wait_training(sm, "tag-train")
