"""`mlstack report` tables and PNG charts, from a recorded evaluation.json and leaderboard.json."""

from __future__ import annotations

import copy
import json
from typing import Any

from handlers.evaluate.insight import multiclass_insight, regression_insight
from mlstack import charts
from mlstack.commands.report import draw
from mlstack.leaderboard import best_so_far, finalists_table, leaderboard_table, ranked
from tests.cli.conftest import FIXTURES

PNG = b"\x89PNG\r\n\x1a\n"
REPORT = FIXTURES / "report"  # a local bank run's documents, with insights, candidates and the data


def recorded(name: str) -> Any:
    return json.loads((REPORT / name).read_text())


def test_best_so_far_follows_the_objective_direction():
    values = [0.8, None, 0.7, 0.9, 0.85]
    assert best_so_far(values, maximize=True) == [0.8, 0.8, 0.8, 0.9, 0.9]
    assert best_so_far(values, maximize=False) == [0.8, 0.8, 0.7, 0.7, 0.7]
    assert best_so_far([None], maximize=True) == [None]


def test_ranked_puts_unscored_entries_last():
    entries = [{"name": "a", "objective": None}, {"name": "b", "objective": 1}, {"name": "c", "objective": 2}]
    assert [e["name"] for e in ranked(entries, maximize=True)] == ["c", "b", "a"]
    assert [e["name"] for e in ranked(entries, maximize=False)] == ["b", "c", "a"]


def test_leaderboard_table_ranks_each_job_and_marks_its_best(board):
    table = leaderboard_table(board)
    assert table.headers == ("job", "rank", "name", "status", "metric", "objective")
    tuning = [r for r in table.rows if r[0] == "tuning"]
    autopilot = [r for r in table.rows if r[0] == "autopilot"]
    assert len(tuning) == 6 and len(autopilot) == 3
    assert tuning[0][2] == board["tuning"]["best"] and autopilot[0][2] == board["autopilot"]["best"]
    assert table.highlight == frozenset({0, 6})
    assert [float(r[5]) for r in tuning] == sorted((float(r[5]) for r in tuning), reverse=True)


def test_leaderboard_table_honours_top(board):
    assert len(leaderboard_table(board, top=2).rows) == 4


def test_finalists_table_highlights_the_winner(evaluation):
    table = finalists_table(evaluation)
    assert table.headers == ("variant", "accuracy", "precision", "recall", "f1", "auc")
    assert table.rows[0] == ("Tuning", "0.924", "0.7451", "0.4634", "0.5714", "0.9125")
    assert table.highlight == frozenset({0})
    text = table.as_text()
    assert text.splitlines()[0] == "test set (750 rows): winner Tuning by auc"
    assert text.splitlines()[2].startswith("* Tuning")


def test_a_variant_that_failed_shows_its_error(evaluation):
    broken = copy.deepcopy(evaluation)
    broken["variants"]["Autopilot"].update(metrics=None, error="ModelError: boom")
    table = finalists_table(broken)
    assert table.rows[1][:2] == ("Autopilot", "failed: ModelError: boom")


def test_a_report_recorded_before_insights_still_draws_what_it_has_and_says_what_it_lacks(
    evaluation, board, tmp_path
):
    paths, notes = draw(evaluation, board, tmp_path)
    assert sorted(p.name for p in paths) == [
        "confusion-autopilot.png",
        "confusion-tuning.png",
        "hyperparameters.png",
        "leaderboard.png",
        "tuning.png",
    ]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG) and 2_000 < len(data) < 200_000
    assert notes == ["this evaluation.json predates per-finalist insight: curves and samples are not in it"]


def test_draw_writes_every_chart_of_a_run_as_a_small_png(tmp_path):
    evaluation, board = recorded("evaluation.json"), recorded("leaderboard.json")
    paths, notes = draw(evaluation, board, tmp_path)
    described = [c["name"] for c in board["autopilot"]["candidates"] if c.get("importance")]
    assert described and sorted(p.name for p in paths) == sorted(
        [
            "confusion-autopilot.png",
            "confusion-tuning.png",
            "curves.png",
            "data.png",
            "hyperparameters.png",
            "leaderboard.png",
            "tuning.png",
            *(f"importance-{charts.file_name(name)}.png" for name in described),
        ]
    )
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG) and 2_000 < len(data) < 200_000
    assert notes == []


def test_regression_draws_predicted_against_actual_per_finalist(tmp_path):
    evaluation, board = recorded("evaluation.json"), recorded("leaderboard.json")
    actual = [float(i) for i in range(50)]
    evaluation.update(problem_type="regression", classes=[], winner_metric="rmse", primary_metric="rmse")
    for shift, entry in enumerate(evaluation["variants"].values()):
        entry["metrics"] = {"rmse": 1.0, "mae": 1.0, "r2": 0.9}
        entry["insight"] = dict(regression_insight(actual, [a + shift for a in actual]))
    paths, _ = draw(evaluation, board, tmp_path)
    assert {"prediction-tuning.png", "prediction-autopilot.png"} <= {p.name for p in paths}
    assert not [p for p in paths if p.name.startswith(("confusion", "curves"))]


def test_multiclass_draws_each_class_per_finalist(tmp_path):
    evaluation, board = recorded("evaluation.json"), recorded("leaderboard.json")
    matrix = [[8, 1, 1], [2, 7, 1], [0, 1, 9]]
    evaluation.update(problem_type="multiclass", classes=["a", "b", "c"], winner_metric="macro_f1")
    for entry in evaluation["variants"].values():
        entry["metrics"] = {"macro_f1": 0.8, "accuracy": 0.8, "confusion_matrix": matrix}
        entry["insight"] = dict(multiclass_insight(matrix, ["a", "b", "c"]))
    paths, _ = draw(evaluation, board, tmp_path)
    assert "class-scores.png" in {p.name for p in paths}
    assert "curves.png" not in {p.name for p in paths}


def test_a_multiclass_matrix_gets_its_class_labels(tmp_path):
    matrix = [[5, 1, 0], [0, 6, 1], [1, 0, 7]]
    path = charts.confusion_chart(matrix, ["0", "1", "2"], "Tuning: confusion matrix", tmp_path / "c.png")
    assert path.read_bytes().startswith(PNG)


def test_file_names_from_variant_names():
    assert charts.file_name("Auto Pilot/2") == "auto-pilot-2"
    assert charts.file_name("!!") == "variant"
