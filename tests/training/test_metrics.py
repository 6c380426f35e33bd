"""The metric line format and the one regex shared by train.py and the tuning MetricDefinitions."""

import re

import pytest

from training.metrics import (
    METRIC_LINE,
    final_metrics,
    format_metric_line,
    metric_regex,
    parse_metric_lines,
)

LOG = """\
[0] train:auc=0.800000
[0] validation:auc=0.750000
some other output
[1] train:auc=0.900000
[1] validation:auc=0.912300
[final] train:auc=0.900000
[final] validation:auc=0.912300
"""


def test_lines_look_like_round_channel_metric_value():
    assert format_metric_line(12, "validation:auc", 0.9123) == "[12] validation:auc=0.912300"
    assert format_metric_line(None, "validation:rmse", 53.25) == "[final] validation:rmse=53.250000"


def test_parse_returns_rounds_per_metric_in_order():
    assert parse_metric_lines(LOG) == {
        "train:auc": [(0, 0.8), (1, 0.9)],
        "validation:auc": [(0, 0.75), (1, 0.9123)],
    }


def test_final_metrics_take_the_last_value_printed():
    assert final_metrics(LOG) == {"train:auc": 0.9, "validation:auc": 0.9123}


@pytest.mark.parametrize(
    "name", ["validation:auc", "validation:mlogloss", "train:error@0.7", "validation:ndcg@5-"]
)
def test_metric_regex_has_one_group_and_reads_what_the_formatter_writes(name):
    pattern = re.compile(metric_regex(name))
    assert pattern.groups == 1
    for round_ in (3, None):
        line = format_metric_line(round_, name, -1.5e-3)
        match = pattern.search(line)
        assert match is not None and float(match.group(1)) == pytest.approx(-0.0015)
        assert METRIC_LINE.fullmatch(line)


def test_metric_regex_does_not_match_a_metric_that_only_shares_a_prefix():
    assert re.search(metric_regex("validation:auc"), "[3] validation:aucpr=0.5") is None
    assert re.search(metric_regex("validation:auc"), "[3] train:auc=0.5") is None


def test_the_last_regex_match_is_the_final_value_as_sagemaker_reads_it():
    values = re.findall(metric_regex("validation:auc"), LOG)
    assert float(values[-1]) == 0.9123
