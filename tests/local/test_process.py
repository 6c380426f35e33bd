"""`mlstack local up|down|status`: background start, readiness, port conflicts, stopping children."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from localaws import children, ports, process
from localaws.settings import SAGEMAKER_CONTROL_PREFIX, endpoint_url
from mlstack import cli
from tests.local.sagemaker.conftest import wait_until


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MLSTACK_STATE_DIR", str(tmp_path))
    yield tmp_path
    process.down()


def test_up_status_down(state_dir, capsys):
    port = ports.free_port()
    started = process.up(port=port, timeout=60)
    assert process.health(port)["pid"] == started.pid
    assert (state_dir / "local-aws.json").exists() and (state_dir / "local-aws.log").exists()
    # A child the server spawned (marker env inherited) is stopped by down, even in its own session.
    marker = {"MLSTACK_LOCAL_AWS_PID": str(started.pid)}
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], env=marker, start_new_session=True
    )

    assert cli.main(["local", "status"]) == 0
    assert f"http://localhost:{port}" in capsys.readouterr().out
    assert process.up(port=port).pid == started.pid  # idempotent

    assert process.down() == started.pid
    assert not children.alive(started.pid)
    orphan.wait(timeout=5)
    assert process.status() is None
    assert cli.main(["local", "status"]) == 3


def test_up_reports_who_holds_the_port(state_dir):
    with socket.socket() as holder:
        holder.bind(("localhost", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(process.LocalAwsError, match=rf"port {port} is taken by pid \d+"):
            process.up(port=port, timeout=5)


def test_cli_up_prints_the_environment(state_dir, capsys):
    port = ports.free_port()
    assert cli.main(["local", "up", "--port", str(port)]) == 0
    out = capsys.readouterr().out
    assert f"AWS_ENDPOINT_URL=http://localhost:{port}" in out
    assert cli.main(["local", "down"]) == 0
    time.sleep(0.1)
    assert ports.is_free(port)


def sagemaker_state(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(endpoint_url(port) + SAGEMAKER_CONTROL_PREFIX + "/state", timeout=5) as reply:
        state: dict[str, Any] = json.loads(reply.read())
    return state


def test_down_stops_the_fork_server_that_starts_sagemaker_jobs(state_dir):
    # Given a local AWS whose SageMaker fork server has started
    started = process.up(port=ports.free_port(), timeout=60)
    fork_server = wait_until(
        lambda: (found := sagemaker_state(started.port)["fork_server"])["ready"] and found
    )
    assert fork_server["pid"] in children.marked_processes(started.pid)  # `down` can find it and its jobs

    # When the local AWS is stopped
    process.down()

    # Then the fork server is gone too
    assert not children.alive(fork_server["pid"])
