"""The pipeline's Lambda handlers: runtime, own roles, encrypted logs, tracing, assets without Docker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks.components.functions import handler_sources, stage_files
from stacks.generate_xgboost_images import XGBOOST_VERSION, image_map
from stacks.ml_stack import XGBOOST_IMAGES
from tests.infra.conftest import as_list, flatten, logical_id, resources, role_statements, statements

HANDLERS = ("validate_input", "check_quotas", "plan_deployment", "evaluate", "cleanup")


@pytest.fixture(scope="module")
def functions(dev: Template) -> dict[str, dict[str, Any]]:
    """The pipeline's step functions (the lifecycle's sweeper and teardown live under Lifecycle)."""
    return {
        key: value
        for key, value in resources(dev, "AWS::Lambda::Function").items()
        if key.startswith("Functions")
    }


def test_every_function_in_the_stack_follows_the_same_baseline(dev: Template) -> None:
    every = resources(dev, "AWS::Lambda::Function")
    assert len(every) == len(HANDLERS) + 2
    key = {"Fn::GetAtt": [logical_id(dev, "AWS::KMS::Key", "StorageKey"), "Arn"]}
    for function in every.values():
        assert function["Properties"]["Runtime"] == "python3.14"
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}
        assert function["Properties"]["KmsKeyArn"] == key


def test_one_function_per_pipeline_step(functions: dict[str, dict[str, Any]]) -> None:
    handlers = sorted(f["Properties"]["Handler"] for f in functions.values())
    assert handlers == sorted(f"handlers.{name}.handler.lambda_handler" for name in HANDLERS)


def test_functions_run_the_newest_python_on_arm_with_tracing(functions: dict[str, dict[str, Any]]) -> None:
    for function in functions.values():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.14"
        assert properties["Architectures"] == ["arm64"]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert len(properties["Layers"]) == 1


def test_functions_log_to_their_own_encrypted_group(
    dev: Template, functions: dict[str, dict[str, Any]]
) -> None:
    key = {"Fn::GetAtt": [logical_id(dev, "AWS::KMS::Key", "StorageKey"), "Arn"]}
    groups = resources(dev, "AWS::Logs::LogGroup")
    for function in functions.values():
        group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group_id]["Properties"]["KmsKeyId"] == key
        assert groups[group_id]["Properties"]["RetentionInDays"] == 30


def test_functions_have_their_own_roles_without_managed_policies(
    dev: Template, functions: dict[str, dict[str, Any]]
) -> None:
    roles = resources(dev, "AWS::IAM::Role")
    role_ids = {function["Properties"]["Role"]["Fn::GetAtt"][0] for function in functions.values()}
    assert len(role_ids) == len(HANDLERS)
    for role_id in role_ids:
        assert "ManagedPolicyArns" not in roles[role_id]["Properties"]


def test_functions_get_the_stage_defaults_and_stack_names(functions: dict[str, dict[str, Any]]) -> None:
    for function in functions.values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert {"DATA_BUCKET", "ARTIFACTS_BUCKET", "KEY_ARN", "SAGEMAKER_ROLE_ARN", "XGBOOST_IMAGE"} <= set(
            variables
        )
        assert variables["NAME_PREFIX"] == "mlsdev"
        defaults = json.loads(variables["STAGE_DEFAULTS"])
        assert defaults["tuning_strategy"] == "Bayesian" and defaults["poll_seconds"] == 60


def test_handler_asset_holds_the_handler_and_the_shared_modules() -> None:
    sources = handler_sources("cleanup")
    assert set(sources) == {
        "handlers/__init__.py",
        "handlers/cleanup",
        "handlers/common",
        "contracts",
        "training/__init__.py",
        "training/tuning_ranges.py",
    }
    assert all(path.exists() for path in sources.values())


def test_staged_assets_are_content_addressed(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "__pycache__").mkdir(parents=True)
    (source / "a.py").write_text("A = 1\n")
    (source / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    build = tmp_path / "build"

    first = stage_files({"pkg": source}, build)
    again = stage_files({"pkg": source}, build)
    (source / "a.py").write_text("A = 2\n")
    changed = stage_files({"pkg": source}, build)

    assert first == again != changed
    assert sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file()) == ["pkg/a.py"]
    assert (changed / "pkg" / "a.py").read_text() == "A = 2\n"


def test_a_missing_asset_source_fails_synth_naming_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"b\.py is missing"):
        stage_files({"pkg/b.py": tmp_path / "b.py"}, tmp_path / "build")


def test_xgboost_image_mapping_matches_the_sagemaker_sdk() -> None:
    committed = json.loads(XGBOOST_IMAGES.read_text())
    assert committed["version"] == XGBOOST_VERSION
    assert committed["images"] == image_map()


def test_template_maps_every_region_to_its_image(dev: Template) -> None:
    mapping = dev.to_json()["Mappings"]["XgboostImages"]
    assert len(mapping) == len(json.loads(XGBOOST_IMAGES.read_text())["images"])
    assert mapping["us-east-1"]["uri"] == json.loads(XGBOOST_IMAGES.read_text())["images"]["us-east-1"]


def test_evaluate_reads_the_runs_usage_only_on_resources_of_its_prefix(dev: Template) -> None:
    # The bill needs each training job's billable time, the AutoML job's span and the endpoint's state.
    (grant,) = [s for s in statements(dev) if s.get("Sid") == "ReadRunUsage"]
    assert sorted(as_list(grant["Action"])) == [
        "sagemaker:DescribeAutoMLJobV2",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeTrainingJob",
    ]
    resources_ = sorted(flatten(r) for r in as_list(grant["Resource"]))
    assert [r.rsplit(":", 1)[-1] for r in resources_] == [
        "automl-job/mlsdev-*",
        "endpoint/mlsdev-*",
        "training-job/mlsdev-*",
    ]


@pytest.mark.parametrize(
    ("sid", "actions"),
    [
        (
            "ReadLeaderboards",
            [
                "sagemaker:DescribeHyperParameterTuningJob",
                "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
            ],
        ),
        ("ReadWarmStartParents", ["sagemaker:DescribeHyperParameterTuningJob"]),
    ],
)
def test_tuning_jobs_are_read_only_under_the_stacks_prefix(
    dev: Template, sid: str, actions: list[str]
) -> None:
    # Evaluate reads why tuning ended; ValidateInput checks a warm start's parents: only the stack's jobs
    (grant,) = [s for s in statements(dev) if s.get("Sid") == sid]
    assert sorted(as_list(grant["Action"])) == actions
    assert [flatten(r).rsplit(":", 1)[-1] for r in as_list(grant["Resource"])] == [
        "hyper-parameter-tuning-job/mlsdev-*"
    ]


def test_evaluate_reads_autopilots_outputs_and_no_other_job_output(dev: Template) -> None:
    # The report reads what Autopilot's candidates point to; the tuning trials' models stay unread
    evaluate = logical_id(dev, "AWS::IAM::Role", "FunctionsEvaluateRole")
    artifacts = logical_id(dev, "AWS::S3::Bucket", "StorageArtifactsBucket")
    reads = [
        flatten(r)
        for s in role_statements(dev, evaluate)
        if any(a.startswith("s3:GetObject") for a in as_list(s["Action"]))
        for r in as_list(s["Resource"])
    ]
    on_artifacts = sorted(r for r in reads if artifacts in r)
    assert on_artifacts == [f"${{{artifacts}.Arn}}", f"${{{artifacts}.Arn}}/jobs/*/autopilot/*"]
