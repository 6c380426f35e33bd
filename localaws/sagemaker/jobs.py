"""Training jobs, run for real in a process of their own: built-in XGBoost (training/train.py) or a
script in a framework container's script mode (scikit-learn, XGBoost: localaws/sagemaker/script_mode.py)."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contracts import script_mode as contract
from localaws.iam.as_role import authorize_volume_key
from localaws.iam.authorizer import AccessDeniedError
from localaws.sagemaker import faults, job_logs, procs, s3io
from localaws.sagemaker.common import (
    OutputGate,
    StoppedError,
    ValidationException,
    arn,
    drop_none,
    utcnow,
)
from localaws.sagemaker.metrics_adapter import last_values, per_round
from localaws.sagemaker.models import backend
from localaws.sagemaker.names import validate_name
from localaws.sagemaker.script_mode import library_versions
from training.container import MODEL_DIR_ENV, Container, Paths, ResourceConfig

XGBOOST_IMAGE_MARK = "sagemaker-xgboost"
SKLEARN_IMAGE_MARK = "sagemaker-scikit-learn"
BUILTIN_MODULE = "training.train"
SCRIPT_MODULE = "localaws.sagemaker.script_mode"
TERMINAL = ("Completed", "Failed", "Stopped")
_MESSAGES = {
    "Starting": "Launching requested ML instances",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job exceeded the MaxRuntimeInSeconds provided",
}
# What a job's container reports as its processors (SM_NUM_CPUS): one, as OMP_NUM_THREADS below.
JOB_CPUS = 1
# (metric name, step, value) -> True to stop the job early (tuning's pruner decides).
MetricCallback = Callable[[str, int, float], bool]


class Metrics:
    """Reads metric values from a job's output: built-in XGBoost's own lines (training/metrics.py), or a
    script's with the job's MetricDefinitions (each regex per line, its group the value, the last counts)."""

    def __init__(self, definitions: list[dict[str, str]] | None) -> None:
        self.definitions = definitions
        self.matched: dict[str, int] = {}

    def read(self, line: str) -> list[tuple[str, int | None, float]]:
        """(metric, step, value) found on one line; step None for a final value that is no round."""
        if self.definitions is None:
            found: list[tuple[str, int | None, float]] = [(n, s, v) for n, s, v in per_round(line)]
            rounds = {n for n, _, _ in found}
            return found + [(n, None, v) for n, v in last_values(line).items() if n not in rounds]
        found = []
        for definition in self.definitions:
            value = contract.first_match(definition["Regex"], line)
            if value is not None:
                name = definition["Name"]
                step = self.matched.get(name, 0)
                self.matched[name] = step + 1
                found.append((name, step, value))
        return found

    def unmatched(self) -> list[str]:
        """What the job's log says of each MetricDefinition that found no value in its output."""
        return [
            f"metric {d['Name']}: its regex {d['Regex']!r} matched nothing in this job's output"
            for d in contract.unmatched(self.definitions or [], self.matched)
        ]


