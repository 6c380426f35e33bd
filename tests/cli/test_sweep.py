"""`mlstack sweep` decisions and tables (pure)."""

from __future__ import annotations

from handlers.common.stack_resources import Resource, Running
from mlstack.orphans import decide
from mlstack.tables import Rows, metrics_table, number


def test_only_resources_of_running_runs_are_kept():
    resources = [
        Resource("endpoint", "mls-a", "run-a"),
        Resource("model", "mls-b-xgb", "run-b"),
        Resource("model", "mls-untagged", None),
    ]
    decisions = decide(resources, Running(run_ids=frozenset({"run-a"})))
    assert [(d.resource.name, d.delete) for d in decisions] == [
        ("mls-a", False),
        ("mls-b-xgb", True),
        ("mls-untagged", True),
    ]
    assert decisions[0].reason == "run run-a is still running"


def test_plain_tables_align_and_mark_rows():
    table = Rows("t", ("a", "bb"), [("1", "2"), ("333", "4")], frozenset({1}))
    assert table.as_text() == "t\n  a    bb\n  1    2\n* 333  4"


def test_numbers_and_metric_tables():
    assert (number(0.123456), number(None), number(3), number(True)) == ("0.1235", "-", "3", "True")
    table = metrics_table({"Tuning": {"rmse": 1.0, "confusion_matrix": [[1]]}}, "Tuning", "m")
    assert table.headers == ("variant", "rmse") and table.highlight == frozenset({0})
