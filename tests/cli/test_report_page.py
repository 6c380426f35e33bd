"""report.html as headless Chromium renders it: every section and chart of a recorded run; nothing fetched.

The page is drawn by `mlstack report --from`, from a real local run's evaluation.json and
leaderboard.json, with the code Evaluate runs: the same page Evaluate writes for that run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlstack.cli import main
from tests.chromium import Element, Rendered, render
from tests.cli.conftest import FIXTURES

REPORT = FIXTURES / "report"
SECTIONS = ("finalists", "thresholds", "insight", "data", "tuning", "autopilot", "cost")


def recorded(name: str) -> Any:
    return json.loads((REPORT / name).read_text())


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    code = main(["report", "--from", str(REPORT), "--out", str(out), "--png", str(out / "png")])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def rendered(drawn: Path) -> Rendered:
    return render(drawn / "report.html")


def _one(root: Element, tag: str, **attrs: str) -> Element:
    found = root.find_all(tag, **attrs)
    assert len(found) == 1, f"{len(found)} <{tag}> with {attrs}"
    return found[0]


def _charts(section: Element) -> list[str]:
    return [svg.attrs["data-chart"] for svg in section.find_all("svg", cls="chart")]


def test_every_section_is_rendered_in_order(rendered):
    root = rendered.root()
    ids = [s.attrs["id"] for s in root.find_all("section") if s.attrs.get("id")]
    assert ids == list(SECTIONS)
    evaluation = recorded("evaluation.json")
    assert f"{evaluation['winner']} won with auc" in _one(root, "p", id="why").text()


def test_each_finalist_has_its_curves_and_confusion_matrices(rendered):
    evaluation = recorded("evaluation.json")
    insight = _one(rendered.root(), "section", id="insight")
    assert _charts(insight) == ["roc", "pr"] + ["confusion"] * 4  # at 0.5 and at the chosen threshold
    for kind in ("roc", "pr"):
        chart = _one(insight, "svg", data_chart=kind)
        curves = chart.find_all("polyline", cls="curve")
        assert [c.attrs["data-series"].split(" (")[0] for c in curves] == list(evaluation["variants"])
        points = [len(c.attrs["points"].split()) for c in curves]
        assert points == [len(e["insight"][kind]["x"]) for e in evaluation["variants"].values()]


def test_the_data_section_shows_each_column_and_the_single_feature_scores(rendered):
    data = recorded("evaluation.json")["data"]
    section = _one(rendered.root(), "section", id="data")
    assert _charts(section) == ["class-balance", "single-feature"]
    names = [row.find_all("td")[0].text() for row in section.find_all("tr")[1:]]
    assert names == [c["name"] + (" (target)" if c["role"] == "target" else "") for c in data["columns"]]


def test_the_tuning_section_sets_each_hyperparameter_against_the_objective(rendered):
    board = recorded("leaderboard.json")
    section = _one(rendered.root(), "section", id="tuning")
    tuned = sorted(board["tuning"]["trials"][0]["hyperparameters"])
    assert _charts(section) == ["trials", *["hyperparameter"] * len(tuned), "bars"]
    titles = [c.find_all("title")[0].text() for c in section.find_all("svg", data_chart="hyperparameter")]
    assert titles == [f"{name} against validation:auc" for name in tuned]
    assert _one(section, "polyline", cls="best-so-far")


def test_each_autopilot_candidate_shows_its_steps_definition_and_reliance(rendered):
    board = recorded("leaderboard.json")
    section = _one(rendered.root(), "section", id="autopilot")
    shown = section.find_all("section", cls="candidate")
    described = [c for c in board["autopilot"]["candidates"] if c.get("definition")]
    assert sorted(s.attrs["data-candidate"] for s in shown) == sorted(c["name"] for c in described)
    for element, candidate in zip(
        shown, sorted(described, key=lambda c: -float(c["objective"])), strict=True
    ):
        assert element.attrs["data-candidate"] == candidate["name"]
        text = element.text()
        assert all(step["name"] in text for step in candidate["steps"])
        assert candidate["definition"]["algorithm"] in text
        assert all(name in text for name in candidate["definition"]["hyperparameters"])
        assert _charts(element) == ["importance"]
        if candidate["definition"]["ensemble"] is None:
            assert element.find_all("ol", cls="preprocessing")


def test_the_page_fetches_nothing_and_runs_nothing(rendered):
    rendered.assert_self_contained()


def test_the_same_run_gets_its_charts_as_pngs(drawn):
    names = {p.name for p in (drawn / "png").iterdir()}
    assert {"curves.png", "hyperparameters.png", "tuning.png", "data.png", "leaderboard.png"} <= names
    assert any(n.startswith("importance-") for n in names)


def test_from_takes_a_directory_of_documents_instead_of_a_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["report", "some-run", "--from", str(REPORT)])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["report", "--from", str(tmp_path)]) == 2
    assert "evaluation.json" in capsys.readouterr().err


def test_the_terminal_says_why_tuning_ended_and_the_plans_notes(tmp_path, capsys):
    # Given a recorded run whose plan noted trials that printed no objective
    board = recorded("leaderboard.json")
    note = "metric validation:auc: its regex matched nothing in 1 of 6 trials (t-002)"
    board["tuning"]["notes"] = [note]
    (tmp_path / "leaderboard.json").write_text(json.dumps(board))
    (tmp_path / "evaluation.json").write_text((REPORT / "evaluation.json").read_text())

    # When the report is printed, as tables and as JSON
    assert main(["report", "--from", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert main(["report", "--from", str(tmp_path), "--out", str(tmp_path / "out"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)

    # Then both say why tuning ended and the note
    ended = f"ended: {board['tuning']['ended']}"
    assert f"tuning: {ended}" in printed and f"tuning: {note}" in printed
    assert result["tuning"] == [ended, note]
