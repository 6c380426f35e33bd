"""`mlstack data prepare`: the CLI entry, its output modes, errors and upload."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from rich.console import Console

from mlstack import cli
from mlstack.commands import data as data_command

REPO = Path(__file__).resolve().parents[2]


def test_json_output_holds_the_manifest(tmp_path, capsys):
    code = cli.main(
        ["data", "prepare", "bank", "--rows", "2000", "--seed", "3", "--out", str(tmp_path / "b"), "--json"]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["out_dir"] == str(tmp_path / "b") and result["uri"] is None
    assert result["manifest"]["rows"] == {"train": 1400, "validation": 300, "test": 300}
    assert result["manifest"]["seed"] == 3
    assert (tmp_path / "b" / "manifest.json").is_file()


def test_plain_output_when_piped(tmp_path, capsys):
    assert cli.main(["data", "prepare", "diabetes", "--out", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("diabetes: regression on 'progression', 10 features")
    assert "\x1b[" not in out  # no terminal colours in a pipe


def test_a_rich_table_on_a_terminal(tmp_path, monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(data_command, "tty_console", lambda: Console(file=buffer, width=120))
    assert cli.main(["data", "prepare", "breast_cancer", "--out", str(tmp_path / "bc")]) == 0
    table = buffer.getvalue()
    assert "benign" in table and "malignant" in table and "validation" in table


def test_the_exploration_page_and_its_warnings_are_named(tmp_path, capsys):
    # Given the built-in set with a rare positive class, When it is prepared (piped, then as JSON)
    out = tmp_path / "imb"
    assert cli.main(["data", "prepare", "imbalanced", "--rows", "2000", "--out", str(out)]) == 0
    plain = capsys.readouterr().out
    assert cli.main(["data", "prepare", "imbalanced", "--rows", "2000", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # Then both say where the page is and what the warning is, with what to do
    assert f"exploration: {out / 'exploration.html'}\n" in plain
    assert "warning: class 'yes' has" in plain and "Judge models by AUC" in plain
    assert result["exploration"] == str(out / "exploration.html")
    assert [w["code"] for w in result["warnings"]] == ["class_imbalance"]


def test_a_terminal_shows_the_warnings_too(tmp_path, monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(data_command, "tty_console", lambda: Console(file=buffer, width=200))
    assert cli.main(["data", "prepare", "imbalanced", "--rows", "2000", "--out", str(tmp_path / "i")]) == 0
    assert "warning: class 'yes' has" in buffer.getvalue()


def test_the_default_output_directory_is_datasets_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["data", "prepare", "diabetes"]) == 0
    assert (tmp_path / "datasets" / "diabetes" / "manifest.json").is_file()


def test_a_dataset_error_exits_2_with_the_message(tmp_path, capsys):
    code = cli.main(["data", "prepare", "bank", "--rows", "100", "--target", "price", "--out", str(tmp_path)])
    assert code == 2
    assert "error: unknown target column 'price'; available columns: age, job" in capsys.readouterr().err


def test_problem_type_is_checked_by_argparse(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["data", "prepare", "bank", "--problem-type", "ranking"])
    assert exited.value.code == 2
    assert "invalid choice: 'ranking'" in capsys.readouterr().err


def test_rows_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        cli.main(["data", "prepare", "bank", "--rows", "0"])
    assert "must be at least 1" in capsys.readouterr().err


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


def test_upload_to_s3(aws, tmp_path, capsys):
    aws.create_bucket(Bucket="data-bucket")
    code = cli.main(
        ["data", "prepare", "diabetes", "--out", str(tmp_path / "d"), "--upload", "s3://data-bucket"]
    )
    assert code == 0
    assert "uploaded: s3://data-bucket/datasets/diabetes/" in capsys.readouterr().out
    assert aws.head_object(Bucket="data-bucket", Key="datasets/diabetes/manifest.json")


def test_upload_to_a_missing_bucket_exits_1(aws, tmp_path, capsys):
    code = cli.main(
        ["data", "prepare", "diabetes", "--out", str(tmp_path / "d"), "--upload", "s3://no-such-bucket/"]
    )
    assert code == 1
    assert "error: upload to s3://no-such-bucket/ failed" in capsys.readouterr().err


def test_help_lists_the_registered_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for module in cli.COMMAND_MODULES:
        assert f"\n    {module.rsplit('.', 1)[1]} " in out


def test_the_module_runs_as_a_program_on_10000_bank_rows(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "mlstack.cli", "data", "prepare", "bank", "--rows", "10000"]
    result = subprocess.run(
        [*command, "--out", str(tmp_path / "bank")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "rows: train 7000, validation 1500, test 1500" in result.stdout
