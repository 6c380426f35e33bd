"""`mlstack run --entry-point`: the script's directory packed by content, put with the stack's key, and
the input's `script` checked by ValidateInput's own rules before anything starts."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from mlstack.aws import Aws
from mlstack.cli import main
from mlstack.commands.source import pack

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RANGES = json.dumps({"learning_rate": {"min": 0.01, "max": 0.3}, "max_leaf_nodes": {"min": 8, "max": 32}})
METRIC = "validation:auc=validation:auc=([0-9.]+)"


@pytest.fixture
def keyed_stack(endpoint_aws: Aws, local_stack: dict[str, str]) -> dict[str, str]:
    """The local stage's stack, and the KMS key its artifacts bucket requires (the KeyArn Output)."""
    key_arn = endpoint_aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    cfn = endpoint_aws.client("cloudformation")
    stack = cfn.describe_stacks(StackName="MlStack-local")["Stacks"][0]
    template = json.loads(json.dumps(cfn.get_template(StackName="MlStack-local")["TemplateBody"]))
    template["Outputs"]["KeyArn"] = {"Value": key_arn}
    cfn.update_stack(StackName=stack["StackName"], TemplateBody=json.dumps(template))
    return {**local_stack, "KeyArn": key_arn}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["run", "--stage", "local", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _started_input(stack: dict[str, str]) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    (execution,) = sfn.list_executions(stateMachineArn=stack["StateMachineArn"])["executions"]
    return dict(json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"]))


def test_entry_point_packs_its_directory_and_starts_a_script_run(keyed_stack, bank, capsys):
    argv = ["--dataset", bank, "--entry-point", str(EXAMPLES / "sklearn" / "train.py")]
    argv += ["--metric", METRIC, "--tuning-ranges", RANGES, "--hyperparameter", "max_iter=50", "--json"]

    code, _, err = _run(capsys, *argv)

    # Then one run starts whose input names the script, its archive, metric and static hyperparameter
    assert code == 0, err
    script = _started_input(keyed_stack)["script"]
    source = pack(EXAMPLES / "sklearn" / "train.py")
    assert script == {
        "entry_point": "train.py",
        "source": f"s3://{keyed_stack['ArtifactsBucketName']}/code/{source.digest}/sourcedir.tar.gz",
        "metrics": [{"Name": "validation:auc", "Regex": "validation:auc=([0-9.]+)"}],
        "hyperparameters": {"max_iter": 50},
    }
    # And the archive holds the directory, encrypted with the stack's key as its bucket requires
    put = boto3.client("s3").get_object(Bucket=keyed_stack["ArtifactsBucketName"], Key=source.key)
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == keyed_stack["KeyArn"]
    with tarfile.open(fileobj=io.BytesIO(put["Body"].read())) as tar:
        assert tar.getnames() == ["train.py"]


def test_the_same_directory_packs_to_the_same_bytes_and_key(tmp_path):
    for name in ("b.py", "train.py", "sub/c.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"\0")

    first, again = pack(tmp_path / "train.py"), pack(tmp_path / "train.py")
    (tmp_path / "b.py").write_text("# changed\n")
    changed = pack(tmp_path / "train.py")

    assert first.archive == again.archive and first.key == again.key
    assert first.files == ("b.py", "sub/c.py", "train.py")  # caches are not code
    assert changed.key != first.key


def test_a_requirements_file_is_said_not_to_be_installed_offline(keyed_stack, bank, tmp_path, capsys):
    (tmp_path / "train.py").write_text((EXAMPLES / "sklearn" / "train.py").read_text())
    (tmp_path / "requirements.txt").write_text("lightgbm==4.6.0\n")
    argv = ["--dataset", bank, "--entry-point", str(tmp_path / "train.py"), "--metric", METRIC]

    code, out, err = _run(capsys, *argv, "--tuning-ranges", RANGES)

    assert code == 0, err
    assert "note: requirements.txt is not installed offline" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--metric", METRIC], "--metric: only with --entry-point"),
        (
            ["--entry-point", "nowhere/train.py", "--metric", METRIC],
            "--entry-point nowhere/train.py: no such file",
        ),
        (["--entry-point", "{sklearn}"], "--metric: a script run needs at least one NAME=REGEX"),
        (["--entry-point", "{sklearn}", "--metric", "auc=auc [0-9.]+"], "has 0 capturing groups"),
        (["--entry-point", "{sklearn}", "--metric", METRIC], "tuning_ranges: a script run names the hyperpa"),
        (
            ["--entry-point", "{sklearn}", "--metric", METRIC, "--objective", "validation:f1"],
            "objective: 'validation:f1' is not one of the script's metrics (validation:auc)",
        ),
    ],
    ids=["metric-alone", "no-file", "no-metric", "bad-regex", "no-ranges", "objective-not-a-metric"],
)
def test_what_cannot_run_exits_2_and_starts_nothing(argv, message, keyed_stack, bank, capsys):
    argv = [a.replace("{sklearn}", str(EXAMPLES / "sklearn" / "train.py")) for a in argv]
    ranges = (
        [] if "no-ranges" in message or message.startswith("tuning_ranges") else ["--tuning-ranges", RANGES]
    )

    code, _, err = _run(capsys, "--dataset", bank, *argv, *ranges)

    assert code == 2 and message in err
    sfn = boto3.client("stepfunctions")
    assert sfn.list_executions(stateMachineArn=keyed_stack["StateMachineArn"])["executions"] == []


def test_a_stack_without_the_key_output_is_named(endpoint_aws, local_stack, bank, capsys):
    argv = ["--dataset", bank, "--entry-point", str(EXAMPLES / "sklearn" / "train.py"), "--metric", METRIC]
    code, _, err = _run(capsys, *argv, "--tuning-ranges", RANGES)
    assert code == 2 and "lacks the KeyArn Output" in err
