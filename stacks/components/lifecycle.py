"""Lifecycle guarantees: executions that end without running Cleanup (abort, timeout) still clean up."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.components.nag import acknowledge

# Catch never runs for these; FAILED is included because a failure inside Cleanup itself ends there.
UNCLEAN_END_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"]


class Lifecycle(Construct):
    """Routes unclean execution ends to the cleanup handler, with retries and a dead-letter queue."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        state_machine: sfn.IStateMachine,
        cleanup: lambda_.Function,
        retain: bool,
    ) -> None:
        super().__init__(scope, id)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
            acknowledge(
                self.dead_letters,
                rule,
                "This queue is the dead-letter queue of the cleanup path; it has no queue of its own.",
            )
        # EventBridge and Lambda write to the encrypted queue on our behalf.
        for service in ("events.amazonaws.com", "lambda.amazonaws.com"):
            key.grant(iam.ServicePrincipal(service), "kms:GenerateDataKey*", "kms:Decrypt")

        cleanup.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.dead_letters),
            retry_attempts=2,
            max_event_age=Duration.hours(6),
        )
        assert cleanup.role is not None
        acknowledge(
            cleanup.role,
            "AwsSolutions-IAM5",
            "Sending failed invocations to the encrypted dead-letter queue needs the stack key's "
            "GenerateDataKey*/ReEncrypt* family, on that one key only.",
            findings=["Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"],
        )
        self.unclean_end_rule = events.Rule(
            self,
            "UncleanEndRule",
            description="Clean up after executions that were aborted, timed out or failed",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": UNCLEAN_END_STATUSES, "stateMachineArn": [state_machine.state_machine_arn]},
            ),
            targets=[
                targets.LambdaFunction(
                    cleanup,
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=8,
                    max_event_age=Duration.hours(6),
                )
            ],
        )
