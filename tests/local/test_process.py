"""`mlstack local up|down|status`: background start, readiness, port conflicts, stopping children."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from localaws import children, ports, process
from mlstack import cli


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
