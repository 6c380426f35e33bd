"""AutoML V2 (tabular) jobs: a real AutoGluon search in a job process, candidates servable by serve.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import tarfile
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from contracts.dataset_layout import AUTOPILOT_MIN_ROWS
from contracts.reports import (
    EXPLAINABILITY_FILE,
    MODEL_INSIGHTS_FILE,
    CandidateExplainability,
    CandidateInsights,
)
from localaws.iam.as_role import authorize_volume_key
from localaws.iam.authorizer import AccessDeniedError
from localaws.sagemaker import faults, procs, s3io
from localaws.sagemaker.common import (
    OutputGate,
    StoppedError,
    ValidationException,
    arn,
    drop_none,
    seed_from,
    utcnow,
)
from localaws.sagemaker.jobs import TrainingJob
from localaws.sagemaker.models import backend
from localaws.sagemaker.names import validate_name
from training.container import DEFAULT_BASE_DIR, Paths

# The local default budget: Autopilot's own default (30 days) would make no sense here.
DEFAULT_TIME_LIMIT_S = float(os.environ.get("MLSTACK_AUTOML_TIME_LIMIT_S", "30"))
DEFAULT_MAX_CANDIDATES = 9
# What Autopilot names for ENSEMBLING candidates' container; serve.py recognises the manifest.
INFERENCE_IMAGE = "763104351884.dkr.ecr.{region}.amazonaws.com/autogluon-inference:1.6-cpu-py311"
TRAINING_IMAGE = "763104351884.dkr.ecr.{region}.amazonaws.com/autogluon-training:1.6-cpu-py311"
# SageMaker picks Autopilot's instances itself; the local candidates' training jobs say the stages'
# training instance type, which is also what a run's cost bound assumes for Autopilot.
CANDIDATE_INSTANCE_TYPE = "ml.m5.xlarge"
MAX_HYPERPARAMETERS = 100  # CreateTrainingJob's HyperParameters map holds at most 100 entries
# MetricDatum.MetricName's names (botocore's AutoMLMetricEnum); StandardMetricName takes more.
METRIC_NAMES = frozenset(
    {
        "Accuracy",
        "MSE",
        "F1",
        "F1macro",
        "AUC",
        "RMSE",
        "BalancedAccuracy",
        "R2",
        "Recall",
        "RecallMacro",
        "Precision",
        "PrecisionMacro",
        "MAE",
        "MAPE",
        "MASE",
        "WAPE",
        "AverageWeightedQuantileLoss",
    }
)
MINIMIZED = {"MSE", "RMSE", "MAE", "MAPE", "LogLoss"}
# Of MaxAutoMLJobRuntimeInSeconds, what the search may use; the rest is for uploading its candidates.
SEARCH_SHARE = 0.85


class AutoMLJob:
    def __init__(self, account_id: str, region: str, request: dict[str, Any]) -> None:
        self.account_id = account_id
        self.region = region
        self.request = request
        self.name: str = request["AutoMLJobName"]
        self.arn = arn(account_id, region, "automl-job", self.name)
        self.tags: list[dict[str, str]] = list(request.get("Tags") or [])
        self.tabular: dict[str, Any] = (request.get("AutoMLProblemTypeConfig") or {}).get(
            "TabularJobConfig"
        ) or {}
        self.lock = threading.RLock()
        self.done = threading.Event()
        self.status = "InProgress"
        self.secondary = "Starting"
        self.failure_reason: str | None = None
        self.creation_time = self.last_modified = utcnow()
        self.end_time: Any = None
        self.problem_type: str | None = self.tabular.get("ProblemType")
        self.objective: str | None = (request.get("AutoMLJobObjective") or {}).get("MetricName")
        self._candidates: list[dict[str, Any]] = []
        self.stop_requested = False
        self.output = OutputGate()
        self.proc: procs.Worker | None = None
        self.log_tail: deque[str] = deque(maxlen=100)

    # --- views -------------------------------------------------------------------------------
    def candidates(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self._candidates]

    def best(self) -> dict[str, Any] | None:
        cands = self.candidates()
        if not cands:
            return None
        minimize = (self.objective or "") in MINIMIZED
        return (min if minimize else max)(cands, key=lambda c: c["FinalAutoMLJobObjectiveMetric"]["Value"])

    def _completion(self) -> dict[str, Any]:
        criteria = dict(self.tabular.get("CompletionCriteria") or {})
        criteria.setdefault("MaxCandidates", DEFAULT_MAX_CANDIDATES)
        criteria.setdefault("MaxAutoMLJobRuntimeInSeconds", int(DEFAULT_TIME_LIMIT_S))
        return criteria

    def describe(self) -> dict[str, Any]:
        best = self.best()
        out = (self.request.get("OutputDataConfig") or {}).get("S3OutputPath", "").rstrip("/")
        notebooks = f"{out}/{self.name}/sagemaker-automl-candidates/notebooks"
        with self.lock:
            resolved: dict[str, Any] = {"CompletionCriteria": self._completion()}
            if self.objective:
                resolved["AutoMLJobObjective"] = {"MetricName": self.objective}
            if self.problem_type:
                resolved["AutoMLProblemTypeResolvedAttributes"] = {
                    "TabularResolvedAttributes": {"ProblemType": self.problem_type}
                }
            return drop_none(
                {
                    "AutoMLJobName": self.name,
                    "AutoMLJobArn": self.arn,
                    "AutoMLJobInputDataConfig": self.request.get("AutoMLJobInputDataConfig"),
                    "OutputDataConfig": self.request.get("OutputDataConfig"),
                    "RoleArn": self.request.get("RoleArn"),
                    "AutoMLJobObjective": {"MetricName": self.objective} if self.objective else None,
                    "AutoMLProblemTypeConfig": self.request.get("AutoMLProblemTypeConfig"),
                    "AutoMLProblemTypeConfigName": "Tabular",
                    "CreationTime": self.creation_time,
                    "EndTime": self.end_time,
                    "LastModifiedTime": self.last_modified,
                    "FailureReason": self.failure_reason,
                    "BestCandidate": best,
                    "AutoMLJobStatus": self.status,
                    "AutoMLJobSecondaryStatus": self.secondary,
                    "AutoMLJobArtifacts": {"DataExplorationNotebookLocation": f"{notebooks}/"}
                    if best
                    else None,
                    "ResolvedAttributes": resolved,
                    "DataSplitConfig": self.request.get("DataSplitConfig"),
                    "SecurityConfig": self.request.get("SecurityConfig"),
                }
            )

    def describe_v1(self) -> dict[str, Any]:
        d = self.describe()
        v1 = {k: d[k] for k in d if k not in ("AutoMLProblemTypeConfig", "AutoMLProblemTypeConfigName")}
        v1["InputDataConfig"] = [
            {
                "DataSource": c.get("DataSource"),
                "TargetAttributeName": self.tabular.get("TargetAttributeName"),
                "ChannelType": c.get("ChannelType", "training"),
            }
            for c in self.request.get("AutoMLJobInputDataConfig") or []
        ]
        v1.pop("AutoMLJobInputDataConfig", None)
        v1["AutoMLJobConfig"] = {"CompletionCriteria": self._completion(), "Mode": "ENSEMBLING"}
        if self.problem_type:
            v1["ProblemType"] = self.problem_type
        resolved = d.get("ResolvedAttributes", {})
        v1["ResolvedAttributes"] = drop_none(
            {
                "AutoMLJobObjective": resolved.get("AutoMLJobObjective"),
                "ProblemType": self.problem_type,
                "CompletionCriteria": resolved.get("CompletionCriteria"),
            }
        )
        return v1

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return drop_none(
                {
                    "AutoMLJobName": self.name,
                    "AutoMLJobArn": self.arn,
                    "AutoMLJobStatus": self.status,
                    "AutoMLJobSecondaryStatus": self.secondary,
                    "CreationTime": self.creation_time,
                    "EndTime": self.end_time,
                    "LastModifiedTime": self.last_modified,
                    "FailureReason": self.failure_reason,
                }
            )

    # --- transitions -------------------------------------------------------------------------
    def set_secondary(self, status: str) -> None:
        with self.lock:
            if self.output.closed:  # stopping: the worker's last words do not change that
                return
            self.secondary = status
            self.last_modified = utcnow()

    def finish(self, status: str, secondary: str, reason: str | None = None) -> None:
        with self.lock:
            if self.output.closed:  # a stopped job ends Stopped, whatever its runner saw last
                status, secondary, reason = "Stopped", "Stopped", None
            self.status = status
            self.secondary = secondary
            self.failure_reason = reason[:1024] if reason else None
            self.end_time = self.last_modified = utcnow()
        self.done.set()

    def request_stop(self) -> None:
        """Stop the job: its worker is killed and it writes nothing more to S3."""
        with self.lock:
            if self.status != "InProgress":
                return
            self.output.close()
            self.stop_requested = True
            self.status = "Stopping"
            self.secondary = "Stopping"
            self.last_modified = utcnow()
            proc = self.proc
        if proc is not None:
            threading.Thread(target=procs.terminate, args=(proc,), daemon=True).start()


# --- API -------------------------------------------------------------------------------------
def create(account_id: str, region: str, request: dict[str, Any]) -> AutoMLJob:
    name = validate_name("autoMLJobName", request.get("AutoMLJobName"))
    config = (request.get("AutoMLProblemTypeConfig") or {}).get("TabularJobConfig")
    if not config:
        raise ValidationException("The local SageMaker supports AutoML V2 jobs with a TabularJobConfig only.")
    if not config.get("TargetAttributeName"):
        raise ValidationException("TabularJobConfig.TargetAttributeName is required.")
    channels = request.get("AutoMLJobInputDataConfig") or []
    if not any(c.get("ChannelType", "training") == "training" for c in channels):
        raise ValidationException("AutoMLJobInputDataConfig needs a channel of type training.")
    if not (request.get("OutputDataConfig") or {}).get("S3OutputPath"):
        raise ValidationException("OutputDataConfig.S3OutputPath is required.")
    job = backend(account_id, region).automl_jobs.add(AutoMLJob(account_id, region, request))
    threading.Thread(target=run, args=(job,), name=f"automl-{name}", daemon=True).start()
    return job


def get(account_id: str, region: str, name: str) -> AutoMLJob:
    return backend(account_id, region).automl_jobs.lookup(name)


# --- the runner ------------------------------------------------------------------------------
def run(job: AutoMLJob) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"mlstack-automl-{job.name}-"))
    try:
        _run(job, workdir)
    except Exception as err:
        job.finish("Failed", "Failed", f"InternalServerError: {type(err).__name__}: {err}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        job.done.set()


def _data_rows(path: Path) -> int:
    """Data rows of a CSV with a header (quoted newlines count once, as in a CSV reader)."""
    with path.open(newline="", encoding="utf-8", errors="replace") as data:
        return max(sum(1 for _ in csv.reader(data)) - 1, 0)


def _download_csv(job: AutoMLJob, uri: str, dest: Path, channel: str) -> Path | None:
    try:
        role = job.request.get("RoleArn")
        files = [
            f for f in s3io.download_prefix(job.account_id, job.region, uri, dest, role) if f.stat().st_size
        ]
    except s3io.S3Error as err:
        job.finish("Failed", "Failed", f"ClientError: Could not read the {channel} data at '{uri}': {err}")
        return None
    if not files:
        job.finish("Failed", "Failed", f"ClientError: No data found in the {channel} channel at '{uri}'.")
        return None
    if len(files) == 1:
        return files[0]
    return merge_csv_parts(sorted(files), dest / "merged.csv")


def merge_csv_parts(parts: list[Path], merged: Path) -> Path:
    """CSV parts with a header each, as one CSV with the first header: streamed, never read whole."""
    with merged.open("wb") as out:
        for i, part in enumerate(parts):
            with part.open("rb") as lines:
                if i:
                    lines.readline()  # its header
                shutil.copyfileobj(lines, out, s3io.CHUNK_BYTES)
                lines.seek(-1, 2)
                if lines.read(1) != b"\n":
                    out.write(b"\n")
    return merged


def _run(job: AutoMLJob, workdir: Path) -> None:
    began = time.monotonic()  # MaxAutoMLJobRuntimeInSeconds counts reading the data too
    injected = faults.take_failure("automl")
    if injected:
        job.finish("Failed", "Failed", injected)
        return
    volume_key = (job.request.get("SecurityConfig") or {}).get("VolumeKmsKeyId")
    try:
        authorize_volume_key(job.request.get("RoleArn"), volume_key)
    except AccessDeniedError as denied:
        job.finish("Failed", "Failed", f"ClientError: AccessDenied: {denied.message}")
        return
    paths: dict[str, Path] = {}
    for channel in job.request.get("AutoMLJobInputDataConfig") or []:
        kind = channel.get("ChannelType", "training")
        uri = ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri", "")
        path = _download_csv(job, uri, workdir / "data" / kind, kind)
        if path is None:
            return
        paths[kind] = path
    rows = _data_rows(paths["training"])
    if rows < AUTOPILOT_MIN_ROWS:
        reason = (
            f"ClientError: The training data has {rows} rows; Autopilot needs at least {AUTOPILOT_MIN_ROWS}."
        )
        job.finish("Failed", "Failed", reason)
        return
    criteria = job._completion()
    time_limit = float(criteria["MaxAutoMLJobRuntimeInSeconds"])
    search_limit = time_limit * SEARCH_SHARE
    spec = {
        "train_csv": str(paths["training"]),
        "validation_csv": str(paths["validation"]) if "validation" in paths else None,
        "target": job.tabular["TargetAttributeName"],
        "problem_type": job.problem_type,
        "objective": job.objective,
        "time_limit_s": max(5.0, search_limit - (time.monotonic() - began)),
        "max_candidates": int(criteria["MaxCandidates"]),
        "max_time_per_model_s": criteria.get("MaxRuntimePerTrainingJobInSeconds"),
        "validation_fraction": (job.request.get("DataSplitConfig") or {}).get("ValidationFraction", 0.2),
        "seed": seed_from(job.name),
        "num_cpus": 1,
    }
    (workdir / "spec.json").write_text(json.dumps(spec))
    out = workdir / "out"
    out.mkdir()
    code = _search(job, workdir, out, time_limit)
    if job.stop_requested:
        job.finish("Stopped", "Stopped")
        return
    if code != 0 or not (out / "result.json").exists():
        failure = out / "failure"
        reason = (
            failure.read_text()
            if failure.exists()
            else "AlgorithmError: " + " | ".join(list(job.log_tail)[-5:])
        )
        job.finish("Failed", "Failed", reason)
        return
    result = json.loads((out / "result.json").read_text())
    try:
        _publish(job, out, result)
    except StoppedError:
        job.finish("Stopped", "Stopped")
        return
    except s3io.S3Error as err:
        job.finish("Failed", "Failed", f"ClientError: Failed to upload the candidates' artifacts: {err}")
        return
    secondary = completion_status(
        len(result["candidates"]),
        int(criteria["MaxCandidates"]),
        bool(result.get("ran_out_of_time")) or time.monotonic() - began >= search_limit,
    )
    if not result["candidates"]:
        job.finish(
            "Failed", "Failed", "AlgorithmError: No candidate could be trained within the runtime budget."
        )
        return
    job.finish("Completed", secondary)


def completion_status(candidates: int, max_candidates: int, ran_out_of_time: bool) -> str:
    """The AutoMLJobSecondaryStatus of a completed job: why it has as many candidates as it has."""
    if candidates >= max_candidates:
        return "MaxCandidatesReached"
    if ran_out_of_time:
        return "MaxAutoMLJobRuntimeReached"
    return "Completed"  # some configurations could not be trained for other reasons


def _search(job: AutoMLJob, workdir: Path, out: Path, time_limit: float) -> int:
    env = procs.environment(job.request.get("RoleArn"), job.region, {})
    proc = procs.start(
        "localaws.sagemaker.automl_worker",
        [str(workdir / "spec.json"), str(out)],
        f"automl:{job.name}",
        str(workdir),
        env,
    )
    with job.lock:
        job.proc = proc
    if job.stop_requested:
        procs.terminate(proc)
    # Hard stop well after the search's own time limit: imports and cloning take time too.
    timer = threading.Timer(time_limit + 120.0, procs.terminate, args=(proc,))
    timer.daemon = True
    timer.start()
    assert proc.stdout is not None
    for line in proc.stdout:
        job.log_tail.append(line.rstrip("\n"))
        if line.startswith("STAGE "):
            status = line.split()[1]
            if status != "Completed":
                job.set_secondary(status)
    code = proc.wait()
    timer.cancel()
    procs.forget(proc)
    with job.lock:
        job.proc = None
    return code


def _publish(job: AutoMLJob, out: Path, result: dict[str, Any]) -> None:
    """Upload each candidate's model.tar.gz and reports, record its training job, list the candidate."""
    output = job.request.get("OutputDataConfig") or {}
    base = output["S3OutputPath"].rstrip("/")
    kms = output.get("KmsKeyId")
    objective = result["objective"]
    with job.lock:
        job.problem_type = (
            job.problem_type
            or {
                "binary": "BinaryClassification",
                "multiclass": "MulticlassClassification",
                "regression": "Regression",
            }[result["problem_type"]]
        )
        job.objective = objective
    now = utcnow()
    image = INFERENCE_IMAGE.format(region=job.region)
    classification = result["problem_type"] != "regression"
    for i, cand in enumerate(result["candidates"], start=1):
        model = cand["model"]
        name = f"{model.replace('_', '-')}-t{i}"
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for item in sorted((out / "candidates" / model).iterdir()):
                tar.add(item, arcname=item.name)
        uri = f"{base}/{job.name}/sagemaker-automl-candidates/{name}/model.tar.gz"
        with job.output.open():
            s3io.write(job.account_id, job.region, uri, buf.getvalue(), kms, job.request.get("RoleArn"))
        environment = {
            "MODEL_NAME": model,
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv",
            "SAGEMAKER_INFERENCE_OUTPUT": "predicted_label",
            "SAGEMAKER_INFERENCE_SUPPORTED": "predicted_label,probability,probabilities,labels"
            if classification
            else "predicted_label",
            "SAGEMAKER_PROGRAM": "tabular_serve.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": str(Paths(DEFAULT_BASE_DIR).model_dir / "code"),
        }
        metric = {
            "Type": "Minimize" if result["minimize"] else "Maximize",
            "MetricName": f"validation:{objective.lower()}",
            "Value": cand["value"],
            "StandardMetricName": objective,
        }
        started, ended = _at(cand.get("started_at"), now), _at(cand.get("ended_at"), now)
        step = _record_training_job(job, i, name, cand, result, started, ended, uri)
        locations = _publish_reports(job, base, name, cand, result)
        record = {
            "CandidateName": name,
            "FinalAutoMLJobObjectiveMetric": metric,
            "ObjectiveStatus": "Succeeded",
            "CandidateSteps": [step],
            "CandidateStatus": "Completed",
            "InferenceContainers": [{"Image": image, "ModelDataUrl": uri, "Environment": environment}],
            # Where SageMaker tells how long a candidate trained: from its CreationTime to its EndTime.
            "CreationTime": started,
            "EndTime": ended,
            "LastModifiedTime": now,
            "CandidateProperties": {
                "CandidateArtifactLocations": locations,
                "CandidateMetrics": candidate_metrics(objective, cand),
            },
        }
        with job.lock:
            job._candidates.append(record)


