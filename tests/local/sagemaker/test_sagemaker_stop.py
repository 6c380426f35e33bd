"""Stop stops: the job's workers are killed, nothing reaches S3 once a Stop is accepted, the job ends Stopped.

The teardown of a stack stops its jobs and then empties their buckets: a job still writing after its
Stop would fail the destroy (or end Failed with "bucket does not exist").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from localaws import children
from localaws.sagemaker import automl, jobs, s3io, tuning
from localaws.sagemaker.common import OutputGate, StoppedError
from localaws.sagemaker.models import backend
from tests.local.sagemaker.conftest import (
    BUCKET,
    REGION,
    header_csv,
    make_binary,
    training_request,
    wait_training,
    wait_until,
)
from tests.local.sagemaker.test_sagemaker_automl import automl_request, wait_automl
from tests.local.sagemaker.test_sagemaker_tuning import tuning_request, wait_tuning

ACCOUNT = "123456789012"
# Rounds no trial finishes before it is stopped (each takes far longer than the test's polling).
ENDLESS_ROUNDS = "1000000"


class Writes:
    """Every S3 write of the local SageMaker, with the monotonic time it completed."""

    def __init__(self) -> None:
        self.done: list[tuple[float, str]] = []

    def under(self, prefix: str) -> list[tuple[float, str]]:
        return [(at, uri) for at, uri in self.done if uri.startswith(prefix)]


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Writes:
    seen = Writes()
    original = s3io.write

    def recorded(account_id: str, region: str, uri: str, *args: Any, **kwargs: Any) -> None:
        original(account_id, region, uri, *args, **kwargs)
        seen.done.append((time.monotonic(), uri))

    monkeypatch.setattr(s3io, "write", recorded)
    return seen


def stop_at(stop: Callable[[], None]) -> float:
    """Call `stop` and return the monotonic time it returned (the Stop is accepted by then)."""
    stop()
    return time.monotonic()


def join_threads_of(name: str) -> None:
    """Wait for every thread working for job `name`: after that no code of the job can write."""
    for thread in threading.enumerate():
        if name in thread.name and thread is not threading.current_thread():
            thread.join(timeout=120)
            assert not thread.is_alive(), f"{thread.name} still runs"


def assert_gone(pid: int) -> None:
    """The worker is gone, and so is (once the SIGKILL lands) every process of its group."""
    assert not children.alive(pid)
    wait_until(lambda: children.group_members(pid) == [])


def training_pids(name: str) -> dict[str, int]:
    """The worker pid of each trial of tuning job `name` that is Training now."""
    found = {}
    for trial in tuning.get(ACCOUNT, REGION, name).trials:
        with trial.lock:
            if trial.secondary == "Training" and trial.proc is not None:
                found[trial.name] = trial.proc.pid
    return found


@pytest.mark.parametrize(("attempt", "parallel"), [(1, 1), (2, 2), (3, 2)])
def test_stop_tuning_mid_training_kills_trials_and_writes_nothing_after(
    sm, dataset, writes, attempt, parallel
):
    # Given a tuning job whose trials would train for minutes
    name = f"stop-tune-{attempt}"
    request = tuning_request(
        name,
        dataset["prefix"],
        ResourceLimits={"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": parallel},
    )
    request["TrainingJobDefinition"]["StaticHyperParameters"]["num_round"] = ENDLESS_ROUNDS
    sm.create_hyper_parameter_tuning_job(**request)
    pids = wait_until(lambda: (found := training_pids(name)) and len(found) == parallel and found)

    # When it is stopped while its trials train
    stopped_at = stop_at(lambda: sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name))
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert described["HyperParameterTuningJobStatus"] in ("Stopping", "Stopped")
    job = wait_tuning(sm, name)
    join_threads_of(name)

    # Then the job and each trial end Stopped, no worker is left, and nothing was written after the Stop
    assert job["HyperParameterTuningJobStatus"] == "Stopped"
    assert "FailureReason" not in job
    trials = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert {t["TrainingJobStatus"] for t in trials["TrainingJobSummaries"]} == {"Stopped"}
    assert {t["TrainingJobName"] for t in trials["TrainingJobSummaries"]} == set(pids)
    for pid in pids.values():
        assert_gone(pid)
    assert [uri for at, uri in writes.under(f"s3://{BUCKET}/tuning/") if at >= stopped_at] == []
    objects = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET, Prefix=f"tuning/{name}")
    assert objects.get("KeyCount", 0) == 0


@pytest.fixture
def wide_dataset(dataset: dict[str, Any]) -> str:
    """s3://BUCKET/data/wide/autopilot/: enough rows that AutoGluon's search takes several seconds."""
    x, y = make_binary(20_000, 20, seed=11)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key="data/wide/autopilot/train.csv", Body=header_csv(x, y)
    )
    return f"{dataset['prefix']}/wide"


