"""The state machine: each state's resource, Retry and Catch, security flags, loop bounds, IAM scope."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from contracts.run import run_path
from stacks.components.sagemaker_tasks import TRANSIENT_CAUSES, UNMODELLED_ERROR
from tests.infra.conftest import (
    ROOT,
    all_states,
    as_list,
    logical_id,
    resources,
    role_statements,
    state_machine_definition,
)

# A JSONPath into the run object, wherever it stands: a "*.$" value, a *Path field or an intrinsic's argument.
RUN_JSONPATH = re.compile(r"(?<!\$)\$\.run(?![\w$])(?:\.\w+)*")
NOT_RETRIED = ("SageMaker.ResourceLimitExceededException", "SageMaker.ResourceInUseException", "States.ALL")
TOP_LEVEL_FLOW = [
    "ValidateInput",
    "CheckQuotas",
    "TrainCandidates",
    "PlanDeployment",
    "CreateModels",
    "CreateEndpointConfig",
    "CreateEndpoint",
]


@pytest.fixture(scope="module")
def definition(dev: Template) -> dict[str, Any]:
    return state_machine_definition(dev)


@pytest.fixture(scope="module")
def states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return all_states(definition)


def _key_arn(dev: Template) -> str:
    return "${" + logical_id(dev, "AWS::KMS::Key", "StorageKey") + ".Arn}"


def _sagemaker_role_arn(dev: Template) -> str:
    return "${" + logical_id(dev, "AWS::IAM::Role", "ExecutionRole") + ".Arn}"


def test_the_happy_path_runs_state_by_state(definition: dict[str, Any]) -> None:
    top = definition["States"]
    assert definition["StartAt"] == "ReadInput"
    # Any JSON is an execution input: wrapped first, so ResultPath and Catch always write into an object.
    assert top["ReadInput"] == {"Type": "Pass", "Parameters": {"input.$": "$"}, "Next": "ValidateInput"}
    assert top["ValidateInput"]["Parameters"]["input.$"] == "$.input"
    for current, following in itertools.pairwise(TOP_LEVEL_FLOW):
        assert top[current]["Next"] == following, current
    assert top["EndpointInService"]["Next"] == "Evaluate"
    assert top["Evaluate"]["Next"] == "Cleanup"
    assert top["Cleanup"]["Next"] == "SummarizeSuccess"
    assert top["SummarizeSuccess"]["Next"] == "Notify"
    assert top["Notify"]["Next"] == "Succeeded"
    assert top["Succeeded"] == {"Type": "Succeed", "OutputPath": "$.notification"}


def test_every_failure_goes_cleanup_notify_fail_keeping_the_error(definition: dict[str, Any]) -> None:
    top = definition["States"]
    for name, state in top.items():
        if state["Type"] in ("Task", "Parallel", "Map") and name not in (
            "Cleanup",
            "CleanupAfterFailure",
            "Notify",
            "NotifyFailure",
        ):
            catch = state["Catch"]
            assert {
                "ErrorEquals": ["States.ALL"],
                "ResultPath": "$.error",
                "Next": "HasFailureCause",
            } in catch, name
    assert top["HasFailureCause"]["Choices"][0]["Next"] == "CleanupAfterFailure"
    assert top[top["HasFailureCause"]["Default"]]["Next"] == "CleanupAfterFailure"
    assert top["CleanupAfterFailure"]["Next"] == "SummarizeFailure"
    assert top["SummarizeFailure"]["Next"] == "NotifyFailure"
    assert top["NotifyFailure"]["Next"] == "Failed"
    assert top["Failed"] == {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}


def test_cleanup_failure_still_reports_the_original_error(definition: dict[str, Any]) -> None:
    cleanup = definition["States"]["CleanupAfterFailure"]
    assert cleanup["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.cleanup", "Next": "SummarizeFailure"}
    ]


def test_cleanup_waits_for_endpoints_that_cannot_be_deleted_yet(definition: dict[str, Any]) -> None:
    for name in ("Cleanup", "CleanupAfterFailure"):
        retries = definition["States"][name]["Retry"]
        assert any(r["ErrorEquals"] == ["EndpointNotDeletable"] and r["MaxAttempts"] >= 5 for r in retries)


def test_train_candidates_runs_tuning_and_autopilot_side_by_side(states: dict[str, dict[str, Any]]) -> None:
    parallel = states["TrainCandidates"]
    assert parallel["Type"] == "Parallel"
    assert [branch["StartAt"] for branch in parallel["Branches"]] == ["IsWarmStart", "StartAutopilot"]
    assert parallel["ResultPath"] == "$.candidates"


@pytest.mark.parametrize(
    ("branch_states", "failed_state"),
    [
        (["Tune", "TuneWarmStart", "DescribeBestTrainingJob"], "TuningFailed"),
        (
            ["StartAutopilot", "DescribeAutopilot", "DescribeBestCandidate", "StopAutopilot"],
            "AutopilotFailed",
        ),
    ],
)
def test_each_branch_catches_its_own_failure(
    states: dict[str, dict[str, Any]], branch_states: list[str], failed_state: str
) -> None:
    catch = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": f"Has{failed_state}Cause"}
    for name in branch_states:
        assert catch in states[name]["Catch"], name
    assert states[f"Has{failed_state}Cause"]["Choices"][0]["Next"] == failed_state
    failed = states[failed_state]
    assert failed["Type"] == "Pass" and failed["End"] is True
    assert failed["Parameters"]["status"] == "Failed"
    assert failed["Parameters"]["error.$"] == "$.error.Error"


def test_every_path_into_the_run_object_names_a_field_it_has(definition: dict[str, Any]) -> None:
    # Given every $.run… path anywhere in the definition
    paths = {match.group(0) for match in RUN_JSONPATH.finditer(json.dumps(definition))}
    assert len(paths) >= 20, sorted(paths)
    # Then each is a field of the run object (contracts.run.Run), as run_path spells it
    for path in sorted(paths):
        fields = path.split(".")[2:]
        assert run_path(*fields) == path


def test_tuning_job_is_the_optimized_sync_integration_with_security_flags(
    dev: Template, states: dict[str, dict[str, Any]]
) -> None:
    tune = states["Tune"]
    assert tune["Resource"] == "arn:${AWS::Partition}:states:::sagemaker:createHyperParameterTuningJob.sync"
    definition = tune["Parameters"]["TrainingJobDefinition"]
    key = _key_arn(dev)
    assert definition["EnableNetworkIsolation"] is True
    assert definition["EnableInterContainerTrafficEncryption"] is True
    assert definition["OutputDataConfig"]["KmsKeyId"] == key
    assert definition["ResourceConfig"]["VolumeKmsKeyId"] == key
    assert definition["RoleArn"] == _sagemaker_role_arn(dev)
    # What it trains comes from the run: built-in XGBoost or a script, picked by ValidateInput
    assert definition["AlgorithmSpecification.$"] == "$.run.tuning.algorithm"
    assert definition["InputDataConfig.$"] == "$.run.tuning.input_data_config"
    assert definition["StaticHyperParameters.$"] == "$.run.tuning.static_hyperparameters"
    assert tune["Parameters"]["HyperParameterTuningJobConfig.$"] == "$.run.tuning.config"
    assert tune["TimeoutSeconds"] > 0


@pytest.mark.parametrize("tune", ["Tune", "TuneWarmStart"])
def test_tuning_is_never_retried_its_failure_goes_to_the_branch_catch(
    states: dict[str, dict[str, Any]], tune: str
) -> None:
    # The optimized integration reports quota, validation and access errors under the same name as a
    # throttle: a retrier would repeat permanent errors and re-create a job that already runs.
    assert "Retry" not in states[tune]
    (catch,) = states[tune]["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == "HasTuningFailedCause"


def test_a_warm_start_is_chosen_only_when_the_run_has_one(states: dict[str, dict[str, Any]]) -> None:
    # Given the Choice that starts the tuning branch
    choice = states["IsWarmStart"]
    # Then a run object with tuning.warm_start goes to the warm state, any other to the cold one
    assert choice["Choices"] == [
        {"Variable": "$.run.tuning.warm_start", "IsPresent": True, "Next": "TuneWarmStart"}
    ]
    assert choice["Default"] == "Tune"
    # And the cold state never reads WarmStartConfig (an absent path would fail the execution, uncaught)
    cold, warm = states["Tune"], states["TuneWarmStart"]
    assert "WarmStartConfig.$" not in cold["Parameters"]
    assert warm["Parameters"]["WarmStartConfig.$"] == "$.run.tuning.warm_start"
    # And otherwise the two states are one: same job, security flags, result and next state
    assert {k: v for k, v in warm["Parameters"].items() if k != "WarmStartConfig.$"} == cold["Parameters"]
    assert {k: v for k, v in warm.items() if k != "Parameters"} == {
        k: v for k, v in cold.items() if k != "Parameters"
    }
    assert cold["Next"] == "DescribeBestTrainingJob"


def test_autopilot_is_created_with_kms_and_encryption_and_never_deploys_itself(
    dev: Template, states: dict[str, dict[str, Any]]
) -> None:
    start = states["StartAutopilot"]
    assert start["Resource"] == "arn:${AWS::Partition}:states:::aws-sdk:sagemaker:createAutoMLJobV2"
    parameters = start["Parameters"]
    key = _key_arn(dev)
    assert parameters["SecurityConfig"] == {
        "VolumeKmsKeyId": key,
        "EnableInterContainerTrafficEncryption": True,
    }
    assert parameters["OutputDataConfig"]["KmsKeyId"] == key
    assert "ModelDeployConfig" not in parameters
    assert parameters["AutoMLJobInputDataConfig"][0]["ContentType"] == "text/csv;header=present"


@pytest.mark.parametrize(
    ("name", "limit", "describe", "terminal"),
    [
        (
            "IsAutopilotDone",
            "$.run.limits.autopilot_max_polls",
            "DescribeAutopilot",
            {"Completed", "Failed", "Stopped"},
        ),
        ("IsEndpointDone", "$.run.limits.endpoint_max_polls", "DescribeEndpoint", {"InService", "Failed"}),
    ],
)
def test_polling_loops_are_bounded_and_wait_as_configured(
    states: dict[str, dict[str, Any]], name: str, limit: str, describe: str, terminal: set[str]
) -> None:
    choice = states[name]
    assert {rule["StringEquals"] for rule in choice["Choices"] if "StringEquals" in rule} == terminal
    assert any(rule.get("NumericGreaterThanPath") == limit for rule in choice["Choices"])
    wait = states[choice["Default"]]
    assert wait == {"Type": "Wait", "SecondsPath": "$.run.poll_seconds", "Next": describe}
    # The first describe comes at once, not after a wait.
    loop = name.removeprefix("Is").removesuffix("Done")
    assert states[f"Start{loop}Polls"]["Next"] == describe


def test_models_are_network_isolated_and_endpoint_config_encrypted(
    dev: Template, states: dict[str, dict[str, Any]]
) -> None:
    assert states["CreateModels"]["ItemsPath"] == "$.deployment.models"
    create_model = states["CreateModel"]["Parameters"]
    assert create_model["EnableNetworkIsolation"] is True
    assert create_model["ExecutionRoleArn"] == _sagemaker_role_arn(dev)
    assert states["CreateEndpointConfig"]["Parameters"]["KmsKeyId"] == _key_arn(dev)
    assert (
        states["CreateEndpointConfig"]["Parameters"]["ProductionVariants.$"]
        == "$.deployment.production_variants"
    )


def test_sagemaker_sdk_tasks_try_again_only_after_a_transient_cause(
    states: dict[str, dict[str, Any]],
) -> None:
    # SageMaker.SageMakerException names throttles and validation or access errors alike: the first call
    # is never retried; its Cause decides whether <name>Again, which retries with backoff, runs at all.
    sdk_tasks = {n: s for n, s in states.items() if ":::aws-sdk:sagemaker:" in s.get("Resource", "")}
    first_calls = {n: s for n, s in sdk_tasks.items() if not n.endswith("Again")}
    assert len(first_calls) >= 9
    for name, state in first_calls.items():
        assert "Retry" not in state, name
        unmodelled, everything = state["Catch"]
        assert unmodelled["ErrorEquals"] == [UNMODELLED_ERROR], name
        assert everything["ErrorEquals"] == ["States.ALL"], name
        choice = states[unmodelled["Next"]]
        (rule,) = choice["Choices"]
        presence, patterns = rule["And"]
        assert presence == {"Variable": "$.error.Cause", "IsPresent": True}, name
        assert [p["StringMatches"] for p in patterns["Or"]] == list(TRANSIENT_CAUSES), name
        assert choice["Default"] == everything["Next"], name
        wait = states[rule["Next"]]
        again = sdk_tasks[wait["Next"]]
        assert wait["Next"] == f"{name}Again"
        assert {k: v for k, v in again.items() if k not in ("Retry", "Catch")} == {
            k: v for k, v in state.items() if k != "Catch"
        }, name
        (retry,) = again["Retry"]
        assert retry["ErrorEquals"] == [UNMODELLED_ERROR] and retry["MaxAttempts"] >= 3, name
        assert not set(retry["ErrorEquals"]) & set(NOT_RETRIED), name
        (catch,) = again["Catch"]
        assert catch["Next"] == everything["Next"], name


def test_failure_paths_read_causes_only_where_they_exist(states: dict[str, dict[str, Any]]) -> None:
    # A caught error's Cause and a Describe's FailureReason are optional; reading one that is absent
    # raises States.Runtime, which no Catch catches.
    for name in ("HasTuningFailedCause", "HasAutopilotFailedCause", "HasFailureCause"):
        (rule,) = states[name]["Choices"]
        assert rule == {"Variable": "$.error.Cause", "IsPresent": True, "Next": rule["Next"]}, name
        assert states[states[name]["Default"]]["Parameters"]["Cause"] == "no cause was given", name
    for error in ("AutopilotJobFailed", "EndpointCreationFailed"):
        (rule,) = states[f"Has{error}Reason"]["Choices"]
        assert rule["Variable"] == "$.described.FailureReason" and rule["IsPresent"] is True
        assert states[rule["Next"]]["Parameters"] == {"Error": error, "Cause.$": "$.described.FailureReason"}
    readers = {n: s for n, s in states.items() if "$.error.Cause" in json.dumps(s.get("Parameters", {}))}
    assert set(readers) == {"TuningFailed", "AutopilotFailed", "SummarizeFailure"}


def test_lambda_tasks_retry_throttling(states: dict[str, dict[str, Any]]) -> None:
    # payload_response_only: the state invokes the function ARN directly and returns its payload.
    lambdas = {n: s for n, s in states.items() if s.get("Resource", "").startswith("${Functions")}
    assert set(lambdas) == {
        "ValidateInput",
        "CheckQuotas",
        "PlanDeployment",
        "Evaluate",
        "Cleanup",
        "CleanupAfterFailure",
    }
    for name, state in lambdas.items():
        errors = {e for retry in state["Retry"] for e in retry["ErrorEquals"]}
        assert "Lambda.TooManyRequestsException" in errors, name
        # The name of every error Lambda's model lacks, access denials among them: never retried.
        assert "Lambda.AWSLambdaException" not in errors, name


def test_execution_has_a_timeout_logs_all_and_traces(dev: Template, synth: Any) -> None:
    (machine,) = resources(dev, "AWS::StepFunctions::StateMachine").values()
    properties = machine["Properties"]
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    assert properties["LoggingConfiguration"]["IncludeExecutionData"] is True
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert state_machine_definition(synth("dev", execution_timeout_minutes=90))["TimeoutSeconds"] == 5400


def _state_machine_statements(dev: Template) -> list[dict[str, Any]]:
    return role_statements(dev, logical_id(dev, "AWS::IAM::Role", "StateMachineRole"))


def test_state_machine_passes_only_the_sagemaker_role_and_only_to_sagemaker(dev: Template) -> None:
    passes = [s for s in _state_machine_statements(dev) if "iam:PassRole" in as_list(s["Action"])]
    assert passes == [
        {
            "Action": "iam:PassRole",
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [logical_id(dev, "AWS::IAM::Role", "ExecutionRole"), "Arn"]},
            "Sid": "PassExecutionRoleToSageMaker",
        }
    ]


def test_state_machine_may_grant_sagemaker_the_key_for_endpoint_volumes_only(dev: Template) -> None:
    grants = [s for s in _state_machine_statements(dev) if "kms:CreateGrant" in as_list(s["Action"])]
    assert grants == [
        {
            "Action": "kms:CreateGrant",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [logical_id(dev, "AWS::KMS::Key", "StorageKey"), "Arn"]},
            "Sid": "EncryptEndpointVolumes",
        }
    ]


def test_state_machine_sagemaker_rights_are_prefix_scoped(dev: Template) -> None:
    scoped = [
        s
        for s in _state_machine_statements(dev)
        if any(a.lower().startswith("sagemaker:") for a in as_list(s["Action"]))
    ]
    assert len(scoped) >= 3  # the tuning .sync rights, tagging, and one per aws-sdk task kind
    for statement in scoped:
        if statement.get("Sid") == "TuningJobSyncTags":
            # AWS's policy templates for SageMaker .sync integrations: read-only, on every resource.
            assert statement["Action"] == "sagemaker:ListTags" and statement["Resource"] == "*"
            continue
        for resource in as_list(statement["Resource"]):
            assert json.dumps(resource).count("/mlsdev-*") == 1, statement


def test_state_machine_can_manage_the_sync_rule_and_tag(dev: Template) -> None:
    by_sid = {s.get("Sid"): s for s in _state_machine_statements(dev)}
    events = by_sid["TuningJobSyncEvents"]
    assert sorted(as_list(events["Action"])) == ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
    assert "StepFunctionsGetEventsForSageMakerTuningJobsRule" in json.dumps(events["Resource"])
    assert as_list(by_sid["TagOwnResources"]["Action"]) == ["sagemaker:AddTags"]


def test_outputs_include_the_state_machine_and_topic(dev: Template) -> None:
    assert {"StateMachineArn", "TopicArn"} <= set(dev.to_json()["Outputs"])


def test_topic_is_encrypted_with_the_stack_key(dev: Template) -> None:
    (topic,) = resources(dev, "AWS::SNS::Topic").values()
    assert topic["Properties"]["KmsMasterKeyId"] == {
        "Fn::GetAtt": [logical_id(dev, "AWS::KMS::Key", "StorageKey"), "Arn"]
    }


def _as_deployed(text: str) -> str:
    """Replace placeholders with values of a real deployment, so ARN checks see real ARNs."""
    for placeholder, value in {
        "${AWS::Partition}": "aws",
        "${AWS::Region}": "eu-west-1",
        "${AWS::AccountId}": "123456789012",
    }.items():
        text = text.replace(placeholder, value)
    return re.sub(r"\$\{(\w+)\.Arn\}", r"arn:aws:lambda:eu-west-1:123456789012:function:\1", text)


def test_definition_is_valid_amazon_states_language(definition: dict[str, Any], tmp_path: Path) -> None:
    validator = ROOT / "node_modules" / ".bin" / "asl-validator"
    node = ROOT / "node_modules" / ".bin" / "node"
    if not validator.exists() or not node.exists():
        pytest.fail("asl-validator is not installed: run `make setup`")
    path = tmp_path / "definition.json"
    path.write_text(_as_deployed(json.dumps(definition)))
    result = subprocess.run(
        [str(validator), "--json-path", str(path)],
        capture_output=True,
        text=True,
        env={"PATH": f"{node.parent}:/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
