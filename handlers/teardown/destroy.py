"""On stack deletion: stop executions and jobs, delete serving resources, empty buckets when allowed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from handlers.common.aws_errors import error_code, is_not_found
from handlers.common.errors import STACK_DELETED
from handlers.common.json_types import JsonDict
from handlers.common.sagemaker_cleanup import (
    Outcome,
    WaitBudget,
    delete_endpoint,
    delete_endpoint_config,
    delete_model,
)
from handlers.common.tags import STACK_TAG, tags_of
from handlers.teardown.buckets import empty_bucket, stop_access_logging
from handlers.teardown.request import Target

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_stepfunctions import SFNClient

# A Delete in these stack states is a replacement during an update, not the stack going away.
UPDATING = frozenset(
    {
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    }
)


@dataclass
class Services:
    """The clients teardown uses (injectable for tests)."""

    sagemaker: SageMakerClient
    stepfunctions: SFNClient
    s3: S3Client
    cloudformation: CloudFormationClient


@dataclass
class DestroyReport:
    """Everything teardown did, and what it could not do."""

    outcome: Outcome = field(default_factory=Outcome)
    versions_deleted: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def result(self) -> JsonDict:
        """The JSON the handler logs."""
        return {**self.outcome.result(), "versions_deleted": self.versions_deleted, "failures": self.failures}


def stack_is_updating(cfn: CloudFormationClient, stack_id: str) -> bool:
    """Whether this Delete only replaces the resource in a stack update (then nothing may be torn down).

    When the status cannot be read, teardown goes ahead: orphans that bill forever are worse.
    """
    try:
        stacks = cfn.describe_stacks(StackName=stack_id)["Stacks"]
    except ClientError:
        return False
    return bool(stacks) and stacks[0]["StackStatus"] in UPDATING


class _Run:
    """One teardown: every step records its failure and lets the next one go on."""

    def __init__(
        self, services: Services, target: Target, remaining: Callable[[], float], wait: WaitBudget
    ) -> None:
        self.sm = services.sagemaker
        self.services = services
        self.target = target
        self.remaining = remaining
        self.wait = wait
        self.prefix = f"{target.name_prefix}-"
        self.report = DestroyReport()

    def has_time(self) -> bool:
        return self.remaining() > 0

    def attempt(self, label: str, action: Callable[[], object]) -> None:
        if not self.has_time():
            self.report.failures.append(f"{label}: skipped, out of time")
            return
        try:
            action()
        except Exception as err:
            self.report.failures.append(f"{label}: {type(err).__name__}: {err}")

    def ours(self, arn: str) -> bool:
        try:
            return tags_of(self.sm, arn).get(STACK_TAG) == self.target.stack_name
        except ClientError as err:
            if is_not_found(err):
                return False
            raise

    def listed(
        self, operation: str, key: str, name: str, arn: str, **params: Any
    ) -> Iterator[tuple[str, str]]:
        """(name, ARN) of the resources `operation` lists with our prefix and our stack tag."""
        for page in self.sm.get_paginator(operation).paginate(**params):  # type: ignore[call-overload]
            for item in page.get(key, []):
                if item[name].startswith(self.prefix) and self.ours(item[arn]):
                    yield item[name], item[arn]

    def stop_executions(self) -> None:
        sfn = self.services.stepfunctions
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.target.state_machine_arn, statusFilter="RUNNING"
        )
        try:
            for page in pages:
                for execution in page.get("executions", []):
                    # Otherwise a running execution could create an endpoint after this teardown.
                    sfn.stop_execution(
                        executionArn=execution["executionArn"],
                        error=STACK_DELETED,
                        cause="The stack is being deleted; its teardown stopped this execution.",
                    )
                    self.report.outcome.stopped.append(f"execution:{execution['name']}")
        except ClientError as err:
            if error_code(err) != "StateMachineDoesNotExist":
                raise
            self.report.outcome.notes.append("the state machine is already gone: no execution to stop")

    def stop_jobs(self) -> None:
        running = {"NameContains": self.prefix, "StatusEquals": "InProgress"}
        tuning = self.listed(
            "list_hyper_parameter_tuning_jobs",
            "HyperParameterTuningJobSummaries",
            "HyperParameterTuningJobName",
            "HyperParameterTuningJobArn",
            **running,
        )
        for name, _ in list(tuning):
            self.stop(
                f"tuning-job:{name}",
                self.sm.stop_hyper_parameter_tuning_job,
                HyperParameterTuningJobName=name,
            )
        automl = self.listed(
            "list_auto_ml_jobs", "AutoMLJobSummaries", "AutoMLJobName", "AutoMLJobArn", **running
        )
        for name, _ in list(automl):
            self.stop(f"automl-job:{name}", self.sm.stop_auto_ml_job, AutoMLJobName=name)
        # Tuning trials stop with their tuning job; this catches any other training job of ours.
        training = self.listed(
            "list_training_jobs", "TrainingJobSummaries", "TrainingJobName", "TrainingJobArn", **running
        )
        for name, _ in list(training):
            self.stop(f"training-job:{name}", self.sm.stop_training_job, TrainingJobName=name)

    def stop(self, label: str, call: Callable[..., object], **params: str) -> None:
        def action() -> None:
            try:
                call(**params)
            except ClientError as err:
                if not is_not_found(err):
                    raise
                self.report.outcome.not_found.append(label)
                return
            self.report.outcome.stopped.append(label)

        self.attempt(label, action)

    def delete_serving(self) -> None:
        out = self.report.outcome
        by_name = {"NameContains": self.prefix}
        endpoints = list(self.listed("list_endpoints", "Endpoints", "EndpointName", "EndpointArn", **by_name))
        for name, _ in endpoints:
            self.attempt(f"endpoint:{name}", functools.partial(self.delete_endpoint, name))
        configs = list(
            self.listed(
                "list_endpoint_configs",
                "EndpointConfigs",
                "EndpointConfigName",
                "EndpointConfigArn",
                **by_name,
            )
        )
        for name, _ in configs:
            self.attempt(
                f"endpoint-config:{name}", functools.partial(delete_endpoint_config, self.sm, name, out)
            )
        for name, _ in list(self.listed("list_models", "Models", "ModelName", "ModelArn", **by_name)):
            self.attempt(f"model:{name}", functools.partial(delete_model, self.sm, name, out))

    def delete_endpoint(self, name: str) -> None:
        # A Creating endpoint cannot be deleted yet: wait for it, but only as long as time allows.
        budget = replace(self.wait, seconds=max(0.0, self.remaining()))
        delete_endpoint(self.sm, name, budget, self.report.outcome)

    def empty_buckets(self) -> None:
        s3 = self.services.s3
        for bucket in self.target.buckets:
            self.attempt(f"bucket:{bucket} logging", functools.partial(stop_access_logging, s3, bucket))
        for bucket in self.target.buckets:
            self.attempt(f"bucket:{bucket}", functools.partial(self.empty_bucket, bucket))

    def empty_bucket(self, bucket: str) -> None:
        self.report.versions_deleted[bucket] = empty_bucket(self.services.s3, bucket, self.has_time)


def destroy(
    services: Services, target: Target, *, remaining: Callable[[], float], wait: WaitBudget
) -> DestroyReport:
    """Stop executions, then jobs; delete tagged endpoints, configs, models; empty buckets when allowed.

    `remaining()` is the time left (seconds) before the answer must be sent; `wait` says how to poll.
    """
    run = _Run(services, target, remaining, wait)
    run.attempt("executions", run.stop_executions)
    run.attempt("jobs", run.stop_jobs)
    run.attempt("serving resources", run.delete_serving)
    if target.empty_buckets:
        run.empty_buckets()
    else:
        run.report.outcome.notes.append("the stage retains its data: buckets are kept")
    return run.report