@pytest.mark.parametrize("stage", ["Starting", "AnalyzingData", "TrainingModels"])
def test_stop_automl_mid_run_kills_its_worker_and_writes_nothing_after(sm, wide_dataset, writes, stage):
    # Given an AutoML job with a long search ahead of it, seen in `stage`
    name = f"stop-automl-{stage.lower()}"
    sm.create_auto_ml_job_v2(
        **automl_request(name, wide_dataset, MaxCandidates=8, MaxAutoMLJobRuntimeInSeconds=600)
    )
    job = automl.get(ACCOUNT, REGION, name)
    wait_until(lambda: job.secondary == stage, interval=0.01)
    pid = job.proc.pid if job.proc is not None else None

    # When it is stopped
    stopped_at = stop_at(lambda: sm.stop_auto_ml_job(AutoMLJobName=name))
    assert sm.describe_auto_ml_job_v2(AutoMLJobName=name)["AutoMLJobStatus"] in ("Stopping", "Stopped")
    described = wait_automl(sm, name)
    join_threads_of(name)

    # Then it ends Stopped with no worker left and no candidate written
    assert (described["AutoMLJobStatus"], described["AutoMLJobSecondaryStatus"]) == ("Stopped", "Stopped")
    assert "FailureReason" not in described
    if pid is not None:
        assert_gone(pid)
    assert [uri for at, uri in writes.under(f"s3://{BUCKET}/automl/{name}/") if at >= stopped_at] == []
    assert sm.list_candidates_for_auto_ml_job(AutoMLJobName=name)["Candidates"] == []


