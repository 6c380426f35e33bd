"""exploration.html as headless Chromium renders it: every section, column and chart; nothing fetched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contracts.dataset_layout import EXPLORATION_HTML
from tests.chromium import Element, Rendered, render
from training.datasets import Dataset, imbalanced
from training.prepare_data import prepare_dataset, read_exploration

SECTIONS = ("warnings", "target", "overview", "columns")
# Attributes through which a page could pull something in; only in-page anchors are allowed.


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rare-positive table with one column for each warning, prepared."""
    frame = imbalanced(rows=2000, seed=3).frame
    rng = np.random.default_rng(3)
    frame["account_id"] = np.arange(len(frame)) + 70_000
    frame["survey"] = np.where(rng.random(len(frame)) < 0.8, np.nan, rng.normal(size=len(frame)))
    frame["branch"] = "main"
    frame["online"] = frame["channel"] == "web"  # a boolean column
    frame["churn_note"] = np.where(frame["outcome"] == "yes", "closed", "open")
    out = tmp_path_factory.mktemp("page") / "imbalanced"
    prepare_dataset(Dataset("imbalanced", "test", frame, "outcome", "binary"), out, seed=3)
    return out


@pytest.fixture(scope="module")
def rendered(prepared: Path) -> Rendered:
    return render(prepared / EXPLORATION_HTML)


def _one(root: Element, tag: str, **attrs: str) -> Element:
    found = root.find_all(tag, **attrs)
    assert len(found) == 1, f"{len(found)} <{tag}> with {attrs}"
    return found[0]


def test_every_section_is_rendered(rendered):
    root = rendered.root()
    assert [s.attrs["id"] for s in root.find_all("section") if s.attrs.get("id") in SECTIONS] == list(
        SECTIONS
    )
    assert "Data exploration: imbalanced" in _one(root, "h1").text()


def test_each_column_has_its_section_and_its_chart(prepared, rendered):
    exploration = read_exploration(prepared)
    sections = rendered.root().find_all("section", cls="column")
    assert [s.attrs["data-column"] for s in sections] == [c["name"] for c in exploration["columns"]]
    for section, column in zip(sections, exploration["columns"], strict=True):
        charts = section.find_all("svg", cls="chart")
        kind = "histogram" if column["type"] == "numeric" else "bars"
        assert [c.attrs["data-chart"] for c in charts] == [kind], column["name"]
        bars = charts[0].find_all("rect", cls="bar")
        assert bars, f"{column['name']}: a chart without bars"
        assert str(column["missing"]) in section.text()


def test_the_target_and_the_overview_have_their_charts(rendered):
    root = rendered.root()
    target = _one(root, "section", id="target")
    assert [c.attrs["data-chart"] for c in target.find_all("svg", cls="chart")] == ["bars"]
    assert "Class balance" in target.text()
    overview = _one(root, "section", id="overview")
    scores = overview.find_all("svg", cls="chart")
    assert len(scores) == 1 and "Each feature alone" in scores[0].text()


def test_every_warning_is_shown_with_what_to_do(prepared, rendered):
    exploration = read_exploration(prepared)
    codes = {(w["code"], w["column"]) for w in exploration["warnings"]}
    assert codes == {
        ("class_imbalance", "outcome"),
        ("id_like", "account_id"),
        ("mostly_missing", "survey"),
        ("constant", "branch"),
        ("suspected_leakage", "churn_note"),
    }
    listed = _one(rendered.root(), "section", id="warnings").find_all("li", cls="warning")
    assert [li.attrs["data-code"] for li in listed] == [w["code"] for w in exploration["warnings"]]
    for li, warning in zip(listed, exploration["warnings"], strict=True):
        assert warning["message"] in li.text() and warning["action"] in li.text()
    # and again in the section of the column it is about
    leak = _one(rendered.root(), "section", data_column="churn_note")
    assert [li.attrs["data-code"] for li in leak.find_all("li", cls="warning")] == ["suspected_leakage"]


def test_the_page_fetches_nothing_and_runs_nothing(rendered):
    rendered.assert_self_contained()


def test_the_request_check_sees_a_page_that_fetches(tmp_path):
    # The check above could not fail if the helper missed requests: a page that fetches is caught.
    page = tmp_path / "fetches.html"
    page.write_text(
        '<!DOCTYPE html><html><head><link rel="stylesheet" href="https://styles.invalid/a.css"></head>'
        '<body><p id="p">x</p><img src="http://images.invalid/chart.png"></body></html>',
        encoding="utf-8",
    )
    result = render(page)
    assert set(result.requests) == {"https://styles.invalid/a.css", "http://images.invalid/chart.png"}
    assert _one(result.root(), "p", id="p").text() == "x"


def test_without_chromium_the_test_fails_and_says_make_setup_installs_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=r"`make setup` installs it"):
        render(tmp_path / "any.html")
