"""`mlstack compare`: best-so-far series per run, a warm start continuing its parent, refusals, the files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from mlstack.cli import main
from mlstack.commands.compare import CompareError, build_series, series_table, summary_table

DATA = "s3://data/datasets/bank/"


def board(
    run_id: str, objectives: list[float | None], strategy: str = "Bayesian", **tuning: Any
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "dataset": DATA,
        "tuning": {
            "job": f"mlsloc-{run_id}-hpo",
            "objective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "strategy": strategy,
            "trials": [{"name": f"{run_id}-{i}", "objective": v} for i, v in enumerate(objectives)],
            **tuning,
        },
    }


def test_each_run_gets_its_best_so_far_per_training_job():
    series = build_series(
        [("bayes", board("bayes", [0.80, 0.85, None, 0.84]), DATA), ("rand", board("rand", [0.7, 0.9]), DATA)]
    )
    bayes, rand = series
    assert (bayes.start, bayes.best, bayes.final) == (0, [0.80, 0.85, 0.85, 0.85], 0.85)
    assert (rand.jobs, rand.best) == ([1, 2], [0.7, 0.9])
    assert [bayes.at(n) for n in (1, 3, 9)] == [0.80, 0.85, 0.85]


def test_a_warm_started_child_continues_after_its_parent_from_its_best():
    # Given a parent of 3 trials and a child warm-started from it
    parent = board("round1", [0.80, 0.86, 0.83])
    warm = {"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "mlsloc-round1-hpo"}]}
    child = board("round2", [0.84, 0.88], warm_start=warm)
    # When both are compared
    _, second = build_series([("round1", parent, DATA), ("round2", child, DATA)])
    # Then the child's jobs come after the parent's, and it starts from the parent's best
    assert (second.start, second.jobs, second.prior_best) == (3, [4, 5], 0.86)
    assert second.best == [0.86, 0.88]  # its first trial (0.84) did not beat its parent
    assert [second.at(n) for n in (3, 4, 5)] == [None, 0.86, 0.88]
    summary = summary_table(build_series([("round1", parent, DATA), ("round2", child, DATA)]), maximize=True)
    assert summary.rows[1][:5] == ("round2", "Bayesian", "4-5", "0.88", "5")
    assert summary.highlight == frozenset({1})


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (
            (board("b", [0.8]), "s3://data/datasets/digits/"),
            "run b tuned on s3://data/datasets/digits/, run a on",
        ),
        (
            (
                {
                    **board("b", [0.8]),
                    "tuning": {**board("b", [0.8])["tuning"], "objective": {"MetricName": "x"}},
                },
                DATA,
            ),
            "run b tuned x, run a validation:auc: compare runs with the same objective",
        ),
    ],
)
def test_runs_on_other_data_or_objectives_are_refused(other, message):
    with pytest.raises(CompareError, match=re.escape(message)):
        build_series([("a", board("a", [0.9]), DATA), ("b", *other)])


def test_one_run_is_not_a_comparison():
    with pytest.raises(CompareError, match="at least two runs"):
        build_series([("a", board("a", [0.9]), DATA)])


def test_long_series_show_every_kth_job_and_the_last():
    series = build_series([("a", board("a", [0.5] * 95), DATA), ("b", board("b", [0.6] * 10), DATA)])
    table = series_table(series, "validation:auc")
    assert table.title.endswith("(a row per 3 jobs)")
    assert [row[0] for row in table.rows][:3] == ["3", "6", "9"] and table.rows[-1][0] == "95"
    assert table.rows[-1] == ("95", "0.5", "0.6")


def test_compare_writes_a_chart_and_a_self_contained_page(local_stack, tmp_path: Path, capsys):
    # Given two runs' leaderboards on the same dataset in the artifacts bucket
    s3 = boto3.client("s3")
    for run_id, values, strategy in (
        ("rnd-1", [0.7, 0.8, 0.82], "Random"),
        ("bay-1", [0.75, 0.85, 0.84], "Bayesian"),
    ):
        s3.put_object(
            Bucket=local_stack["ArtifactsBucketName"],
            Key=f"reports/{run_id}/leaderboard.json",
            Body=json.dumps(board(run_id, values, strategy)),
        )
    # When they are compared
    code = main(["compare", "rnd-1", "bay-1", "--stage", "local", "--out", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    # Then the series, a PNG and a page that needs nothing else to show are written
    assert code == 0, err
    result = json.loads(out)
    assert [r["best"] for r in result["runs"]] == [[0.7, 0.8, 0.82], [0.75, 0.85, 0.85]]
    assert (tmp_path / "compare.png").read_bytes().startswith(b"\x89PNG")
    page = (tmp_path / "compare.html").read_text()
    assert "<svg" in page and "bay-1" in page and "runs compared" in page
    assert not re.search(r"""(src|href)=["']https?:""", page)  # nothing fetched from elsewhere


def test_compare_names_a_run_it_cannot_find(local_stack, capsys):
    assert main(["compare", "nope-1", "nope-2", "--stage", "local"]) == 1
    assert "no leaderboard for 'nope-1'" in capsys.readouterr().err
