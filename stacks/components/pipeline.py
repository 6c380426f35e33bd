"""The state machine: validate, check quotas, tune vs Autopilot, deploy, evaluate, clean up, notify."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from contracts.run import run_path
from stacks.components.arns import sagemaker_arn
from stacks.components.functions import PipelineFunctions
from stacks.components.grants import key_grants_for_sagemaker
from stacks.components.log_groups import encrypted_log_group
from stacks.components.nag import acknowledge, resource_finding
from stacks.components.sagemaker_tasks import (
    ERROR_PATH,
    automl_job_parameters,
    sdk_call,
    tuning_job_state,
)
from stacks.config import StageConfig

_ERROR = ERROR_PATH
_SAGEMAKER_KINDS = (
    "hyper-parameter-tuning-job",
    "training-job",
    "automl-job",
    "model",
    "endpoint-config",
    "endpoint",
)
# Not Lambda.AWSLambdaException (CDK's default retries it): it is the name of every error Lambda's model
# does not declare, access denials among them. Our handlers are idempotent, so a client-side timeout
# (the function may have run) is safe to retry.
_LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
]
# The execution as the handlers see it: enough to derive every resource name without any state.
_EXECUTION = {
    "name": sfn.JsonPath.string_at("$$.Execution.Name"),
    "id": sfn.JsonPath.string_at("$$.Execution.Id"),
    "state_machine": sfn.JsonPath.string_at("$$.StateMachine.Id"),
    "start_time": sfn.JsonPath.string_at("$$.Execution.StartTime"),
}


class Pipeline(Construct):
    """One Standard state machine; every failure goes Cleanup → Notify → Fail with the original error."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        key: kms.IKey,
        functions: PipelineFunctions,
        sagemaker_role: iam.IRole,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        self._key = key
        self._functions = functions
        self._role_arn = sagemaker_role.role_arn
        self._prefix = f"{config.name_prefix}-*"
        execution_timeout = Duration.minutes(config.execution_timeout_minutes)

        failure = self._failure_path(topic)
        # Any JSON is a valid execution input (null, an array, a string); ResultPath and Catch need an
        # object to write into. Wrapping the input first lets ValidateInput refuse it like any bad input.
        read_input = sfn.Pass(self, "ReadInput", parameters={"input.$": "$"})
        definition = (
            read_input.next(
                self._lambda(
                    "ValidateInput",
                    functions.validate_input,
                    {"input": sfn.JsonPath.object_at("$.input"), "execution": _EXECUTION},
                    run_path(),
                    failure,
                )
            )
            .next(
                self._lambda(
                    "CheckQuotas",
                    functions.check_quotas,
                    {"run": sfn.JsonPath.object_at(run_path())},
                    "$.quotas",
                    failure,
                )
            )
            .next(self._train_candidates(failure, execution_timeout))
            .next(
                self._lambda(
                    "PlanDeployment",
                    functions.plan_deployment,
                    {
                        "run": sfn.JsonPath.object_at(run_path()),
                        "candidates": sfn.JsonPath.list_at("$.candidates"),
                    },
                    "$.deployment",
                    failure,
                )
            )
            .next(self._deploy(failure))
            .next(self._finish(topic, failure))
        )

        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=execution_timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=encrypted_log_group(self, "Logs", key=key, config=config),
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
            comment="ML Stack: SageMaker tuning vs Autopilot, deployed, evaluated and cleaned up",
        )
        self._grant(sagemaker_role, topic)

    # --- building blocks -------------------------------------------------------------------------

    def _lambda(
        self,
        id: str,
        function: lambda_.IFunction,
        payload: dict[str, Any],
        result_path: str,
        failure: sfn.IChainable | None,
    ) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            id,
            lambda_function=function,
            payload=sfn.TaskInput.from_object(payload),
            payload_response_only=True,
            retry_on_service_exceptions=False,
            result_path=result_path,
        )
        task.add_retry(
            errors=_LAMBDA_TRANSIENT_ERRORS, interval=Duration.seconds(2), backoff_rate=2, max_attempts=5
        )
        if failure is not None:
            task.add_catch(failure, result_path=_ERROR)
        return task

    def _failed(self, id: str, error: str, cause: str) -> sfn.Pass:
        """Record an error of our own naming, as a Catch would, so the failure path can report it."""
        return sfn.Pass(self, id, parameters={"Error": error, "Cause": cause}, result_path=_ERROR)

    def _with_cause(self, id: str, then: sfn.IChainable) -> sfn.Choice:
        """Give a caught error a Cause before `then` reads it.

        A Fail state's Cause is optional, so an error output may have none; reading an absent field raises
        States.Runtime, which no Catch catches, and the failure would go unreported.
        """
        cause = f"{_ERROR}.Cause"
        missing = sfn.Pass(
            self,
            f"{id}WithoutCause",
            parameters={"Error.$": f"{_ERROR}.Error", "Cause": "no cause was given"},
            result_path=_ERROR,
        )
        choice = sfn.Choice(self, f"Has{id}Cause")
        return choice.when(sfn.Condition.is_present(cause), then).otherwise(missing.next(then))

    def _failure_reason(self, error: str, described: str) -> sfn.Chain:
        """Record a Describe's FailureReason as the Cause of `error`; SageMaker may leave it out."""
        reason = f"{described}.FailureReason"
        given = sfn.Pass(
            self, f"{error}Reason", parameters={"Error": error, "Cause.$": reason}, result_path=_ERROR
        )
        missing = sfn.Pass(
            self,
            f"{error}WithoutReason",
            parameters={"Error": error, "Cause": "SageMaker gave no FailureReason"},
            result_path=_ERROR,
        )
        choice = sfn.Choice(self, f"Has{error}Reason")
        return choice.when(sfn.Condition.is_present(reason), given).otherwise(missing).afterwards()

    # --- TrainCandidates -------------------------------------------------------------------------

    def _train_candidates(self, failure: sfn.IChainable, timeout: Duration) -> sfn.Parallel:
        parallel = sfn.Parallel(self, "TrainCandidates", result_path="$.candidates")
        parallel.branch(self._tuning_branch(timeout))
        parallel.branch(self._autopilot_branch())
        parallel.add_catch(failure, result_path=_ERROR)
        return parallel

    def _branch_failed(self, id: str, kind: str) -> sfn.Pass:
        return sfn.Pass(
            self,
            id,
            parameters={
                "kind": kind,
                "status": "Failed",
                "error.$": "$.error.Error",
                "cause.$": "$.error.Cause",
            },
        )

    def _tuning_branch(self, timeout: Duration) -> sfn.IChainable:
        failed = self._with_cause("TuningFailed", self._branch_failed("TuningFailed", "tuning"))
        tune, tune_warm = (
            sfn.CustomState(
                self,
                id,
                state_json=tuning_job_state(
                    role_arn=self._role_arn,
                    key_arn=self._key.key_arn,
                    timeout=timeout,
                    warm_start=warm,
                ),
            )
            for id, warm in (("Tune", False), ("TuneWarmStart", True))
        )
        # No Retry: the optimized integration names every error SageMaker.AmazonSageMakerException, so a
        # retrier cannot tell a throttle from a quota, validation or access error, and a create retried
        # after the job exists fails with ResourceInUse while that job runs on. A failure goes to the
        # branch's Catch at once: Autopilot can still win, and Cleanup stops the run's jobs by name.
        tune.add_catch(failed, result_path=_ERROR)
        tune_warm.add_catch(failed, result_path=_ERROR)
        describe_best = sdk_call(
            self,
            "DescribeBestTrainingJob",
            "describeTrainingJob",
            parameters={"TrainingJobName": sfn.JsonPath.string_at("$.tuning.best_training_job")},
            resources=[sagemaker_arn("training-job", self._prefix)],
            failure=failed,
            result_selector={
                "model_data.$": "$.ModelArtifacts.S3ModelArtifacts",
                "image.$": "$.AlgorithmSpecification.TrainingImage",
            },
            result_path="$.best",
        )
        succeeded = sfn.Pass(
            self,
            "TuningSucceeded",
            parameters={
                "kind": "tuning",
                "status": "Succeeded",
                "job.$": "$.tuning.job",
                "best_training_job.$": "$.tuning.best_training_job",
                "objective.$": "$.tuning.objective",
                "hyperparameters.$": "$.tuning.hyperparameters",
                "counters.$": "$.tuning.counters",
                "model_data.$": "$.best.model_data",
                "image.$": "$.best.image",
            },
        )
        describe_best.next(succeeded)
        tune.next(describe_best)
        tune_warm.next(describe_best)
        # WarmStartConfig is in the run object only for a warm start (contracts.run.Tuning).
        start = sfn.Choice(self, "IsWarmStart")
        start.when(sfn.Condition.is_present(run_path("tuning", "warm_start")), tune_warm).otherwise(tune)
        return start

    def _autopilot_branch(self) -> sfn.IChainable:
        job_arn = sagemaker_arn("automl-job", self._prefix)
        failed = self._with_cause("AutopilotFailed", self._branch_failed("AutopilotFailed", "autopilot"))
        start = sdk_call(
            self,
            "StartAutopilot",
            "createAutoMLJobV2",
            parameters=automl_job_parameters(role_arn=self._role_arn, key_arn=self._key.key_arn),
            resources=[job_arn],
            failure=failed,
        )
        job_name = {"AutoMLJobName": sfn.JsonPath.string_at(run_path("names", "automl_job"))}
        describe = sdk_call(
            self,
            "DescribeAutopilot",
            "describeAutoMLJobV2",
            parameters=job_name,
            resources=[job_arn],
            failure=failed,
            result_selector={
                "status.$": "$.AutoMLJobStatus",
                "secondary_status.$": "$.AutoMLJobSecondaryStatus",
            },
            result_path="$.autopilot",
        )
        # BestCandidate exists only once the job completed, so it is read by a second describe.
        describe_best = sdk_call(
            self,
            "DescribeBestCandidate",
            "describeAutoMLJobV2",
            parameters=job_name,
            resources=[job_arn],
            failure=failed,
            result_selector={
                "candidate.$": "$.BestCandidate.CandidateName",
                "objective.$": "$.BestCandidate.FinalAutoMLJobObjectiveMetric",
                "containers.$": "$.BestCandidate.InferenceContainers",
            },
            result_path="$.best",
        )
        describe_failure = sdk_call(
            self,
            "DescribeAutopilotFailure",
            "describeAutoMLJobV2",
            parameters=job_name,
            resources=[job_arn],
            failure=failed,
            result_path="$.described",
        )
        stop = sdk_call(
            self, "StopAutopilot", "stopAutoMLJob", parameters=job_name, resources=[job_arn], failure=failed
        )
        succeeded = sfn.Pass(
            self,
            "AutopilotSucceeded",
            parameters={
                "kind": "autopilot",
                "status": "Succeeded",
                "job.$": run_path("names", "automl_job"),
                "candidate.$": "$.best.candidate",
                "objective.$": "$.best.objective",
                "containers.$": "$.best.containers",
            },
        )
        loop = self._bounded_poll(
            "Autopilot",
            describe=describe,
            status_path="$.autopilot.status",
            done={"Completed": describe_best.next(succeeded)},
            failed={
                "Failed": describe_failure.next(
                    self._failure_reason("AutopilotJobFailed", "$.described")
                ).next(failed),
                "Stopped": self._failed(
                    "AutopilotStopped", "AutopilotJobStopped", "The AutoML job was stopped"
                ).next(failed),
            },
            limit_path=run_path("limits", "autopilot_max_polls"),
            on_limit=stop.next(
                self._failed(
                    "AutopilotTimedOut", "AutopilotTimedOut", "Autopilot outlived its polling budget"
                )
            ).next(failed),
        )
        return start.next(loop)

    def _bounded_poll(
        self,
        name: str,
        *,
        describe: sfn.IChainable,
        status_path: str,
        done: dict[str, sfn.IChainable],
        failed: dict[str, sfn.IChainable],
        limit_path: str,
        on_limit: sfn.IChainable,
    ) -> sfn.IChainable:
        """Describe → count → decide → wait → describe …, until a terminal status or the poll budget is spent.

        The first describe comes at once: a local endpoint is InService in well under a poll interval.
        """
        counter = f"$.polls.{name.lower()}"
        start = sfn.Pass(self, f"Start{name}Polls", parameters={"count": 0}, result_path=counter)
        count = sfn.Pass(
            self,
            f"Count{name}Poll",
            parameters={"count.$": f"States.MathAdd({counter}.count, 1)"},
            result_path=counter,
        )
        decide = sfn.Choice(self, f"Is{name}Done")
        for status, target in {**done, **failed}.items():
            decide.when(sfn.Condition.string_equals(status_path, status), target)
        decide.when(sfn.Condition.number_greater_than_json_path(f"{counter}.count", limit_path), on_limit)
        wait = sfn.Wait(self, f"WaitFor{name}", time=sfn.WaitTime.seconds_path(run_path("poll_seconds")))
        decide.otherwise(wait)
        start.next(describe).next(count).next(decide)
        wait.next(describe)
        return start

    # --- Deploy ----------------------------------------------------------------------------------

    def _deploy(self, failure: sfn.IChainable) -> sfn.IChainable:
        # Inside the Map, a failure ends the iteration with the error as caught; the Map's Catch takes it.
        model_failed = sfn.Fail(
            self, "CreateModelFailed", error_path=f"{_ERROR}.Error", cause_path=f"{_ERROR}.Cause"
        )
        create_model = sdk_call(
            self,
            "CreateModel",
            "createModel",
            parameters={
                "ModelName": sfn.JsonPath.string_at("$.ModelName"),
                "Containers": sfn.JsonPath.list_at("$.Containers"),
                "ExecutionRoleArn": self._role_arn,
                "EnableNetworkIsolation": True,
                "Tags": sfn.JsonPath.list_at("$.Tags"),
            },
            resources=[sagemaker_arn("model", self._prefix)],
            failure=model_failed,
        )
        create_models = sfn.Map(
            self,
            "CreateModels",
            items_path="$.deployment.models",
            max_concurrency=2,
            result_path=sfn.JsonPath.DISCARD,
        )
        create_models.item_processor(create_model)
        create_config = sdk_call(
            self,
            "CreateEndpointConfig",
            "createEndpointConfig",
            parameters={
                "EndpointConfigName": sfn.JsonPath.string_at(run_path("names", "endpoint_config")),
                "ProductionVariants": sfn.JsonPath.list_at("$.deployment.production_variants"),
                "KmsKeyId": self._key.key_arn,
                "Tags": sfn.JsonPath.list_at(run_path("tags")),
            },
            resources=[sagemaker_arn("endpoint-config", self._prefix)],
            failure=failure,
        )
        endpoint_arn = sagemaker_arn("endpoint", self._prefix)
        create_endpoint = sdk_call(
            self,
            "CreateEndpoint",
            "createEndpoint",
            parameters={
                "EndpointName": sfn.JsonPath.string_at(run_path("names", "endpoint")),
                "EndpointConfigName": sfn.JsonPath.string_at(run_path("names", "endpoint_config")),
                "Tags": sfn.JsonPath.list_at(run_path("tags")),
            },
            resources=[endpoint_arn, sagemaker_arn("endpoint-config", self._prefix)],
            failure=failure,
        )
        endpoint_name = {"EndpointName": sfn.JsonPath.string_at(run_path("names", "endpoint"))}
        describe = sdk_call(
            self,
            "DescribeEndpoint",
            "describeEndpoint",
            parameters=endpoint_name,
            resources=[endpoint_arn],
            failure=failure,
            result_selector={"status.$": "$.EndpointStatus"},
            result_path="$.endpoint",
        )
        describe_failure = sdk_call(
            self,
            "DescribeEndpointFailure",
            "describeEndpoint",
            parameters=endpoint_name,
            resources=[endpoint_arn],
            failure=failure,
            result_path="$.described",
        )
        create_models.add_catch(failure, result_path=_ERROR)
        evaluate = self._lambda(
            "Evaluate",
            self._functions.evaluate,
            {
                "run": sfn.JsonPath.object_at(run_path()),
                "deployment": sfn.JsonPath.object_at("$.deployment"),
                "candidates": sfn.JsonPath.list_at("$.candidates"),
            },
            "$.evaluation",
            failure,
        )
        in_service = sfn.Pass(self, "EndpointInService")
        loop = self._bounded_poll(
            "Endpoint",
            describe=describe,
            status_path="$.endpoint.status",
            done={"InService": in_service},
            failed={
                "Failed": describe_failure.next(
                    self._failure_reason("EndpointCreationFailed", "$.described")
                ).next(failure)
            },
            limit_path=run_path("limits", "endpoint_max_polls"),
            on_limit=self._failed(
                "EndpointTimedOut", "EndpointTimedOut", "The endpoint did not reach InService in time"
            ).next(failure),
        )
        create_models.next(create_config).next(create_endpoint).next(loop)
        in_service.next(evaluate)
        return sfn.Chain.custom(create_models, [evaluate], create_models)

    # --- Cleanup, Notify, Succeed / Fail ---------------------------------------------------------

    def _cleanup(self, id: str, reason: str) -> tasks.LambdaInvoke:
        task = self._lambda(
            id,
            self._functions.cleanup,
            {"state": sfn.JsonPath.entire_payload, "execution": _EXECUTION, "reason": reason},
            "$.cleanup",
            None,
        )
        # An endpoint still Creating cannot be deleted yet: wait for it rather than leave it behind.
        task.add_retry(
            errors=["EndpointNotDeletable"], interval=Duration.seconds(30), backoff_rate=1.5, max_attempts=10
        )
        return task

    def _notify(self, id: str, topic: sns.ITopic, subject: str) -> tasks.SnsPublish:
        task = tasks.SnsPublish(
            self,
            id,
            topic=topic,
            subject=subject,
            message=sfn.TaskInput.from_text(
                sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.notification"))
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        task.add_retry(errors=["SNS.ThrottledException", "SNS.InternalErrorException"], max_attempts=5)
        return task

    def _finish(self, topic: sns.ITopic, failure: sfn.IChainable) -> sfn.IChainable:
        cleanup = self._cleanup("Cleanup", "completed")
        cleanup.add_catch(failure, result_path=_ERROR)
        summary = sfn.Pass(
            self,
            "SummarizeSuccess",
            parameters={
                "status": "SUCCEEDED",
                "execution.$": "$$.Execution.Id",
                "run_id.$": run_path("run_id"),
                "evaluation.$": "$.evaluation",
                "cleanup.$": "$.cleanup",
            },
            result_path="$.notification",
        )
        return (
            cleanup.next(summary)
            .next(self._notify("Notify", topic, "ML Stack run succeeded"))
            .next(sfn.Succeed(self, "Succeeded", output_path="$.notification"))
        )

    def _failure_path(self, topic: sns.ITopic) -> sfn.IChainable:
        cleanup = self._cleanup("CleanupAfterFailure", "failed")
        summary = sfn.Pass(
            self,
            "SummarizeFailure",
            parameters={
                "status": "FAILED",
                "execution.$": "$$.Execution.Id",
                "error.$": "$.error.Error",
                "cause.$": "$.error.Cause",
                "cleanup.$": "$.cleanup",
            },
            result_path="$.notification",
        )
        # If cleanup itself fails, its error lands in $.cleanup and the original error still wins.
        cleanup.add_catch(summary, result_path="$.cleanup")
        notify = self._notify("NotifyFailure", topic, "ML Stack run failed")
        fail = sfn.Fail(self, "Failed", error_path="$.error.Error", cause_path="$.error.Cause")
        cleanup.next(summary).next(notify).next(fail)
        return self._with_cause("Failure", cleanup)

    # --- IAM -------------------------------------------------------------------------------------

    def _grant(self, sagemaker_role: iam.IRole, topic: sns.ITopic) -> None:
        role = self.state_machine.role
        tuning_arn = sagemaker_arn("hyper-parameter-tuning-job", self._prefix)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="TuningJobSync",
                actions=[
                    "sagemaker:CreateHyperParameterTuningJob",
                    "sagemaker:DescribeHyperParameterTuningJob",
                    "sagemaker:StopHyperParameterTuningJob",
                ],
                resources=[tuning_arn],
            )
        )
        # As AWS's policy templates for SageMaker `.sync` integrations have it (and CDK's task classes):
        # Step Functions reads tags on resources other than the job it created.
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="TuningJobSyncTags", actions=["sagemaker:ListTags"], resources=["*"])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="TagOwnResources",
                actions=["sagemaker:AddTags"],
                resources=[sagemaker_arn(kind, self._prefix) for kind in _SAGEMAKER_KINDS],
            )
        )
        # `.sync` makes Step Functions manage this EventBridge rule to learn when the job ends.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="TuningJobSyncEvents",
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[
                    f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:rule/"
                    "StepFunctionsGetEventsForSageMakerTuningJobsRule"
                ],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PassExecutionRoleToSageMaker",
                actions=["iam:PassRole"],
                resources=[sagemaker_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        # CreateEndpoint on a config with KmsKeyId grants SageMaker the key as the caller.
        role.add_to_principal_policy(key_grants_for_sagemaker(self._key, sid="EncryptEndpointVolumes"))
        topic.grant_publish(role)
        # Publishing to a KMS-encrypted topic needs the key.
        self._key.grant(role, "kms:GenerateDataKey*", "kms:Decrypt")
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            f"SageMaker rights are bounded to resources named '{self._prefix}' (names are derived per "
            "execution); Lambda rights to this stack's handlers and their versions; GenerateDataKey* on the "
            "stack key only; log delivery and X-Ray actions support no resource ARNs; sagemaker:ListTags on "
            "'*' as AWS's policy templates for SageMaker .sync integrations grant it (read-only).",
            findings=[
                "Resource::*",
                "Action::kms:GenerateDataKey*",
                *(
                    resource_finding(self, arn)
                    for arn in [
                        *(f"{function.function_arn}:*" for function in self._functions.all),
                        *(sagemaker_arn(kind, self._prefix) for kind in _SAGEMAKER_KINDS),
                    ]
                ),
            ],
        )