def candidate_metrics(objective: str, cand: dict[str, Any]) -> list[dict[str, Any]]:
    """CandidateMetrics: the objective, then every metric measured on the validation rows (MetricDatum)."""
    measured = {objective: cand["value"], **(cand.get("validation_metrics") or {})}
    return [
        drop_none(
            {
                # MetricName takes fewer names than StandardMetricName (no LogLoss): only those it knows.
                "MetricName": name if name in METRIC_NAMES else None,
                "Value": float(value),
                "Set": "Validation",
                "StandardMetricName": name,
            }
        )
        for name, value in measured.items()
    ]


def step_name(job_name: str, trial: int, candidate: str) -> str:
    """The candidate's training job: `<job>-t<trial>-<model>`, within SageMaker's 63 characters."""
    model = candidate.rsplit("-t", 1)[0]
    return f"{job_name}-t{trial}-{model}"[:63].rstrip("-")


def _record_training_job(
    job: AutoMLJob,
    trial: int,
    candidate: str,
    cand: dict[str, Any],
    result: dict[str, Any],
    started: dt.datetime,
    ended: dt.datetime,
    model_uri: str,
) -> dict[str, str]:
    """The candidate's fit as SageMaker lists Autopilot's work: a completed training job, and its step.

    Its billable time is the candidate's own fit (the search ran its candidates one after another).
    """
    name = step_name(job.name, trial, candidate)
    definition = cand.get("definition") or {}
    output = job.request.get("OutputDataConfig") or {}
    request = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {
            "TrainingImage": TRAINING_IMAGE.format(region=job.region),
            "TrainingInputMode": "File",
        },
        "HyperParameters": dict(
            list((definition.get("hyperparameters") or {}).items())[:MAX_HYPERPARAMETERS]
        ),
        "RoleArn": job.request.get("RoleArn"),
        "InputDataConfig": [
            {"ChannelName": c.get("ChannelType", "training"), "DataSource": c.get("DataSource")}
            for c in job.request.get("AutoMLJobInputDataConfig") or []
        ],
        "OutputDataConfig": {
            "S3OutputPath": f"{output['S3OutputPath'].rstrip('/')}/{job.name}/sagemaker-automl-candidates",
            **({"KmsKeyId": output["KmsKeyId"]} if output.get("KmsKeyId") else {}),
        },
        "ResourceConfig": {"InstanceType": CANDIDATE_INSTANCE_TYPE, "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": int(job._completion()["MaxAutoMLJobRuntimeInSeconds"])},
        "Tags": list(job.tags),
    }
    training = TrainingJob(job.account_id, job.region, request)
    with training.lock:
        training.creation_time = training.start_time = started
        training.end_time = training.last_modified = ended
        training.transitions = [
            {
                "Status": "Training",
                "StartTime": started,
                "EndTime": ended,
                "StatusMessage": "Training in progress.",
            },
            {
                "Status": "Completed",
                "StartTime": ended,
                "EndTime": ended,
                "StatusMessage": "Training job completed",
            },
        ]
        training.status, training.secondary = "Completed", "Completed"
        training.model_artifacts = model_uri
        training.final_metrics = {f"validation:{result['objective'].lower()}": (float(cand["value"]), ended)}
    training.done.set()
    backend(job.account_id, job.region).training_jobs.put(training)
    return {
        "CandidateStepType": "AWS::SageMaker::TrainingJob",
        "CandidateStepArn": training.arn,
        "CandidateStepName": name,
    }


