"""Lifecycle: executions that skip Catch (aborted, timed out) still reach the cleanup handler."""

from __future__ import annotations

from aws_cdk.assertions import Template

from tests.infra.conftest import logical_id, resources


def test_unclean_execution_ends_of_this_state_machine_trigger_cleanup(dev: Template) -> None:
    (rule,) = resources(dev, "AWS::Events::Rule").values()
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
