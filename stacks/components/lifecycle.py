"""Lifecycle guarantees: abort/timeout cleanup, a TTL sweeper with an alarm, and a teardown on destroy."""

from __future__ import annotations

from aws_cdk import Aws, CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from contracts.metrics import EXPIRED_METRIC, METRIC_NAMESPACE, METRIC_SERVICE, STACK_DIMENSION
from stacks.components.arns import sagemaker_arn
from stacks.components.functions import PipelineFunctions
from stacks.components.nag import BUCKET_GRANT_ACTIONS, KEY_GRANT_ACTIONS, acknowledge, resource_finding

# Catch never runs for these; FAILED is included because a failure inside Cleanup itself ends there.
UNCLEAN_END_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"]
# How often the sweeper looks for endpoints past their TTL (also the alarm's period).
SWEEP_RATE = Duration.minutes(30)
SWEEPER_TIMEOUT = Duration.minutes(5)
# Teardown may wait for endpoints still Creating; CloudFormation waits up to an hour for the answer.
TEARDOWN_TIMEOUT = Duration.minutes(15)
# SageMaker's List* calls accept no resource ARN; each handler filters by name prefix and stack tag.
_LIST_ENDPOINTS = ["sagemaker:ListEndpoints"]
_LIST_EVERYTHING = [
    "sagemaker:ListHyperParameterTuningJobs",
    "sagemaker:ListAutoMLJobs",
    "sagemaker:ListTrainingJobs",
    "sagemaker:ListEndpoints",
    "sagemaker:ListEndpointConfigs",
    "sagemaker:ListModels",
]
_SERVING_KINDS = ("endpoint", "endpoint-config", "model")
_JOB_KINDS = ("hyper-parameter-tuning-job", "automl-job", "training-job")


