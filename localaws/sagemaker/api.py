"""The SageMaker and SageMaker Runtime actions, installed as handlers on moto's response classes.

Each handler replaces moto's method of the same name (checked to still take only `self`), or adds
the action where moto lacks it (`moto_lacks=True`: install fails once moto implements it). All of it
goes through localaws.patches._patching, so `revert_all()` gives back moto as shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from localaws.patches._patching import add, replace
from localaws.sagemaker import automl, endpoints, faults, jobs, listing, tuning
from localaws.sagemaker.common import ValidationException
from localaws.sagemaker.models import backend

Handler = Callable[[Any], Any]
# moto's dispatch name (snake case) -> our handler.
HANDLERS: dict[str, Handler] = {}
# The dispatch names of the actions moto 5.2.5 does not implement at all.
MOTO_LACKS: set[str] = set()
# What every moto response method we replace takes.
RESPONSE_METHOD = ["self"]
Impl = Callable[[Any, dict[str, Any]], Any]


def action(name: str, *, moto_lacks: bool = False) -> Callable[[Impl], Impl]:
    """Register `fn(response, params)` as the handler of the SageMaker action `name`."""

    def register(fn: Impl) -> Impl:
        def handler(self: Any) -> Any:
            faults.raise_injected(name)
            result = fn(self, dict(self.params or {}))
            return EmptyResult() if result is None else ActionResult(result)

        handler.__name__ = _snake(name)
        HANDLERS[_snake(name)] = handler
        if moto_lacks:
            MOTO_LACKS.add(_snake(name))
        return fn

    return register


def _snake(name: str) -> str:
    # Must match moto's camelcase_to_underscores: CreateAutoMLJobV2 -> create_auto_ml_job_v2.
    from moto.core.utils import camelcase_to_underscores

    return str(camelcase_to_underscores(name))


def _where(r: Any) -> tuple[str, str]:
    return r.current_account, r.region


# --- training jobs ---------------------------------------------------------------------------
@action("CreateTrainingJob")
def _create_training_job(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return {"TrainingJobArn": jobs.create(*_where(r), p).arn}


@action("DescribeTrainingJob")
def _describe_training_job(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return jobs.get(*_where(r), p.get("TrainingJobName", "")).describe()


@action("StopTrainingJob", moto_lacks=True)
def _stop_training_job(r: Any, p: dict[str, Any]) -> None:
    job = jobs.get(*_where(r), p.get("TrainingJobName", ""))
    if not job.request_stop("user"):
        raise ValidationException(f"The job status is {job.status}. Only InProgress jobs can be stopped.")


@action("ListTrainingJobs")
def _list_training_jobs(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    items = [j.summary() for j in backend(*_where(r)).training_jobs.all()]
    chunk, token = listing.page(
        items,
        p,
        name_key="TrainingJobName",
        status_key="TrainingJobStatus",
        sort_keys={"Name": "TrainingJobName", "CreationTime": "CreationTime", "Status": "TrainingJobStatus"},
    )
    return {"TrainingJobSummaries": chunk, "NextToken": token}


# --- tuning jobs -----------------------------------------------------------------------------
@action("CreateHyperParameterTuningJob")
def _create_tuning_job(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return {"HyperParameterTuningJobArn": tuning.create(*_where(r), p).arn}


@action("DescribeHyperParameterTuningJob")
def _describe_tuning_job(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return tuning.get(*_where(r), p.get("HyperParameterTuningJobName", "")).describe()


@action("StopHyperParameterTuningJob", moto_lacks=True)
def _stop_tuning_job(r: Any, p: dict[str, Any]) -> None:
    job = tuning.get(*_where(r), p.get("HyperParameterTuningJobName", ""))
    if not job.request_stop():
        raise ValidationException(
            f"The hyperparameter tuning job status is {job.status}; it cannot be stopped."
        )


@action("DeleteHyperParameterTuningJob")
def _delete_tuning_job(r: Any, p: dict[str, Any]) -> None:
    job = tuning.get(*_where(r), p.get("HyperParameterTuningJobName", ""))
    if job.status not in tuning.TERMINAL:
        raise ValidationException("Only a tuning job in a terminal state can be deleted.")
    backend(*_where(r)).tuning_jobs.remove(job.name)


@action("ListHyperParameterTuningJobs")
def _list_tuning_jobs(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    items = [j.summary() for j in backend(*_where(r)).tuning_jobs.all()]
    chunk, token = listing.page(
        items,
        p,
        name_key="HyperParameterTuningJobName",
        status_key="HyperParameterTuningJobStatus",
        sort_keys={
            "Name": "HyperParameterTuningJobName",
            "CreationTime": "CreationTime",
            "Status": "HyperParameterTuningJobStatus",
        },
        default_sort="Name",
        default_order="Ascending",
    )
    return {"HyperParameterTuningJobSummaries": chunk, "NextToken": token}


@action("ListTrainingJobsForHyperParameterTuningJob", moto_lacks=True)
def _list_trials(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    job = tuning.get(*_where(r), p.get("HyperParameterTuningJobName", ""))
    chunk, token = listing.page(
        job.trial_summaries(),
        p,
        name_key="TrainingJobName",
        status_key="TrainingJobStatus",
        sort_keys={
            "Name": "TrainingJobName",
            "CreationTime": "CreationTime",
            "Status": "TrainingJobStatus",
            "FinalObjectiveMetricValue": "FinalHyperParameterTuningJobObjectiveMetric.Value",
        },
        default_sort="Name",
        default_order="Ascending",
    )
    return {"TrainingJobSummaries": chunk, "NextToken": token}


# --- AutoML ----------------------------------------------------------------------------------
@action("CreateAutoMLJobV2")
def _create_automl_job(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return {"AutoMLJobArn": automl.create(*_where(r), p).arn}


@action("DescribeAutoMLJobV2")
def _describe_automl_job_v2(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return automl.get(*_where(r), p.get("AutoMLJobName", "")).describe()


@action("DescribeAutoMLJob", moto_lacks=True)
def _describe_automl_job(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return automl.get(*_where(r), p.get("AutoMLJobName", "")).describe_v1()


@action("StopAutoMLJob")
def _stop_automl_job(r: Any, p: dict[str, Any]) -> None:
    automl.get(*_where(r), p.get("AutoMLJobName", "")).request_stop()


@action("ListAutoMLJobs")
def _list_automl_jobs(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    items = [j.summary() for j in backend(*_where(r)).automl_jobs.all()]
    chunk, token = listing.page(
        items,
        p,
        name_key="AutoMLJobName",
        status_key="AutoMLJobStatus",
        sort_keys={"Name": "AutoMLJobName", "CreationTime": "CreationTime", "Status": "AutoMLJobStatus"},
    )
    return {"AutoMLJobSummaries": chunk, "NextToken": token}


@action("ListCandidatesForAutoMLJob", moto_lacks=True)
def _list_candidates(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    job = automl.get(*_where(r), p.get("AutoMLJobName", ""))
    items = job.candidates()
    if p.get("CandidateNameEquals"):
        items = [c for c in items if c["CandidateName"] == p["CandidateNameEquals"]]
    chunk, token = listing.page(
        items,
        p,
        name_key="CandidateName",
        status_key="CandidateStatus",
        sort_keys={
            "CreationTime": "CreationTime",
            "Status": "CandidateStatus",
            "FinalObjectiveMetricValue": "FinalAutoMLJobObjectiveMetric.Value",
        },
        default_sort="CreationTime",
        default_order="Ascending",
    )
    return {"Candidates": chunk, "NextToken": token}


# --- models, endpoint configs, endpoints -----------------------------------------------------
@action("CreateModel")
def _create_model(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return {"ModelArn": endpoints.create_model(*_where(r), p).arn}


@action("DescribeModel")
def _describe_model(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return endpoints.get_model(*_where(r), p.get("ModelName", "")).describe()


@action("DeleteModel")
def _delete_model(r: Any, p: dict[str, Any]) -> None:
    endpoints.delete_model(*_where(r), p.get("ModelName", ""))


@action("ListModels")
def _list_models(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    items = [m.summary() for m in backend(*_where(r)).models.all()]
    chunk, token = listing.page(items, p, name_key="ModelName")
    return {"Models": chunk, "NextToken": token}


@action("CreateEndpointConfig")
def _create_endpoint_config(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return {"EndpointConfigArn": endpoints.create_endpoint_config(*_where(r), p).arn}


@action("DescribeEndpointConfig")
def _describe_endpoint_config(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return endpoints.get_endpoint_config(*_where(r), p.get("EndpointConfigName", "")).describe()


@action("DeleteEndpointConfig")
def _delete_endpoint_config(r: Any, p: dict[str, Any]) -> None:
    endpoints.delete_endpoint_config(*_where(r), p.get("EndpointConfigName", ""))


@action("ListEndpointConfigs")
def _list_endpoint_configs(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    items = [c.summary() for c in backend(*_where(r)).endpoint_configs.all()]
    chunk, token = listing.page(items, p, name_key="EndpointConfigName")
    return {"EndpointConfigs": chunk, "NextToken": token}


@action("CreateEndpoint")
def _create_endpoint(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return {"EndpointArn": endpoints.create_endpoint(*_where(r), p).arn}


@action("UpdateEndpoint", moto_lacks=True)
def _update_endpoint(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    endpoint = endpoints.update_endpoint(
        *_where(r), p.get("EndpointName", ""), p.get("EndpointConfigName", "")
    )
    return {"EndpointArn": endpoint.arn}


@action("DescribeEndpoint")
def _describe_endpoint(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    return endpoints.get_endpoint(*_where(r), p.get("EndpointName", "")).describe()


@action("DeleteEndpoint")
def _delete_endpoint(r: Any, p: dict[str, Any]) -> None:
    endpoints.delete_endpoint(*_where(r), p.get("EndpointName", ""))


@action("ListEndpoints")
def _list_endpoints(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    items = [e.summary() for e in backend(*_where(r)).endpoints.all()]
    chunk, token = listing.page(
        items,
        p,
        name_key="EndpointName",
        status_key="EndpointStatus",
        sort_keys={"Name": "EndpointName", "CreationTime": "CreationTime", "Status": "EndpointStatus"},
    )
    return {"Endpoints": chunk, "NextToken": token}


# --- tags: our resources have lower-cased ARNs, as SageMaker's do ----------------------------
@action("AddTags")
def _add_tags(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    item = backend(*_where(r)).tagged(p.get("ResourceArn", ""))
    new = {t["Key"]: t["Value"] for t in p.get("Tags") or []}
    item.tags = [t for t in item.tags if t["Key"] not in new] + [
        {"Key": k, "Value": v} for k, v in new.items()
    ]
    return {"Tags": item.tags}


@action("ListTags")
def _list_tags(r: Any, p: dict[str, Any]) -> dict[str, Any]:
    item = backend(*_where(r)).tagged(p.get("ResourceArn", ""))
    start = int(p.get("NextToken") or 0)
    limit = int(p.get("MaxResults") or 50)
    tags = list(item.tags)
    token = str(start + limit) if start + limit < len(tags) else None
    return {"Tags": tags[start : start + limit], "NextToken": token}


@action("DeleteTags")
def _delete_tags(r: Any, p: dict[str, Any]) -> None:
    item = backend(*_where(r)).tagged(p.get("ResourceArn", ""))
    keys = set(p.get("TagKeys") or [])
    item.tags = [t for t in item.tags if t["Key"] not in keys]


# --- SageMaker Runtime -----------------------------------------------------------------------
def _invoke_endpoint(self: Any) -> tuple[int, dict[str, str], bytes]:
    faults.raise_injected("InvokeEndpoint")
    name = self.path.split("/")[2]
    headers = {k.lower(): v for k, v in self.headers.items()}
    body, content_type, variant = endpoints.invoke(
        self.current_account,
        self.region,
        name,
        self.raw_body if isinstance(self.raw_body, bytes) else str(self.raw_body or "").encode(),
        headers.get("content-type", "text/csv"),
        headers.get("accept", ""),  # none: the model's container answers with its own default
        headers.get("x-amzn-sagemaker-target-variant"),
    )
    return 200, {"Content-Type": content_type, "x-Amzn-Invoked-Production-Variant": variant}, body


def install() -> None:
    """Put our handlers on moto's response classes (idempotent: reinstalling changes nothing)."""
    for name, handler in HANDLERS.items():
        if name in MOTO_LACKS:
            add(SageMakerResponse, name, handler)
        else:
            replace(SageMakerResponse, name, handler, expects=RESPONSE_METHOD)
    replace(SageMakerRuntimeResponse, "invoke_endpoint", _invoke_endpoint, expects=RESPONSE_METHOD)
