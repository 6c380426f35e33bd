"""`mlstack local down --port`: stops the local AWS on that port, refuses a port it does not run on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localaws import ports, process
from mlstack.cli import main


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state directory of our own: a developer's running local AWS is not this test's to stop."""
    monkeypatch.setenv("MLSTACK_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def running(state_dir: Path) -> Iterator[int]:
    """A local AWS started by `mlstack local up --port` on a free port; stopped whatever the test did
    (from its own state directory, which the test may have pointed elsewhere)."""
    port = ports.free_port()
    assert main(["local", "up", "--port", str(port), "--no-iam"]) == 0
    yield port
    with pytest.MonkeyPatch.context() as restore:
        restore.setenv("MLSTACK_STATE_DIR", str(state_dir))
        process.down()
    assert process.health(port) is None


def test_down_with_the_port_it_runs_on_stops_it(running, capsys):
    pid = process.status().pid

    assert main(["local", "down", "--port", str(running)]) == 0

    assert f"local AWS stopped (pid {pid})" in capsys.readouterr().out
    assert process.health(running) is None and process.status() is None


def test_down_with_another_port_is_refused_and_stops_nothing(running, capsys):
    other = ports.free_port()

    assert main(["local", "down", "--port", str(other)]) == 1

    err = capsys.readouterr().err
    assert f"the local AWS runs on port {running} (pid {process.status().pid}), not on {other}" in err
    assert process.health(running) is not None


def test_down_with_the_port_of_a_local_aws_started_elsewhere_says_so(running, tmp_path, monkeypatch, capsys):
    # Given a local AWS answering on the port, started from another state directory
    monkeypatch.setenv("MLSTACK_STATE_DIR", str(tmp_path / "elsewhere"))

    assert main(["local", "down", "--port", str(running)]) == 1

    assert f"a local AWS answers on port {running} but `mlstack local up` did not start it" in (
        capsys.readouterr().err
    )
    assert process.health(running) is not None


def test_down_with_a_port_when_nothing_runs_is_not_an_error(state_dir, capsys):
    assert main(["local", "down", "--port", str(ports.free_port())]) == 0
    assert "local AWS is not running" in capsys.readouterr().out
