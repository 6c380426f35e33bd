"""Tuning in rounds, offline: a wide run, then a narrowed run warm-started from it, then both compared."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from mlstack.cli import main
from tests.e2e.conftest import STACK_NAME

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli_env(local_aws, monkeypatch):
    """The commands run in-process with only AWS_ENDPOINT_URL and dummy credentials, as a user would."""
    for key, value in local_aws["env"].items():
        monkeypatch.setenv(key, value)


def test_a_narrowed_warm_started_round_continues_the_first(
    cli_env, stack, dataset, run, report, aws, tmp_path: Path, capsys
):
    # Given a finished first round on bank (the local stage's 6 trials)
    uri = dataset("bank")
    first = run({"dataset": uri}, name=f"round1-{uuid.uuid4().hex[:6]}")
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    assert "TuneWarmStart" not in first.entered() and "Tune" in first.entered()
    first_board = json.loads(report(first.run_id)["leaderboard.json"])
    assert first_board["tuning"]["ended"] == "it spent its budget: 6 of 6 training jobs"

    # When the second round narrows from it, stopping after 3 trials without a 1% gain
    name = f"round2-{uuid.uuid4().hex[:6]}"
    argv = ["--stack", STACK_NAME, "--dataset", uri, "--name", name, "--narrow-from", first.name]
    code = main(["run", *argv, "--tuning-max-jobs-not-improving", "3", "--follow", "--interval", "1"])
    out = capsys.readouterr().out

    # Then it said where the ranges come from, ran to success, and its tuning started from the first's
    assert code == 0, out
    assert f"ranges narrowed from run {first.run_id}, which this run warm-starts from:" in out
    assert "eta: " in out and "SUCCEEDED: winner " in out
    second_id = out.split("run id ", 1)[1].split()[0]
    board = json.loads(report(second_id)["leaderboard.json"])
    parent_job = first_board["tuning"]["job"]
    assert board["tuning"]["warm_start"] == {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": parent_job}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    described = aws("sagemaker").describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=board["tuning"]["job"]
    )
    first_best = max(t["objective"] for t in first_board["tuning"]["trials"] if t["objective"] is not None)
    overall = described["OverallBestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert overall >= first_best
    # within the ranges `ranges suggest` gives for the first round
    assert main(["ranges", "suggest", first.run_id, "--stack", STACK_NAME, "--json"]) == 0
    suggested = json.loads(capsys.readouterr().out)["tuning_ranges"]
    ranges = described["HyperParameterTuningJobConfig"]["ParameterRanges"]["ContinuousParameterRanges"]
    eta = next(r for r in ranges if r["Name"] == "eta")
    assert (float(eta["MinValue"]), float(eta["MaxValue"])) == (
        suggested["eta"]["min"],
        suggested["eta"]["max"],
    )
    assert board["tuning"]["ended"]  # the budget, or 3 trials without a 1% gain: either way, said

    # And the two rounds compare on one chart, the second after the first's 6 jobs
    code = main(["compare", first.run_id, second_id, "--stack", STACK_NAME, "--out", str(tmp_path), "--json"])
    compared = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [r["start"] for r in compared["runs"]] == [0, 6]
    assert compared["runs"][1]["best"][0] >= first_best
    assert (tmp_path / "compare.html").exists() and (tmp_path / "compare.png").exists()

    # And a warm start SageMaker would refuse (digits tunes another objective) fails in ValidateInput,
    # before anything bills, saying what to change
    refused = run({"dataset": dataset("digits"), "warm_start": [first.run_id]})
    assert (refused.status, refused.error) == ("FAILED", "InvalidInput")
    assert "a warm start keeps the objective" in (refused.cause or "")
    assert "Tune" not in refused.entered() and "TuneWarmStart" not in refused.entered()