class HeldWrites:
    """Holds a job's first S3 write in flight until released; notes when a Stop starts closing its gate.

    Only writes under the job's name count: a thread an earlier test left may still write, and holding
    its write instead would let this job's writes through unheld.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.in_flight, self.released, self.closing = threading.Event(), threading.Event(), threading.Event()
        self.job = ""
        write, close = s3io.write, OutputGate.close

        def held_write(account_id: str, region: str, uri: str, *args: Any, **kwargs: Any) -> None:
            if self.job and f"/{self.job}/" in uri and not self.in_flight.is_set():
                self.in_flight.set()
                assert self.released.wait(120)
            write(account_id, region, uri, *args, **kwargs)

        def observed_close(gate: OutputGate) -> None:
            self.closing.set()
            close(gate)

        monkeypatch.setattr(s3io, "write", held_write)
        monkeypatch.setattr(OutputGate, "close", observed_close)

    def stop_during_the_write(self, stop: Callable[[], None]) -> float:
        """Call `stop` while the job's write is held; release the write once the Stop is closing the gate
        (or has returned, had it not waited); return when the Stop returned."""
        assert self.job, "say whose write to hold: held.job = <job name>, before the job starts"
        assert self.in_flight.wait(240)
        returned: list[float] = []
        stopper = threading.Thread(target=lambda: returned.append(stop_at(stop)))
        stopper.start()
        wait_until(lambda: self.closing.is_set() or returned, interval=0.01)
        self.released.set()
        stopper.join(60)
        return returned[0]


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch, writes: Writes) -> HeldWrites:
    return HeldWrites(monkeypatch)


def test_a_stop_during_the_model_upload_waits_for_it_and_the_job_ends_stopped(sm, dataset, writes, held):
    # Given a training job whose model upload is in flight
    held.job = "stop-upload"
    sm.create_training_job(**training_request("stop-upload", dataset["prefix"]))

    # When a Stop arrives during the write
    stopped_at = held.stop_during_the_write(lambda: sm.stop_training_job(TrainingJobName="stop-upload"))
    job = wait_training(sm, "stop-upload")
    join_threads_of("stop-upload")

    # Then the Stop returned only after the object landed, and the job ends Stopped
    assert job["TrainingJobStatus"] == "Stopped"
    landed = writes.under(f"s3://{BUCKET}/output/stop-upload/")
    assert len(landed) == 1 and landed[0][0] < stopped_at


def test_a_stop_during_the_candidates_upload_ends_it_there(sm, dataset, writes, held):
    # Given an AutoML job writing its first candidate's model
    held.job = "stop-publish"
    sm.create_auto_ml_job_v2(**automl_request("stop-publish", dataset["prefix"]))

    # When a Stop arrives during that write
    stopped_at = held.stop_during_the_write(lambda: sm.stop_auto_ml_job(AutoMLJobName="stop-publish"))
    job = wait_automl(sm, "stop-publish")
    join_threads_of("stop-publish")

    # Then no other candidate is written and the job ends Stopped
    assert (job["AutoMLJobStatus"], job["AutoMLJobSecondaryStatus"]) == ("Stopped", "Stopped")
    landed = writes.under(f"s3://{BUCKET}/automl/stop-publish/")
    assert len(landed) == 1 and landed[0][0] < stopped_at


def test_a_closing_gate_lets_the_write_in_progress_land_and_no_next_one_start():
    # Given a writer inside the gate and a Stop waiting to close it
    gate = OutputGate()
    with gate.open():
        closer = threading.Thread(target=gate.close)
        closer.start()
        wait_until(lambda: gate.closed, timeout=10, interval=0.01)

    # When the writer, its write done, goes straight for its next one (a lock is not fair: it could win)
    # Then the gate refuses it, and the close has returned
    with pytest.raises(StoppedError), gate.open():
        pass
    closer.join(10)
    assert not closer.is_alive()


def test_a_trial_being_launched_when_the_tuning_job_stops_never_runs(sm, dataset, writes, monkeypatch):
    # Given a tuning job about to launch its second trial
    launching, released = threading.Event(), threading.Event()
    launch = tuning._launch_trial

    def held_launch(job: Any, index: int, *args: Any) -> Any:
        if index == 2:
            launching.set()
            assert released.wait(120)
        return launch(job, index, *args)

    monkeypatch.setattr(tuning, "_launch_trial", held_launch)
    request = tuning_request(
        "stop-launch",
        dataset["prefix"],
        ResourceLimits={"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 2},
    )
    sm.create_hyper_parameter_tuning_job(**request)
    assert launching.wait(120)

    # When the job is stopped before that launch completes
    stopped_at = stop_at(
        lambda: sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="stop-launch")
    )
    released.set()
    job = wait_tuning(sm, "stop-launch")
    join_threads_of("stop-launch")

    # Then the second trial never exists and nothing is written after the Stop
    assert job["HyperParameterTuningJobStatus"] == "Stopped"
    trials = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="stop-launch")
    assert [t["TrainingJobName"] for t in trials["TrainingJobSummaries"]] == [
        tuning.trial_name("stop-launch", 1)
    ]
    assert [uri for at, uri in writes.under(f"s3://{BUCKET}/tuning/") if at >= stopped_at] == []


@pytest.mark.parametrize("after_completed", [1, 2, 3])
def test_stopping_a_busy_tuning_job_at_any_point_leaves_nothing_behind(sm, dataset, writes, after_completed):
    # Given a tuning job of many short trials, two at a time
    name = f"stop-busy-{after_completed}"
    request = tuning_request(
        name, dataset["prefix"], ResourceLimits={"MaxNumberOfTrainingJobs": 30, "MaxParallelTrainingJobs": 2}
    )
    sm.create_hyper_parameter_tuning_job(**request)
    counters = lambda: sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[  # noqa: E731
        "TrainingJobStatusCounters"
    ]
    wait_until(lambda: counters()["Completed"] >= after_completed, interval=0.01)

    # When it is stopped wherever its trials are (launching, training, uploading)
    stopped_at = stop_at(lambda: sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name))
    job = wait_tuning(sm, name)
    join_threads_of(name)

    # Then it ends Stopped: each trial either completed (its model written before the Stop) or was
    # stopped, and nothing landed after the Stop
    assert job["HyperParameterTuningJobStatus"] == "Stopped"
    trials = tuning.get(ACCOUNT, REGION, name).trials
    assert {t.status for t in trials} <= {"Completed", "Stopped"}
    before = {uri for at, uri in writes.under(f"s3://{BUCKET}/tuning/{name}") if at < stopped_at}
    completed = [t for t in trials if t.status == "Completed"]
    assert len(completed) >= after_completed
    assert all(t.model_artifacts in before for t in completed)
    assert [uri for at, uri in writes.under(f"s3://{BUCKET}/tuning/{name}") if at >= stopped_at] == []


def test_a_stopped_training_job_kills_its_worker_and_uploads_nothing(sm, dataset, writes):
    # Given a training job whose worker is training
    request = training_request("stop-train", dataset["prefix"])
    request["HyperParameters"]["num_round"] = ENDLESS_ROUNDS
    sm.create_training_job(**request)
    job = jobs.get(ACCOUNT, REGION, "stop-train")
    wait_until(lambda: job.secondary == "Training" and job.proc is not None)
    pid = job.proc.pid

    # When it is stopped
    stopped_at = stop_at(lambda: sm.stop_training_job(TrainingJobName="stop-train"))
    described = wait_training(sm, "stop-train")
    join_threads_of("stop-train")

    # Then it ends Stopped, its worker is gone and nothing was written
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert_gone(pid)
    assert [uri for at, uri in writes.under(f"s3://{BUCKET}/output/") if at >= stopped_at] == []
    assert backend(ACCOUNT, REGION).training_jobs.lookup("stop-train").model_artifacts is None