def _publish_reports(
    job: AutoMLJob, base: str, candidate: str, cand: dict[str, Any], result: dict[str, Any]
) -> dict[str, str]:
    """The candidate's model insights and explainability documents; their prefixes, as SageMaker's."""
    locations = {
        "ModelInsights": f"{base}/{job.name}/documentation/model_monitor/output/{candidate}/",
        "Explainability": f"{base}/{job.name}/documentation/explainability/output/{candidate}/",
    }
    insights = CandidateInsights(
        candidate=candidate,
        job=job.name,
        problem_type=result["problem_type"],
        objective=result["objective"],
        definition=cand["definition"],
        validation_rows=int(cand.get("validation_rows") or 0),
        metrics={result["objective"]: cand["value"], **(cand.get("validation_metrics") or {})},
    )
    explained = cand.get("explainability") or CandidateExplainability(
        candidate=candidate, method=str(cand.get("explainability_note")), rows=0, features=[]
    )
    documents = {
        locations["ModelInsights"] + MODEL_INSIGHTS_FILE: insights,
        locations["Explainability"] + EXPLAINABILITY_FILE: {**explained, "candidate": candidate},
    }
    kms = (job.request.get("OutputDataConfig") or {}).get("KmsKeyId")
    for uri, document in documents.items():
        body = json.dumps(document, indent=1).encode()
        with job.output.open():
            s3io.write(job.account_id, job.region, uri, body, kms, job.request.get("RoleArn"))
    return locations


def _at(epoch_s: float | None, default: dt.datetime) -> dt.datetime:
    return default if epoch_s is None else dt.datetime.fromtimestamp(float(epoch_s), dt.UTC)
