"""Job processes: forked by a preloaded fork server, each isolated as a fresh `python -m` would be."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localaws import children
from localaws.iam.as_role import SESSION_NAME
from localaws.iam.principals import session_for
from localaws.sagemaker import procs
from localaws.settings import CHILD_MARKER_ENV
from tests.local.sagemaker.conftest import REGION, ROLE, training_request, wait_training, wait_until

PROBE = "tests.local.sagemaker.job_probe"
OTHER_ROLE = "arn:aws:iam::123456789012:role/another-exec"


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[procs.Worker]]:
    """Workers a test starts; any still running at the end is terminated."""
    workers: list[procs.Worker] = []
    yield workers
    for worker in workers:
        procs.terminate(worker, grace_s=1.0)


def run(
    started: list[procs.Worker], cwd: Path, *argv: str, env: dict[str, str] | None = None
) -> procs.Worker:
    env = env if env is not None else procs.environment(None, REGION, {})
    worker = procs.start(PROBE, list(argv), f"probe:{argv[0]}", str(cwd), env)
    started.append(worker)
    return worker


def state_of(worker: procs.Worker) -> dict[str, Any]:
    lines = worker.stdout.read().splitlines()
    assert worker.wait() == 0, lines
    assert lines[-1] == "to stderr"  # stderr arrives on the same stream, in order
    found: dict[str, Any] = json.loads(lines[0])
    return found


def test_the_fork_server_forks_from_a_single_thread_with_the_job_libraries_imported(aws, started, tmp_path):
    worker = run(started, tmp_path, "state")

    state = state_of(worker)

    assert procs.fork_server().info["threads"] == 1
    assert state["preloaded"]  # xgboost came with the fork, not imported by the job
    assert state["project_preloaded"] == []  # the project's code is imported as it is now, by the job
    assert state["pgid"] == state["pid"] == worker.pid  # its own process group, which a Stop kills


def test_each_job_sees_exactly_its_own_environment_cwd_and_arguments(aws, started, tmp_path, monkeypatch):
    # Given a server environment holding something no job may see, and two jobs of different roles
    monkeypatch.setenv("MLSTACK_SERVER_ONLY", "secret")
    first_env = procs.environment(ROLE, REGION, {"JOB": "first"})
    first_env["PYTHONPATH"] = os.pathsep.join([f"{tmp_path}/lib", first_env["PYTHONPATH"]])
    second_env = procs.environment(OTHER_ROLE, REGION, {"JOB": "second"})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    # When both run at the same time
    first = run(started, tmp_path / "a", "state", "x y", env=first_env)
    second = run(started, tmp_path / "b", "state", env=second_env)
    one, two = state_of(first), state_of(second)

    # Then each has exactly the environment built for it, its own directory and arguments, no stdin
    assert one["env"] == first_env and two["env"] == second_env
    assert "MLSTACK_SERVER_ONLY" not in one["env"]
    assert (one["cwd"], two["cwd"]) == (str(tmp_path / "a"), str(tmp_path / "b"))
    assert (one["argv"], two["argv"], one["stdin"]) == (["state", "x y"], ["state"], "")
    # And its module path is what `python -m` would start with there: its directory, then its PYTHONPATH
    assert one["sys_path"][:2] == [str(tmp_path / "a"), f"{tmp_path}/lib"]
    assert two["sys_path"][0] == str(tmp_path / "b") and f"{tmp_path}/lib" not in two["sys_path"]
    assert one["gc"] and two["gc"]  # the fork server keeps it off; each job has it on
    # And each signs with a session of its own role (never the server's credentials)
    assert one["key"] == first_env["AWS_ACCESS_KEY_ID"] != os.environ["AWS_ACCESS_KEY_ID"]
    assert two["key"] == second_env["AWS_ACCESS_KEY_ID"] != one["key"]
    assert one["key"] == session_for(ROLE, SESSION_NAME).access_key_id  # the session IAM checks jobs as
    assert two["key"] == session_for(OTHER_ROLE, SESSION_NAME).access_key_id
    assert one["env"][CHILD_MARKER_ENV] == os.environ.get(CHILD_MARKER_ENV, str(os.getpid()))


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (("exit", "3"), 3, None),
        (("raise",), 1, "RuntimeError: the probe failed"),
        (("signal", str(int(signal.SIGSEGV))), -signal.SIGSEGV, None),
    ],
)
def test_exit_codes_are_what_python_dash_m_gives(aws, started, tmp_path, argv, code, says):
    worker = run(started, tmp_path, *argv)

    output = worker.stdout.read()

    assert worker.wait() == code
    if says:
        assert "Traceback" in output and says in output


def test_a_crashing_job_fails_alone(aws, started, tmp_path):
    crash = run(started, tmp_path, "signal", str(int(signal.SIGSEGV)))
    assert crash.wait() == -signal.SIGSEGV

    fine = run(started, tmp_path, "state")

    assert state_of(fine)["preloaded"]


def test_terminate_kills_the_job_and_its_children(aws, started, tmp_path):
    worker = run(started, tmp_path, "grandchild")
    grandchild = int(worker.stdout.readline())
    assert children.alive(grandchild)

    procs.terminate(worker, grace_s=5.0)

    assert worker.returncode == -signal.SIGTERM
    assert not children.alive(worker.pid)
    wait_until(lambda: not children.alive(grandchild) and children.group_members(worker.pid) == [])


def test_what_a_job_leaves_running_dies_when_it_exits(aws, started, tmp_path):
    worker = run(started, tmp_path, "grandchild", "leave")
    grandchild = int(worker.stdout.readline())

    assert worker.wait() == 0

    wait_until(lambda: not children.alive(grandchild))  # SIGKILLed as the job exited


def test_jobs_die_with_the_fork_server_and_the_next_job_gets_a_new_one(aws, started, tmp_path):
    # Given a running job
    worker = run(started, tmp_path, "grandchild")
    grandchild = int(worker.stdout.readline())
    server = procs.fork_server().pid
    assert server is not None

    # When the fork server is killed
    os.kill(server, signal.SIGKILL)

    # Then the job ends killed, leaves nothing behind, and the next job starts on a new server
    assert worker.wait(timeout=30) == -signal.SIGKILL
    wait_until(lambda: not children.alive(grandchild) and children.group_members(worker.pid) == [])
    assert state_of(run(started, tmp_path, "state"))["preloaded"]
    assert procs.fork_server().pid not in (None, server)


def test_a_training_job_runs_with_its_container_environment_and_role_session(sm, dataset, monkeypatch):
    # Given a training job with an Environment of its own, and a server variable no job may see
    monkeypatch.setenv("MLSTACK_SERVER_ONLY", "secret")
    seen: list[tuple[str, dict[str, str]]] = []
    start = procs.start

    def recorded(module: str, argv: list[str], label: str, workdir: str, env: dict[str, str]) -> procs.Worker:
        seen.append((module, env))
        return start(module, argv, label, workdir, env)

    monkeypatch.setattr(procs, "start", recorded)
    sm.create_training_job(**training_request("env-train", dataset["prefix"], Environment={"MY_VAR": "1"}))

    # When it runs
    job = wait_training(sm, "env-train")

    # Then train.py ran with the /opt/ml contract, the job's variables and a session of its role
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    ((module, env),) = seen
    assert module == "training.train"
    assert env["MY_VAR"] == "1" and env["TRAINING_JOB_NAME"] == "env-train"
    assert env["SM_CHANNEL_TRAIN"].endswith("/input/data/train") and env["SM_MODEL_DIR"].endswith("/model")
    assert env["OMP_NUM_THREADS"] == "1" and "MLSTACK_SERVER_ONLY" not in env
    assert env["AWS_ACCESS_KEY_ID"] == session_for(ROLE, SESSION_NAME).access_key_id