class Lifecycle(Construct):
    """Nothing this stack starts outlives its purpose: unclean ends, expired endpoints and stack deletion."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        state_machine: sfn.StateMachine,
        functions: PipelineFunctions,
        topic: sns.ITopic,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        access_logs_bucket: s3.IBucket,
        name_prefix: str,
        stack_name: str,
        retain: bool,
    ) -> None:
        super().__init__(scope, id)
        self._key = key
        self._prefix = f"{name_prefix}-*"
        self._state_machine = state_machine
        self._abort_cleanup(key, state_machine, functions.cleanup, retain)
        self._cleanup_results(functions.cleanup, topic, artifacts_bucket)
        self.sweeper = functions.handler_function(
            self,
            "sweeper",
            timeout=SWEEPER_TIMEOUT,
            description="ML Stack sweeper: deletes this stack's endpoints whose mlstack:expires passed",
            environment={"STATE_MACHINE_ARN": state_machine.state_machine_arn},
        )
        self._sweeper_rights(self.sweeper)
        self.sweep_rule = events.Rule(
            self,
            "SweepSchedule",
            description="Delete endpoints of this stack that outlived their mlstack:expires tag",
            schedule=events.Schedule.rate(SWEEP_RATE),
            # A missed round is made up by the next one: no long retries, no dead letters.
            targets=[targets.LambdaFunction(self.sweeper, retry_attempts=2, max_event_age=SWEEP_RATE)],
        )
        rule = self.sweep_rule.node.default_child
        assert rule is not None
        acknowledge(
            rule,
            "Serverless-EventBusDLQ",
            "The schedule's events carry nothing to redeliver: a round that could not be delivered is "
            "made up by the next one, and the ExpiredEndpoints alarm reports endpoints left past their TTL.",
        )
        self.expired_alarm = self._expired_alarm(topic, stack_name)
        self.teardown_function = functions.handler_function(
            self,
            "teardown",
            timeout=TEARDOWN_TIMEOUT,
            description="ML Stack teardown: on stack deletion stops jobs, deletes endpoints, empties buckets",
        )
        buckets = [data_bucket, artifacts_bucket, access_logs_bucket]
        self._teardown_rights(self.teardown_function, buckets, empty_buckets=not retain)
        self.teardown = CustomResource(
            self,
            "StackTeardown",
            service_token=self.teardown_function.function_arn,
            resource_type="Custom::MlStackTeardown",
            properties={
                "NamePrefix": name_prefix,
                "StackName": stack_name,
                "StateMachineArn": state_machine.state_machine_arn,
                # Emptied in this order: the access-log bucket last, after the others stopped logging.
                "Buckets": [bucket.bucket_name for bucket in buckets],
                "EmptyBuckets": "false" if retain else "true",
            },
        )
        # Depending on the buckets makes CloudFormation delete this resource (and empty them) first.
        for bucket in buckets:
            self.teardown.node.add_dependency(bucket)

    # --- abort / timeout -------------------------------------------------------------------------

    def _abort_cleanup(
        self, key: kms.IKey, state_machine: sfn.IStateMachine, cleanup: lambda_.Function, retain: bool
    ) -> None:
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

    def _cleanup_results(self, cleanup: lambda_.Function, topic: sns.ITopic, artifacts: s3.IBucket) -> None:
        """Cleanup also notifies unclean ends and saves a failed run's leaderboard first."""
        cleanup.add_environment("TOPIC_ARN", topic.topic_arn)
        topic.grant_publish(cleanup)
        # Publishing to the KMS-encrypted topic, and head/put of reports/ in the KMS-encrypted bucket.
        artifacts.grant_read(cleanup, "reports/*")
        artifacts.grant_put(cleanup, "reports/*")
        self._key.grant_encrypt_decrypt(cleanup)
        cleanup.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadLeaderboardsOfFailedRuns",
                actions=["sagemaker:ListTrainingJobsForHyperParameterTuningJob"],
                resources=[sagemaker_arn("hyper-parameter-tuning-job", self._prefix)],
            )
        )
        # IAM knows no resource for ListCandidatesForAutoMLJob: a job ARN here would never match.
        cleanup.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadAutopilotCandidatesOfFailedRuns",
                actions=["sagemaker:ListCandidatesForAutoMLJob"],
                resources=["*"],
            )
        )
        assert cleanup.role is not None
        acknowledge(
            cleanup.role,
            "AwsSolutions-IAM5",
            "Sending failed invocations to the encrypted dead-letter queue and publishing to the encrypted "
            "topic need the stack key's GenerateDataKey*/ReEncrypt* family, on that one key only; the "
            "leaderboard of a failed run is read and written under reports/ of the artifacts bucket; "
            "SageMaker's ListCandidatesForAutoMLJob supports no resource ARN.",
            findings=[
                "Resource::*",
                *KEY_GRANT_ACTIONS,
                *BUCKET_GRANT_ACTIONS,
                resource_finding(self, artifacts.arn_for_objects("reports/*")),
            ],
        )

    # --- sweeper ---------------------------------------------------------------------------------

    def _sweeper_rights(self, sweeper: lambda_.Function) -> None:
        sweeper.add_to_role_policy(
            iam.PolicyStatement(
                sid="FindRunningExecutions",
                actions=["states:ListExecutions"],
                resources=[self._state_machine.state_machine_arn],
            )
        )
        sweeper.add_to_role_policy(
            iam.PolicyStatement(sid="ListEndpoints", actions=_LIST_ENDPOINTS, resources=["*"])
        )
        sweeper.add_to_role_policy(
            iam.PolicyStatement(
                sid="DeleteExpiredEndpoints",
                actions=[
                    "sagemaker:ListTags",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:DeleteEndpoint",
                    "sagemaker:DeleteEndpointConfig",
                    "sagemaker:DeleteModel",
                ],
                resources=[sagemaker_arn(kind, self._prefix) for kind in _SERVING_KINDS],
            )
        )
        assert sweeper.role is not None
        acknowledge(
            sweeper.role,
            "AwsSolutions-IAM5",
            "sagemaker:ListEndpoints and X-Ray's PutTraceSegments/PutTelemetryRecords support no resource "
            "ARNs (the sweeper keeps only endpoints named with the prefix and tagged by this stack); "
            f"every other SageMaker right is bounded to resources named '{self._prefix}'.",
            findings=[
                "Resource::*",
                *(resource_finding(self, sagemaker_arn(kind, self._prefix)) for kind in _SERVING_KINDS),
            ],
        )
        acknowledge(
            sweeper,
            "Serverless-LambdaDLQ",
            f"Invoked by a schedule every {SWEEP_RATE.to_minutes()} minutes: a failed round is retried "
            "by the next one, and the ExpiredEndpoints alarm reports endpoints left past their TTL.",
        )

    def _expired_alarm(self, topic: sns.ITopic, stack_name: str) -> cloudwatch.Alarm:
        metric = cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name=EXPIRED_METRIC,
            dimensions_map={"service": METRIC_SERVICE, STACK_DIMENSION: stack_name},
            statistic=cloudwatch.Stats.MAXIMUM,
            period=SWEEP_RATE,
        )
        alarm = cloudwatch.Alarm(
            self,
            "ExpiredEndpointsAlarm",
            alarm_description=(
                "An endpoint tagged by this stack lived past its mlstack:expires tag (the sweeper found it)"
            ),
            metric=metric,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        # CloudWatch publishes to the KMS-encrypted topic, so it needs the key.
        self._key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:GenerateDataKey*", "kms:Decrypt"
        )
        return alarm

    # --- teardown on stack deletion --------------------------------------------------------------

    def _teardown_rights(
        self, teardown: lambda_.Function, buckets: list[s3.IBucket], *, empty_buckets: bool
    ) -> None:
        machine = self._state_machine
        region = f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        executions = f"{region}:execution:{machine.state_machine_name}:*"
        teardown.add_to_role_policy(
            iam.PolicyStatement(
                sid="FindRunningExecutions",
                actions=["states:ListExecutions"],
                resources=[machine.state_machine_arn],
            )
        )
        teardown.add_to_role_policy(
            iam.PolicyStatement(
                sid="StopRunningExecutions",
                actions=["states:StopExecution"],
                resources=[executions],
            )
        )
        # Tells a real deletion from a replacement during an update.
        teardown.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadOwnStackStatus", actions=["cloudformation:DescribeStacks"], resources=[Aws.STACK_ID]
            )
        )
        teardown.add_to_role_policy(
            iam.PolicyStatement(sid="ListOwnResources", actions=_LIST_EVERYTHING, resources=["*"])
        )
        teardown.add_to_role_policy(
            iam.PolicyStatement(
                sid="StopAndDeleteOwnResources",
                actions=[
                    "sagemaker:ListTags",
                    "sagemaker:StopHyperParameterTuningJob",
                    "sagemaker:StopAutoMLJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:DeleteEndpoint",
                    "sagemaker:DeleteEndpointConfig",
                    "sagemaker:DeleteModel",
                ],
                resources=[sagemaker_arn(kind, self._prefix) for kind in (*_JOB_KINDS, *_SERVING_KINDS)],
            )
        )
        findings = [
            "Resource::*",
            resource_finding(self, executions),
            *(
                resource_finding(self, sagemaker_arn(kind, self._prefix))
                for kind in (*_JOB_KINDS, *_SERVING_KINDS)
            ),
        ]
        if empty_buckets:
            teardown.add_to_role_policy(
                iam.PolicyStatement(
                    sid="EmptyOwnBuckets",
                    actions=["s3:ListBucket", "s3:ListBucketVersions", "s3:PutBucketLogging"],
                    resources=[bucket.bucket_arn for bucket in buckets],
                )
            )
            teardown.add_to_role_policy(
                iam.PolicyStatement(
                    sid="DeleteAllObjectVersions",
                    actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                    resources=[bucket.arn_for_objects("*") for bucket in buckets],
                )
            )
            findings.extend(resource_finding(self, bucket.arn_for_objects("*")) for bucket in buckets)
        assert teardown.role is not None
        acknowledge(
            teardown.role,
            "AwsSolutions-IAM5",
            "SageMaker's List* calls and X-Ray's PutTraceSegments/PutTelemetryRecords support no resource "
            "ARNs (teardown keeps only resources named with the prefix and tagged by this stack); other "
            f"SageMaker rights are bounded to resources named '{self._prefix}', StopExecution to this "
            "state machine's executions; on stages that do not retain data, every object version of the "
            "stack's own three buckets is deleted so that they can be deleted.",
            findings=findings,
        )
        acknowledge(
            teardown,
            "Serverless-LambdaDLQ",
            "Invoked synchronously by CloudFormation as a custom resource; it always answers through the "
            "ResponseURL, and CloudFormation reports a missing answer itself.",
        )
