"""The stack's SageMaker resources: found by its tag, owned by runs, expiring, and deleted in order."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts.names import RunNames, run_names
from contracts.tags import EXPIRES_TAG, RUN_TAG, STACK_TAG
from handlers.common.aws_errors import error_code, error_message, is_not_found
from handlers.common.errors import EndpointNotDeletable
from handlers.common.json_types import JsonDict

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_stepfunctions import SFNClient

# The order they go in: running jobs stop first (so they create nothing more), then the endpoint (it
# pins its config), the endpoint config (it pins its models), the models.
JOBS = ("tuning-job", "automl-job", "training-job")
SERVING = ("endpoint", "endpoint-config", "model")
ORDER = (*JOBS, *SERVING)
# Endpoint states in which DeleteEndpoint is refused: wait for them to settle.
BUSY = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})


class Rule(StrEnum):
    """Which of the stack's resources a caller deletes; each caller applies exactly one."""

    THIS_RUN = "this run's resources"  # the run's own Cleanup, by the names its execution derives
    WHOLE_STACK = "every resource of the stack"  # the stack's teardown on `cdk destroy`
    EXPIRED_AND_UNOWNED = "expired and unowned"  # the scheduled sweeper (endpoints)
    UNOWNED = "unowned"  # `mlstack sweep`


@dataclass(frozen=True)
class Resource:
    """One SageMaker resource, with what its listing and its tags say about it."""

    kind: str  # one of ORDER
    name: str
    run_id: str | None = None  # its mlstack:run tag
    expires: datetime | None = None  # its mlstack:expires tag; None when absent or malformed
    status: str | None = None  # as listed; None: described when it matters
    arn: str = ""

    @property
    def label(self) -> str:
        """'<kind>:<name>', as every report names it."""
        return f"{self.kind}:{self.name}"


# --- finding them -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Api:
    """SageMaker's operations and fields for one kind (Describe*/Stop* for jobs only)."""

    list: str
    key: str
    name: str  # the summary's name field, which is also Describe*'s and Stop*'s parameter
    arn: str
    status: str = ""
    describe: str = ""
    stop: str = ""


_API = {
    "tuning-job": _Api(
        "list_hyper_parameter_tuning_jobs",
        "HyperParameterTuningJobSummaries",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobArn",
        "HyperParameterTuningJobStatus",
        "describe_hyper_parameter_tuning_job",
        "stop_hyper_parameter_tuning_job",
    ),
    "automl-job": _Api(
        "list_auto_ml_jobs",
        "AutoMLJobSummaries",
        "AutoMLJobName",
        "AutoMLJobArn",
        "AutoMLJobStatus",
        "describe_auto_ml_job_v2",
        "stop_auto_ml_job",
    ),
    "training-job": _Api(
        "list_training_jobs",
        "TrainingJobSummaries",
        "TrainingJobName",
        "TrainingJobArn",
        "TrainingJobStatus",
        "describe_training_job",
        "stop_training_job",
    ),
    "endpoint": _Api("list_endpoints", "Endpoints", "EndpointName", "EndpointArn", "EndpointStatus"),
    "endpoint-config": _Api(
        "list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", "EndpointConfigArn"
    ),
    "model": _Api("list_models", "Models", "ModelName", "ModelArn"),
}


# ValidateInput writes the tags into run.tags; the state machine attaches them to every job, model and
# endpoint it creates.
def tags_of(sm: SageMakerClient, arn: str) -> dict[str, str]:
    """Every tag of one SageMaker resource (paginated)."""
    tags: dict[str, str] = {}
    for page in sm.get_paginator("list_tags").paginate(ResourceArn=arn):
        tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
    return tags


