"""What the run's instances did: every training job's billable time and the endpoint's time InService.

Read from SageMaker (data access only); contracts.costs prices it. A job or endpoint that cannot be read
becomes a note, never a failed evaluation: the metrics matter more than their price.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts.costs import Bill, EndpointUse, JobUse, in_service
from handlers.common.aws_errors import error_code

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

TRAINING_STEP = "AWS::SageMaker::TrainingJob"


def job_use(described: Mapping[str, Any], kind: str) -> JobUse:
    """DescribeTrainingJob as billed: BillableTimeInSeconds (0 before the job ran) x InstanceCount."""
    resources = described.get("ResourceConfig") or {}
    return JobUse(
        name=str(described["TrainingJobName"]),
        kind=kind,
        instance_type=resources.get("InstanceType"),
        instance_count=int(resources.get("InstanceCount") or 1),
        billable_s=float(described.get("BillableTimeInSeconds") or 0),
    )


def _describe(sm: SageMakerClient, name: str, kind: str, notes: list[str]) -> JobUse | None:
    try:
        return job_use(sm.describe_training_job(TrainingJobName=name), kind)
    except ClientError as err:
        notes.append(f"{kind} job {name}: not priced ({error_code(err)})")
        return None


def tuning_jobs(sm: SageMakerClient, tuning_job: str, notes: list[str]) -> list[JobUse]:
    """Every trial of the tuning job, described for its billable time."""
    names: list[str] = []
    try:
        for page in sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
            HyperParameterTuningJobName=tuning_job
        ):
            names += [str(j["TrainingJobName"]) for j in page.get("TrainingJobSummaries", [])]
    except ClientError as err:
        notes.append(f"tuning job {tuning_job}: trials not listed ({error_code(err)})")
    return [use for name in names if (use := _describe(sm, name, "tuning", notes))]


def autopilot_jobs(sm: SageMakerClient, automl_job: str, notes: list[str]) -> list[JobUse]:
    """The training jobs SageMaker lists as Autopilot's candidates' steps."""
    names: list[str] = []
    try:
        for page in sm.get_paginator("list_candidates_for_auto_ml_job").paginate(AutoMLJobName=automl_job):
            for candidate in page.get("Candidates", []):
                names += [
                    str(step["CandidateStepName"])
                    for step in candidate.get("CandidateSteps") or []
                    if step.get("CandidateStepType") == TRAINING_STEP
                ]
    except ClientError as err:
        notes.append(f"AutoML job {automl_job}: candidates not listed ({error_code(err)})")
    return [use for name in dict.fromkeys(names) if (use := _describe(sm, name, "autopilot", notes))]


def autopilot_duration(
    sm: SageMakerClient, automl_job: str, instance_type: str, notes: list[str]
) -> JobUse | None:
    """When SageMaker lists no training job for Autopilot: the job's own duration on one assumed instance."""
    try:
        described = sm.describe_auto_ml_job_v2(AutoMLJobName=automl_job)
    except ClientError as err:
        notes.append(f"AutoML job {automl_job}: not priced ({error_code(err)})")
        return None
    start, end = described.get("CreationTime"), described.get("EndTime") or datetime.now(UTC)
    if not isinstance(start, datetime):
        return None
    notes.append(
        f"Autopilot: SageMaker listed no training jobs for {automl_job}; priced as the job's duration on one "
        f"{instance_type} (an assumption, a floor rather than a bound)"
    )
    return JobUse(
        automl_job, "autopilot", instance_type, 1, (end - start).total_seconds(), "AutoML job duration"
    )


def endpoint_use(
    sm: SageMakerClient, endpoint: str, instance_type: str, notes: list[str], now: datetime | None = None
) -> EndpointUse | None:
    """The endpoint's instances per variant and its time InService up to `now` (it still serves)."""
    try:
        described = sm.describe_endpoint(EndpointName=endpoint)
    except ClientError as err:
        notes.append(f"endpoint {endpoint}: not priced ({error_code(err)})")
        return None
    return in_service(described, instance_type, now or datetime.now(UTC), final=False)


def run_usage(sm: SageMakerClient, run: Mapping[str, Any]) -> Bill:
    """Every job of the run and its endpoint so far."""
    names, notes = run["names"], list[str]()
    training_type = str(run["tuning"]["resource_config"]["InstanceType"])
    jobs = tuning_jobs(sm, names["tuning_job"], notes)
    autopilot = autopilot_jobs(sm, names["automl_job"], notes)
    if not autopilot:
        fallback = autopilot_duration(sm, names["automl_job"], training_type, notes)
        autopilot = [fallback] if fallback else []
    endpoint = endpoint_use(sm, names["endpoint"], str(run["endpoint"]["instance_type"]), notes)
    return Bill(jobs=[*jobs, *autopilot], endpoint=endpoint, notes=tuple(notes))
