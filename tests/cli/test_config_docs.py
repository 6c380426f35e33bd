"""README.md's configuration tables and run-option list are what the options' tables render."""

from __future__ import annotations

import pytest

from contracts.run_options import RUN_OPTIONS
from mlstack.config_docs import README, render, run_option_keys, run_options, stage_settings
from stacks.config import STAGE_OPTIONS


def test_the_readme_is_what_the_tables_render():
    text = README.read_text()
    assert render(text) == text, "README.md is stale: run `python -m mlstack.config_docs`"


def test_every_key_of_a_stage_has_one_row_and_only_run_options_are_listed_as_overrides():
    stage_rows, run_rows = stage_settings().splitlines()[2:], run_options().splitlines()[2:]
    rows = [row.split("`")[1] for row in stage_rows + run_rows]
    assert sorted(rows) == sorted(item.key for item in STAGE_OPTIONS)
    assert [row.split("`")[1] for row in run_rows] == [item.key for item in RUN_OPTIONS]
    assert run_option_keys().replace("\n", " ").count("`") == 2 * len(RUN_OPTIONS)


def test_a_row_says_the_rule_and_the_help():
    row = next(line for line in run_options().splitlines() if line.startswith("| `endpoint_ttl_hours`"))
    assert row == (
        "| `endpoint_ttl_hours` | a number of hours above 0 and at most 720 "
        "| how long a kept endpoint may live before the sweeper deletes it |"
    )


def test_render_replaces_only_the_text_between_markers():
    text = README.read_text()
    begin = next(line for line in text.splitlines() if line.startswith("<!-- BEGIN run-options"))
    stale = text.replace(begin + "\n", begin + "\n| `gone_option` | anything | removed |\n")
    assert render(stale) == text


def test_a_readme_without_the_markers_is_refused():
    with pytest.raises(ValueError, match="markers of 'run-option-keys'"):
        render("# ML Stack\n")