def parse_expires(value: str | None) -> datetime | None:
    """An `mlstack:expires` value (ISO 8601, UTC) as an aware datetime; None when absent or malformed."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # A value without an offset is read as UTC, which is what ValidateInput writes.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def listed(
    sm: SageMakerClient, kind: str, *, name_prefix: str | None = None, status: str = "InProgress"
) -> Iterator[Resource]:
    """Every resource of `kind` (jobs: in `status`), named `<name_prefix>-...` when a prefix is given.

    Their tags are not read: `stack_resources` keeps those of the stack.
    """
    api = _API[kind]
    params: dict[str, str] = {}
    if name_prefix is not None:
        params["NameContains"] = f"{name_prefix}-"
    if kind in JOBS:
        params["StatusEquals"] = status  # by default running: only those have anything to stop
    for page in sm.get_paginator(api.list).paginate(**params):  # type: ignore[call-overload]
        for item in page.get(api.key, []):
            if name_prefix is None or item[api.name].startswith(f"{name_prefix}-"):
                found = item.get(api.status) if api.status else None
                yield Resource(kind, item[api.name], status=found, arn=item[api.arn])


def stack_resources(
    sm: SageMakerClient,
    kind: str,
    *,
    stack_name: str,
    name_prefix: str | None = None,
    unreadable: list[str] | None = None,
    status: str = "InProgress",
) -> Iterator[Resource]:
    """The listed resources tagged mlstack:stack=<stack_name>, with their run and expiry, lazily.

    One deleted since it was listed is skipped. Tags that cannot be read raise, unless `unreadable`
    is given: then the resource is named there and skipped. Jobs are those in `status`.
    """
    for resource in listed(sm, kind, name_prefix=name_prefix, status=status):
        try:
            tags = tags_of(sm, resource.arn)
        except ClientError as err:
            if is_not_found(err):
                continue
            if unreadable is None:
                raise
            unreadable.append(f"{resource.label}: cannot read tags ({error_code(err)})")
            continue
        if tags.get(STACK_TAG) == stack_name:
            yield replace(resource, run_id=tags.get(RUN_TAG), expires=parse_expires(tags.get(EXPIRES_TAG)))


def run_resources(names: RunNames) -> list[Resource]:
    """One run's jobs and serving resources, by the names its execution derives (nothing is listed)."""
    return [
        Resource(kind, name, names.run_id)
        for kind, name in (
            ("tuning-job", names.tuning_job),
            ("automl-job", names.automl_job),
            ("endpoint", names.endpoint),
            ("endpoint-config", names.endpoint_config),
            ("model", names.tuning_model),
            ("model", names.autopilot_model),
        )
    ]


def serving_of(sm: SageMakerClient, endpoint: Resource, name_prefix: str) -> list[Resource]:
    """The endpoint, the config it uses and that config's models; of those two, ours only."""
    try:
        config = sm.describe_endpoint(EndpointName=endpoint.name)["EndpointConfigName"]
    except ClientError as err:
        if is_not_found(err):
            return [endpoint]
        raise
    models: list[str] = []
    try:
        variants = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
        models = [v["ModelName"] for v in variants if v.get("ModelName")]
    except ClientError as err:
        if not is_not_found(err):
            raise
    # Other configs and models are not the stack's to delete (and its roles may not touch them).
    ours = f"{name_prefix}-"
    found = [endpoint]
    if config.startswith(ours):
        found.append(Resource("endpoint-config", config, endpoint.run_id))
    found += [Resource("model", m, endpoint.run_id) for m in dict.fromkeys(models) if m.startswith(ours)]
    return found


# --- who owns them ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Running:
    """The runs whose execution is still RUNNING: their resources are in use."""

    run_ids: frozenset[str] = frozenset()
    names: Mapping[str, str] = field(default_factory=dict)  # each name those runs derive → its run id

    @classmethod
    def of(cls, runs: Iterable[RunNames]) -> Running:
        """The running runs, from the names their executions derive."""
        runs = list(runs)
        names = {name: r.run_id for r in runs for key, name in r.as_dict().items() if key != "run_id"}
        return cls(frozenset(r.run_id for r in runs), names)

    def owner(self, resource: Resource) -> str | None:
        """The running run the resource belongs to, by its mlstack:run tag or by its derived name."""
        if resource.run_id in self.run_ids:
            return resource.run_id
        return self.names.get(resource.name)


def running_runs(sfn: SFNClient, *, name_prefix: str, state_machine_arn: str) -> Running:
    """The runs of the state machine's RUNNING executions (none when the state machine is gone)."""
    runs: list[RunNames] = []
    try:
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=state_machine_arn, statusFilter="RUNNING"
        )
        for page in pages:
            for execution in page.get("executions", []):
                try:
                    runs.append(run_names(name_prefix, state_machine_arn, execution["name"]))
                except ValueError:
                    continue  # ValidateInput rejects such names before anything exists
    except ClientError as err:
        if error_code(err) != "StateMachineDoesNotExist":
            raise
    return Running.of(runs)


# --- which ones go ----------------------------------------------------------------------------------

KEEP_ENDPOINT = "keep_endpoint is set: the endpoint stays until its mlstack:expires tag passes (sweeper)"


@dataclass(frozen=True)
class Decision:
    """Whether a resource goes, and why."""

    resource: Resource
    delete: bool
    reason: str
    expired: bool | None = None  # under the expiry rule: its mlstack:expires passed (None: no valid tag)
    owner: str | None = None  # the running run that owns it, when one does


