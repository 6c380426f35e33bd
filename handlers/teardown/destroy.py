"""On stack deletion: stop executions and jobs, delete serving resources, empty buckets when allowed."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from handlers.common.aws_errors import error_code
from handlers.common.errors import STACK_DELETED
from handlers.common.json_types import JsonDict
from handlers.common.stack_resources import (
    JOBS,
    SERVING,
    Decision,
    Outcome,
    Rule,
    Selection,
    WaitBudget,
    carry_out,
    stack_resources,
)
from handlers.teardown.buckets import empty_bucket, stop_access_logging
from handlers.teardown.request import Target

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_stepfunctions import SFNClient

# The stack is going: every resource tagged with it goes too, whatever run it belongs to.
SELECTION = Selection(Rule.WHOLE_STACK)
# A job in these states may still write to the buckets (on AWS a Stopping job can too).
UNSETTLED = ("InProgress", "Stopping")
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
    # What keeps the stack from being deleted, which running teardown again can fix.
    blocking: list[str] = field(default_factory=list)

    def result(self) -> JsonDict:
        """The JSON the handler logs."""
        return {
            **self.outcome.result(),
            "versions_deleted": self.versions_deleted,
            "failures": self.failures,
            "blocking": self.blocking,
        }


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

    def delete(self, kinds: tuple[str, ...]) -> None:
        """Each kind listed in full, then each of its resources in its own attempt."""
        for kind in kinds:
            found = stack_resources(
                self.sm, kind, stack_name=self.target.stack_name, name_prefix=self.target.name_prefix
            )
            for decision in map(SELECTION.decide, list(found)):
                self.attempt(decision.resource.label, functools.partial(self.carry_out, decision))

    def carry_out(self, decision: Decision) -> None:
        # A Creating endpoint cannot be deleted yet: wait for it, but only as long as time allows.
        budget = replace(self.wait, seconds=max(0.0, self.remaining()))
        carry_out(self.sm, [decision], budget, self.report.outcome)

    def unsettled_jobs(self) -> list[str]:
        return [
            job.label
            for kind in JOBS
            for status in UNSETTLED
            for job in stack_resources(
                self.sm,
                kind,
                stack_name=self.target.stack_name,
                name_prefix=self.target.name_prefix,
                status=status,
            )
        ]

    def wait_for_jobs(self) -> None:
        """Wait until every job of the stack has ended: a stopping one may still write to the buckets."""
        interval = self.wait.first_interval
        while unsettled := self.unsettled_jobs():
            if self.remaining() <= 0:
                self.report.blocking.append(f"jobs still stopping: {', '.join(unsettled)}")
                return
            self.wait.sleep(min(interval, max(0.0, self.remaining())))
            interval = min(interval * 2, self.wait.max_interval)

    def empty_buckets(self) -> None:
        s3 = self.services.s3
        for bucket in self.target.buckets:
            self.attempt(f"bucket:{bucket} logging", functools.partial(stop_access_logging, s3, bucket))
        for bucket in self.target.buckets:
            label = f"bucket:{bucket}"
            self.attempt(label, functools.partial(self.empty_bucket, bucket))
            if any(failure.startswith(f"{label}:") for failure in self.report.failures):
                self.report.blocking.append(f"{label} is not empty")

    def empty_bucket(self, bucket: str) -> None:
        self.report.versions_deleted[bucket] = empty_bucket(self.services.s3, bucket, self.has_time)


def destroy(
    services: Services, target: Target, *, remaining: Callable[[], float], wait: WaitBudget
) -> DestroyReport:
    """Stop executions and the stack's jobs; delete its endpoints, configs, models; empty buckets if allowed.

    `remaining()` is the time left (seconds) before the answer must be sent; `wait` says how to poll.
    """
    run = _Run(services, target, remaining, wait)
    run.attempt("executions", run.stop_executions)
    # Tuning trials stop with their tuning job; training jobs are listed for any other job of ours.
    run.attempt("jobs", functools.partial(run.delete, JOBS))
    run.attempt("serving resources", functools.partial(run.delete, SERVING))
    if target.empty_buckets:
        run.attempt("jobs ending", run.wait_for_jobs)
        run.empty_buckets()
    else:
        run.report.outcome.notes.append("the stage retains its data: buckets are kept")
    return run.report