class TrainingJob:
    """One training job; mutated by its runner thread, read by Describe/List under `lock`."""

    def __init__(
        self, account_id: str, region: str, request: dict[str, Any], tuning_job_arn: str | None = None
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.request = request
        self.name: str = request["TrainingJobName"]
        self.arn = arn(account_id, region, "training-job", self.name)
        self.tags: list[dict[str, str]] = list(request.get("Tags") or [])
        self.tuning_job_arn = tuning_job_arn
        self.lock = threading.RLock()
        self.done = threading.Event()
        self.status = "InProgress"
        self.secondary = "Starting"
        now = utcnow()
        self.creation_time = now
        self.last_modified = now
        self.start_time: Any = None
        self.end_time: Any = None
        self.transitions: list[dict[str, Any]] = [
            {"Status": "Starting", "StartTime": now, "StatusMessage": _MESSAGES["Starting"]}
        ]
        self.failure_reason: str | None = None
        self.final_metrics: dict[str, tuple[float, Any]] = {}
        self.metric_history: dict[str, list[float]] = {}
        self.model_artifacts: str | None = None
        self.stop_reason: str | None = None  # "user" | "early" | "runtime"
        # A user's Stop closes it: from then on the job writes nothing to S3.
        self.output = OutputGate()
        self.proc: procs.Worker | None = None
        self.log_tail: deque[str] = deque(maxlen=200)
        self.log_book = job_logs.JobLog()

    def log(self, line: str) -> None:
        """A line of the job's log: its algorithm's output, or a note of the local SageMaker's own."""
        self.log_tail.append(line)
        self.log_book.add(int(time.time() * 1000), line)

    def publish_log(self) -> None:
        """The job's log to CloudWatch Logs, as SageMaker keeps it (/aws/sagemaker/TrainingJobs)."""
        if not self.log_book.lines:
            return
        started = int((self.start_time or self.creation_time).timestamp())
        job_logs.publish(
            self.account_id, self.region, job_logs.stream_name(self.name, started), self.log_book
        )

    # --- state transitions -------------------------------------------------------------------
    def set_secondary(self, status: str, message: str | None = None) -> None:
        with self.lock:
            now = utcnow()
            if self.transitions and "EndTime" not in self.transitions[-1]:
                self.transitions[-1]["EndTime"] = now
            self.transitions.append(
                {
                    "Status": status,
                    "StartTime": now,
                    "StatusMessage": message or _MESSAGES.get(status, status),
                }
            )
            self.secondary = status
            self.last_modified = now

    def finish(self, status: str, secondary: str, reason: str | None = None) -> None:
        with self.lock:
            if self.output.closed:  # a stopped job ends Stopped, whatever its runner saw last
                status, secondary, reason = "Stopped", "Stopped", None
            self.set_secondary(secondary)
            now = utcnow()
            self.transitions[-1]["EndTime"] = now
            self.status = status
            self.end_time = now
            if reason:
                self.failure_reason = reason[:1024]
        self.done.set()

    def request_stop(self, why: str = "user") -> bool:
        """Stop the job: its worker is killed; a user's stop (not the tuner's) also ends its writes.

        False if the job had already ended.
        """
        with self.lock:
            if self.status != "InProgress":
                return False
            self.stop_reason = self.stop_reason or why
            if why == "user":
                self.output.close()
                self.status = "Stopping"
                self.set_secondary("Stopping")
            proc = self.proc
        if proc is not None:
            threading.Thread(target=procs.terminate, args=(proc,), daemon=True).start()
        return True

    # --- views -------------------------------------------------------------------------------
    def objective(self, metric_name: str) -> float | None:
        with self.lock:
            found = self.final_metrics.get(metric_name)
            return None if found is None else found[0]

    def describe(self) -> dict[str, Any]:
        r = self.request
        with self.lock:
            elapsed = None
            if self.start_time is not None:
                end = self.end_time or utcnow()
                elapsed = max(1, int((end - self.start_time).total_seconds()))
            return drop_none(
                {
                    "TrainingJobName": self.name,
                    "TrainingJobArn": self.arn,
                    "TuningJobArn": self.tuning_job_arn,
                    "ModelArtifacts": {"S3ModelArtifacts": self._artifact_uri()},
                    "TrainingJobStatus": self.status,
                    "SecondaryStatus": self.secondary,
                    "FailureReason": self.failure_reason,
                    "HyperParameters": r.get("HyperParameters") or {},
                    "AlgorithmSpecification": r.get("AlgorithmSpecification"),
                    "RoleArn": r.get("RoleArn"),
                    "InputDataConfig": r.get("InputDataConfig"),
                    "OutputDataConfig": r.get("OutputDataConfig"),
                    "ResourceConfig": r.get("ResourceConfig"),
                    "VpcConfig": r.get("VpcConfig"),
                    "StoppingCondition": r.get("StoppingCondition"),
                    "CreationTime": self.creation_time,
                    "TrainingStartTime": self.start_time,
                    "TrainingEndTime": self.end_time,
                    "LastModifiedTime": self.last_modified,
                    "SecondaryStatusTransitions": [dict(t) for t in self.transitions],
                    "FinalMetricDataList": [
                        {"MetricName": k, "Value": v, "Timestamp": ts}
                        for k, (v, ts) in sorted(self.final_metrics.items())
                    ],
                    "EnableNetworkIsolation": bool(r.get("EnableNetworkIsolation", False)),
                    "EnableInterContainerTrafficEncryption": bool(
                        r.get("EnableInterContainerTrafficEncryption", False)
                    ),
                    "EnableManagedSpotTraining": bool(r.get("EnableManagedSpotTraining", False)),
                    "CheckpointConfig": r.get("CheckpointConfig"),
                    "TrainingTimeInSeconds": elapsed,
                    "BillableTimeInSeconds": elapsed,
                    "Environment": r.get("Environment"),
                    "ExperimentConfig": r.get("ExperimentConfig"),
                    "RetryStrategy": r.get("RetryStrategy"),
                }
            )

    def _artifact_uri(self) -> str:
        out = (self.request.get("OutputDataConfig") or {}).get("S3OutputPath", "").rstrip("/")
        return self.model_artifacts or f"{out}/{self.name}/output/model.tar.gz"

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return drop_none(
                {
                    "TrainingJobName": self.name,
                    "TrainingJobArn": self.arn,
                    "CreationTime": self.creation_time,
                    "TrainingEndTime": self.end_time,
                    "LastModifiedTime": self.last_modified,
                    "TrainingJobStatus": self.status,
                    "SecondaryStatus": self.secondary,
                }
            )


# --- API -------------------------------------------------------------------------------------
def validate_request(request: dict[str, Any]) -> None:
    validate_name("trainingJobName", request.get("TrainingJobName"))
    for key in ("AlgorithmSpecification", "OutputDataConfig", "ResourceConfig", "StoppingCondition"):
        if not request.get(key):
            raise ValidationException(
                f"1 validation error detected: Value null at '{key[0].lower() + key[1:]}' "
                "failed to satisfy constraint: Member must not be null"
            )


def create(account_id: str, region: str, request: dict[str, Any]) -> TrainingJob:
    validate_request(request)
    job = backend(account_id, region).training_jobs.add(TrainingJob(account_id, region, request))
    threading.Thread(target=run, args=(job,), name=f"training-{job.name}", daemon=True).start()
    return job


def get(account_id: str, region: str, name: str) -> TrainingJob:
    return backend(account_id, region).training_jobs.lookup(name)


# --- the runner ------------------------------------------------------------------------------
def run(job: TrainingJob, on_metric: MetricCallback | None = None) -> None:
    """Run the job to a terminal status; never raises."""
    workdir = Path(tempfile.mkdtemp(prefix=f"mlstack-train-{job.name[:40]}-"))
    try:
        _run(job, workdir, on_metric)
    except Exception as err:  # a bug here must still end the job, not hang its pollers
        job.finish("Failed", "Failed", f"InternalServerError: {type(err).__name__}: {err}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        with contextlib.suppress(Exception):  # the log is a record of the job, never a reason to fail it
            job.publish_log()
        job.done.set()


def _fail(job: TrainingJob, reason: str) -> None:
    job.finish("Failed", "Failed", reason)


def _run(job: TrainingJob, workdir: Path, on_metric: MetricCallback | None) -> None:
    request = job.request
    injected = faults.take_failure("training")
    if injected:
        _fail(job, injected)
        return
    algorithm = request.get("AlgorithmSpecification") or {}
    image = algorithm.get("TrainingImage") or ""
    module, problem = _algorithm(request)
    if problem:
        _fail(job, problem)
        return
    metrics = Metrics(None if module == BUILTIN_MODULE else list(algorithm.get("MetricDefinitions") or []))
    volume_key = (request.get("ResourceConfig") or {}).get("VolumeKmsKeyId")
    try:
        authorize_volume_key(request.get("RoleArn"), volume_key)
    except AccessDeniedError as denied:
        _fail(job, f"ClientError: AccessDenied: {denied.message}")
        return
    with job.lock:
        job.start_time = utcnow()
    job.set_secondary("Downloading")
    container = _download_channels(job, Paths(workdir))
    if container is None or _stopped_before_training(job):
        return
    job.set_secondary("Training")
    if module == SCRIPT_MODULE:
        job.log(f"the local SageMaker runs {image} as {library_versions()}, whatever the image's versions")
    exit_code = _train(job, container, on_metric, module, metrics)
    for line in metrics.unmatched():
        job.log(line)
    _conclude(job, container.paths, exit_code)


def _algorithm(request: dict[str, Any]) -> tuple[str, str | None]:
    """The module that stands in for the request's image, or why the local SageMaker cannot run it.

    SageMaker's XGBoost container runs built-in XGBoost unless a `sagemaker_program` hyperparameter names
    a script; the scikit-learn container always runs a script.
    """
    image = (request.get("AlgorithmSpecification") or {}).get("TrainingImage") or ""
    hyperparameters = request.get("HyperParameters") or {}
    scripted = contract.PROGRAM in hyperparameters
    if SKLEARN_IMAGE_MARK not in image and XGBOOST_IMAGE_MARK not in image:
        return "", (
            "ClientError: The local SageMaker runs SageMaker's XGBoost container (built-in or script mode) "
            f"and its scikit-learn container (script mode): an image URI containing '{XGBOOST_IMAGE_MARK}' "
            f"or '{SKLEARN_IMAGE_MARK}'; got '{image or 'no TrainingImage'}'."
        )
    if not scripted:
        if SKLEARN_IMAGE_MARK in image:
            return "", (
                "ClientError: The scikit-learn container runs a training script: set the sagemaker_program "
                "and sagemaker_submit_directory hyperparameters, as the SageMaker SDK's SKLearn does."
            )
        return BUILTIN_MODULE, None
    submit = contract.decode(str(hyperparameters.get(contract.SUBMIT_DIRECTORY, "")))
    if request.get("EnableNetworkIsolation") and str(submit).startswith("s3://"):
        return "", (
            f"ClientError: sagemaker_submit_directory is {submit}, but with network isolation the container "
            "cannot reach S3: pass the source archive as the 'code' channel and set "
            f"sagemaker_submit_directory to {contract.CHANNEL_ARCHIVE}, as the SageMaker SDK does."
        )
    return SCRIPT_MODULE, None


def _stopped_before_training(job: TrainingJob) -> bool:
    if job.stop_reason:
        job.finish("Stopped", "Stopped")
        return True
    return False


def _download_channels(job: TrainingJob, paths: Paths) -> Container | None:
    """Lay out the job's /opt/ml tree: each channel's data from S3, then the config files."""
    paths.create()
    data_config: dict[str, dict[str, str]] = {}
    for channel in job.request.get("InputDataConfig") or []:
        name = channel["ChannelName"]
        source = (channel.get("DataSource") or {}).get("S3DataSource") or {}
        uri = source.get("S3Uri", "")
        dest = paths.channel_dir(name)
        try:
            files = s3io.download_prefix(job.account_id, job.region, uri, dest, job.request.get("RoleArn"))
        except s3io.S3Error as err:
            _fail(job, f"ClientError: Data download failed for channel '{name}' from '{uri}': {err}")
            return None
        if not any(f.stat().st_size for f in files):
            _fail(
                job,
                f"ClientError: No data found in channel '{name}': the S3 prefix '{uri}' "
                "holds no objects or only empty ones.",
            )
            return None
        data_config[name] = {
            "ContentType": channel.get("ContentType", "text/csv"),
            "TrainingInputMode": "File",
            "S3DistributionType": source.get("S3DistributionType", "FullyReplicated"),
            "RecordWrapperType": "None",
        }
    instance_type = str((job.request.get("ResourceConfig") or {}).get("InstanceType") or "")
    container = Container(
        paths,
        hyperparameters={str(k): str(v) for k, v in (job.request.get("HyperParameters") or {}).items()},
        input_data_config=data_config,
        resource_config=ResourceConfig(current_instance_type=instance_type),
        job_name=job.name,
        num_cpus=JOB_CPUS,
    )
    container.write()
    return container


def _train(
    job: TrainingJob, container: Container, on_metric: MetricCallback | None, module: str, metrics: Metrics
) -> int | None:
    """Run the algorithm's process; None when stopped (by the user, the tuner or the runtime limit)."""
    env = procs.environment(
        job.request.get("RoleArn"),
        job.region,
        {
            **container.environment(),
            **{str(k): str(v) for k, v in (job.request.get("Environment") or {}).items()},
        },
    )
    # One thread per core is what a 2-core host can afford with parallel trials.
    env.setdefault("OMP_NUM_THREADS", "1")
    workdir = str(container.paths.base)
    proc = procs.start(module, [], f"training:{job.name}", workdir, env)
    with job.lock:
        job.proc = proc
        early = job.stop_reason
    if early:
        procs.terminate(proc)
    max_runtime = float((job.request.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds") or 0)
    deadline = time.monotonic() + max_runtime if max_runtime > 0 else None
    watchdog = threading.Thread(target=_watch_runtime, args=(job, proc, deadline), daemon=True)
    watchdog.start()
    assert proc.stdout is not None
    for line in proc.stdout:
        job.log(line.rstrip("\n"))
        for name, step, value in metrics.read(line):
            with job.lock:
                job.final_metrics[name] = (value, utcnow())
                if step is not None:
                    job.metric_history.setdefault(name, []).append(value)
            if step is None or on_metric is None or job.stop_reason is not None:
                continue
            if on_metric(name, step, value):
                job.request_stop("early")
    code = proc.wait()
    procs.forget(proc)
    with job.lock:
        job.proc = None
    return None if job.stop_reason else code


def _watch_runtime(job: TrainingJob, proc: procs.Worker, deadline: float | None) -> None:
    if deadline is None:
        return
    try:
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        with job.lock:
            job.stop_reason = job.stop_reason or "runtime"
        procs.terminate(proc)


def _conclude(job: TrainingJob, paths: Paths, exit_code: int | None) -> None:
    model_dir = paths.model_dir
    if exit_code is None:
        # Stopped by the tuner or the runtime limit: SageMaker still uploads what the algorithm saved.
        # (After a user's Stop the gate is closed and nothing is uploaded.)
        secondary = "MaxRuntimeExceeded" if job.stop_reason == "runtime" else "Stopped"
        if any(model_dir.iterdir()):
            try:
                _upload_model(job, model_dir)
            except s3io.S3Error as err:
                _fail(job, f"ClientError: Failed to upload the model artifacts: {err}")
                return
        job.finish("Stopped", secondary)
        return
    if exit_code != 0:
        _fail(job, _failure_reason(job, paths, exit_code))
        return
    if not any(model_dir.iterdir()):
        _fail(
            job,
            f"AlgorithmError: the training script exited 0 but wrote no model to {MODEL_DIR_ENV} "
            f"({Paths(Path('/opt/ml')).model_dir}): save the model there, e.g. "
            "joblib.dump(model, os.path.join(os.environ['SM_MODEL_DIR'], 'model.joblib')).",
        )
        return
    job.set_secondary("Uploading")
    try:
        _upload_model(job, model_dir)
    except s3io.S3Error as err:
        _fail(job, f"ClientError: Failed to upload the model artifacts: {err}")
        return
    job.finish("Completed", "Completed")


def _failure_reason(job: TrainingJob, paths: Paths, exit_code: int) -> str:
    """What SageMaker reports: the algorithm's failure file (typed unless it says), else its last lines."""
    text = paths.read_failure()
    if not text:
        tail = " | ".join(list(job.log_tail)[-5:])
        return f"AlgorithmError: training exited with code {exit_code}. Last log lines: {tail}"
    if text.startswith(("ClientError", "AlgorithmError")):
        return text
    return f"AlgorithmError: {text}, exit code: {exit_code}"


def _upload_model(job: TrainingJob, model_dir: Path) -> None:
    """model.tar.gz to S3 unless the job was stopped (then nothing is written)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for item in sorted(model_dir.iterdir()):
            tar.add(item, arcname=item.name)
    output = job.request.get("OutputDataConfig") or {}
    uri = f"{output['S3OutputPath'].rstrip('/')}/{job.name}/output/model.tar.gz"
    try:
        with job.output.open():
            s3io.write(
                job.account_id,
                job.region,
                uri,
                buf.getvalue(),
                output.get("KmsKeyId"),
                job.request.get("RoleArn"),
            )
    except StoppedError:
        return
    with job.lock:
        job.model_artifacts = uri