@dataclass(frozen=True)
class Selection:
    """A caller's rule, with what applying it needs."""

    rule: Rule
    running: Running = field(default_factory=Running)
    now: datetime | None = None  # the expiry rule compares mlstack:expires with it
    keep_serving: bool = False  # this run's endpoint, config and models stay (keep_endpoint)

    def decide(self, resource: Resource) -> Decision:
        """Delete or keep `resource`, with the reason."""
        if self.rule is Rule.WHOLE_STACK:
            return Decision(resource, True, "the stack is being deleted")
        if self.rule is Rule.THIS_RUN:
            if self.keep_serving and resource.kind in SERVING:
                return Decision(resource, False, KEEP_ENDPOINT)
            return Decision(resource, True, "this run's resource")
        expired: bool | None = None
        if self.rule is Rule.EXPIRED_AND_UNOWNED:
            if self.now is None:
                raise ValueError("the expiry rule needs the time to compare mlstack:expires with")
            if resource.expires is None:
                # Every resource the pipeline creates has the tag; without it the TTL is unknown.
                return Decision(resource, False, f"no valid {EXPIRES_TAG} tag: left alone")
            expired = resource.expires <= self.now
            if not expired:
                return Decision(resource, False, f"its {EXPIRES_TAG} has not passed", expired)
        owner = self.running.owner(resource)
        if owner is not None:
            return Decision(resource, False, f"run {owner} is still running", expired, owner)
        return Decision(resource, True, "no running execution owns it", expired)


# --- deleting them ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What was done, resource by resource ('<kind>:<name>')."""

    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def result(self) -> JsonDict:
        """The JSON the caller receives."""
        return {
            "deleted": self.deleted,
            "kept": self.kept,
            "stopped": self.stopped,
            "not_found": self.not_found,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class WaitBudget:
    """How long to wait for a busy endpoint, and how (injectable for tests)."""

    seconds: float
    # Short first polls (a local endpoint settles in seconds), then at most every 15 s.
    first_interval: float = 2.0
    max_interval: float = 15.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


NO_WAIT = WaitBudget(seconds=0.0)


def carry_out(
    sm: SageMakerClient, decisions: Iterable[Decision], budget: WaitBudget, out: Outcome | None = None
) -> Outcome:
    """Stop or delete what the decisions select, in ORDER; the rest is kept, each reason noted once.

    The first failure raises and leaves what follows for a retry: an endpoint still busy when the
    budget runs out raises EndpointNotDeletable before its config and models are touched.
    """
    out = out if out is not None else Outcome()
    for decision in sorted(decisions, key=lambda d: ORDER.index(d.resource.kind)):
        if decision.delete:
            remove(sm, decision.resource, budget, out)
        else:
            out.kept.append(decision.resource.label)
            if decision.reason not in out.notes:
                out.notes.append(decision.reason)
    return out


def remove(sm: SageMakerClient, resource: Resource, budget: WaitBudget, out: Outcome) -> None:
    """Stop a running job, or delete an endpoint (waiting within `budget` while busy), config or model.

    A resource that is already gone is recorded as not found: success.
    """
    if resource.kind in JOBS:
        _stop(sm, resource, out)
    elif resource.kind == "endpoint":
        _delete_endpoint(sm, resource, budget, out)
    else:
        try:
            if resource.kind == "endpoint-config":
                sm.delete_endpoint_config(EndpointConfigName=resource.name)
            else:
                sm.delete_model(ModelName=resource.name)
            out.deleted.append(resource.label)
        except ClientError as err:
            if not is_not_found(err):
                raise
            out.not_found.append(resource.label)


def _stop(sm: SageMakerClient, job: Resource, out: Outcome) -> None:
    api = _API[job.kind]
    client: Any = sm
    try:
        # A listed job's status is known; one found by name is described first.
        status = job.status or getattr(client, api.describe)(**{api.name: job.name})[api.status]
        if status == "InProgress":
            getattr(client, api.stop)(**{api.name: job.name})
            out.stopped.append(job.label)
    except ClientError as err:
        if not is_not_found(err):
            raise
        out.not_found.append(job.label)


def _in_progress(err: ClientError) -> bool:
    # SageMaker refuses to delete a busy endpoint with ValidationException "Cannot delete in-progress ...".
    return error_code(err) == "ValidationException" and "in-progress" in error_message(err).lower()


def _delete_endpoint(sm: SageMakerClient, endpoint: Resource, budget: WaitBudget, out: Outcome) -> None:
    """Delete the endpoint, waiting within the budget while it is busy; EndpointNotDeletable if it stays."""
    name, label = endpoint.name, endpoint.label
    deadline = budget.clock() + budget.seconds
    interval = budget.first_interval
    while True:
        status: str
        try:
            status = sm.describe_endpoint(EndpointName=name)["EndpointStatus"]
            if status == "Deleting":
                out.deleted.append(label)
                return
            if status not in BUSY:
                sm.delete_endpoint(EndpointName=name)
                out.deleted.append(label)
                return
        except ClientError as err:
            if is_not_found(err):
                out.not_found.append(label)
                return
            if not _in_progress(err):
                raise
            status = "in progress"
        remaining = deadline - budget.clock()
        if remaining <= 0:
            raise EndpointNotDeletable(
                f"endpoint {name} is still {status} after waiting {budget.seconds:.0f} s; "
                "it cannot be deleted before it settles - Cleanup is retried"
            )
        budget.sleep(min(interval, remaining))
        interval = min(interval * 2, budget.max_interval)
