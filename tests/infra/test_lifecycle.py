"""Lifecycle: abort/timeout cleanup, the TTL sweeper and its alarm, the teardown custom resource."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

from contracts.metrics import EXPIRED_METRIC, METRIC_NAMESPACE, METRIC_SERVICE, STACK_DIMENSION
from stacks.components.lifecycle import SWEEP_RATE
from tests.infra.conftest import as_list, flatten, logical_id, resources, role_statements


def test_unclean_execution_ends_of_this_state_machine_trigger_cleanup(dev: Template) -> None:
    rule = resources(dev, "AWS::Events::Rule")[logical_id(dev, "AWS::Events::Rule", "UncleanEndRule")]
    machine = logical_id(dev, "AWS::StepFunctions::StateMachine", "Pipeline")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"], "stateMachineArn": [{"Ref": machine}]},
    }
    (target,) = rule["Properties"]["Targets"]
    cleanup = logical_id(dev, "AWS::Lambda::Function", "FunctionsCleanup")
    assert target["Arn"] == {"Fn::GetAtt": [cleanup, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    assert target["DeadLetterConfig"]["Arn"] == {
        "Fn::GetAtt": [logical_id(dev, "AWS::SQS::Queue", "DeadLetters"), "Arn"]
    }


def test_failed_cleanup_invocations_land_in_the_dead_letter_queue(dev: Template) -> None:
    (config,) = resources(dev, "AWS::Lambda::EventInvokeConfig").values()
    queue = logical_id(dev, "AWS::SQS::Queue", "DeadLetters")
    assert config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [queue, "Arn"]
    }
    assert config["Properties"]["MaximumRetryAttempts"] == 2


def test_dead_letter_queue_is_encrypted_with_the_stack_key_and_ssl_only(dev: Template) -> None:
    queue = resources(dev, "AWS::SQS::Queue")[logical_id(dev, "AWS::SQS::Queue", "DeadLetters")]
    key = logical_id(dev, "AWS::KMS::Key", "StorageKey")
    assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    (policy,) = resources(dev, "AWS::SQS::QueuePolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def _function(template: Template, fragment: str) -> tuple[str, dict[str, Any]]:
    found = logical_id(template, "AWS::Lambda::Function", fragment)
    return found, resources(template, "AWS::Lambda::Function")[found]


def _role_statements(template: Template, function: dict[str, Any]) -> list[dict[str, Any]]:
    """The function's role's statements, tokens flattened."""
    return list(flatten(role_statements(template, function["Properties"]["Role"]["Fn::GetAtt"][0])))


def test_sweeper_runs_on_a_schedule_and_knows_the_state_machine(dev: Template) -> None:
    rule = resources(dev, "AWS::Events::Rule")[logical_id(dev, "AWS::Events::Rule", "SweepSchedule")]
    assert rule["Properties"]["ScheduleExpression"] == f"rate({SWEEP_RATE.to_minutes()} minutes)"
    sweeper_id, sweeper = _function(dev, "LifecycleSweeper")
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [sweeper_id, "Arn"]}
    properties = sweeper["Properties"]
    assert properties["Handler"] == "handlers.sweeper.handler.lambda_handler"
    assert properties["Runtime"] == "python3.14" and len(properties["Layers"]) == 1
    variables = properties["Environment"]["Variables"]
    machine = logical_id(dev, "AWS::StepFunctions::StateMachine", "Pipeline")
    assert variables["STATE_MACHINE_ARN"] == {"Ref": machine}
    assert (variables["NAME_PREFIX"], variables["STACK_NAME"]) == ("mlsdev", "MlStack-dev")


def test_expired_endpoints_alarm_watches_the_sweepers_metric_and_notifies_the_topic(dev: Template) -> None:
    (alarm,) = resources(dev, "AWS::CloudWatch::Alarm").values()
    properties = alarm["Properties"]
    assert (properties["Namespace"], properties["MetricName"]) == (METRIC_NAMESPACE, EXPIRED_METRIC)
    assert sorted(properties["Dimensions"], key=lambda d: d["Name"]) == [
        {"Name": "service", "Value": METRIC_SERVICE},
        {"Name": STACK_DIMENSION, "Value": "MlStack-dev"},
    ]
    assert properties["ComparisonOperator"] == "GreaterThanThreshold" and properties["Threshold"] == 0
    assert properties["Period"] == SWEEP_RATE.to_seconds()
    assert properties["TreatMissingData"] == "notBreaching"
    assert properties["AlarmActions"] == [{"Ref": logical_id(dev, "AWS::SNS::Topic", "Notifications")}]


def test_teardown_custom_resource_calls_the_python_function_directly_and_goes_before_the_buckets(
    dev: Template,
) -> None:
    (resource,) = resources(dev, "Custom::MlStackTeardown").values()
    teardown_id, teardown = _function(dev, "LifecycleTeardown")
    assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": [teardown_id, "Arn"]}
    assert teardown["Properties"]["Runtime"] == "python3.14"
    assert teardown["Properties"]["Handler"] == "handlers.teardown.handler.lambda_handler"
    assert teardown["Properties"]["Timeout"] == 900
    buckets = [
        logical_id(dev, "AWS::S3::Bucket", fragment)
        for fragment in ("StorageDataBucket", "StorageArtifactsBucket", "StorageAccessLogsBucket")
    ]
    assert set(buckets) <= set(resource["DependsOn"])
    properties = resource["Properties"]
    assert properties["Buckets"] == [{"Ref": bucket} for bucket in buckets]
    assert properties["EmptyBuckets"] == "true"
    assert properties["StateMachineArn"] == {
        "Ref": logical_id(dev, "AWS::StepFunctions::StateMachine", "Pipeline")
    }
    assert (properties["NamePrefix"], properties["StackName"]) == ("mlsdev", "MlStack-dev")
    # No Node provider framework: the only functions are our Python handlers.
    runtimes = {f["Properties"]["Runtime"] for f in resources(dev, "AWS::Lambda::Function").values()}
    assert runtimes == {"python3.14"}


def test_retaining_stage_keeps_bucket_contents_and_grants_no_deletes(prod: Template) -> None:
    (resource,) = resources(prod, "Custom::MlStackTeardown").values()
    assert resource["Properties"]["EmptyBuckets"] == "false"
    _, teardown = _function(prod, "LifecycleTeardown")
    actions = {a for s in _role_statements(prod, teardown) for a in as_list(s["Action"])}
    assert not {a for a in actions if a.startswith("s3:")}


def test_lifecycle_functions_are_scoped_to_the_prefix_except_for_list_calls(dev: Template) -> None:
    list_only = {
        "sagemaker:ListEndpoints",
        "sagemaker:ListEndpointConfigs",
        "sagemaker:ListModels",
        "sagemaker:ListHyperParameterTuningJobs",
        "sagemaker:ListAutoMLJobs",
        "sagemaker:ListTrainingJobs",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    }
    for fragment in ("LifecycleSweeper", "LifecycleTeardown"):
        _, function = _function(dev, fragment)
        statements_ = _role_statements(dev, function)
        assert statements_, fragment
        for statement in statements_:
            actions = set(as_list(statement["Action"]))
            resources_ = as_list(statement["Resource"])
            if "*" in resources_:
                assert actions <= list_only, (fragment, actions)
                continue
            for resource in resources_:
                if ":sagemaker:" in resource:
                    assert resource.endswith("/mlsdev-*"), resource
                assert not resource.endswith(":*") or ":execution:" in resource, resource


def test_teardown_empties_only_the_stacks_buckets(dev: Template) -> None:
    _, teardown = _function(dev, "LifecycleTeardown")
    s3_resources = {
        r
        for s in _role_statements(dev, teardown)
        if as_list(s["Action"])[0].startswith("s3:")
        for r in as_list(s["Resource"])
    }
    buckets = [
        logical_id(dev, "AWS::S3::Bucket", fragment)
        for fragment in ("StorageDataBucket", "StorageArtifactsBucket", "StorageAccessLogsBucket")
    ]
    assert s3_resources == {f"${{{b}.Arn}}" for b in buckets} | {f"${{{b}.Arn}}/*" for b in buckets}


def test_cleanup_can_notify_and_save_leaderboards(dev: Template) -> None:
    _, cleanup = _function(dev, "FunctionsCleanup")
    topic = logical_id(dev, "AWS::SNS::Topic", "Notifications")
    assert cleanup["Properties"]["Environment"]["Variables"]["TOPIC_ARN"] == {"Ref": topic}
    statements = _role_statements(dev, cleanup)
    assert any("sns:Publish" in as_list(s["Action"]) and s["Resource"] == f"${{{topic}}}" for s in statements)
    artifacts = logical_id(dev, "AWS::S3::Bucket", "StorageArtifactsBucket")
    puts = [s for s in statements if any(a.startswith("s3:PutObject") for a in as_list(s["Action"]))]
    assert puts and all(as_list(s["Resource"]) == [f"${{{artifacts}.Arn}}/reports/*"] for s in puts)
    lists = next(s for s in statements if s.get("Sid") == "ReadLeaderboardsOfFailedRuns")
    assert all(r.endswith("/mlsdev-*") for r in as_list(lists["Resource"]))
