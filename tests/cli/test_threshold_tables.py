"""The finalists' metrics at 0.5 and at the threshold chosen on the validation set, as the CLI prints them."""

from __future__ import annotations

from mlstack.commands.report import threshold_notes
from mlstack.tables import metrics_table

AT_THRESHOLD = {
    "threshold": 0.1218,
    "accuracy": 0.9453,
    "precision": 0.5283,
    "recall": 0.6364,
    "f1": 0.5773,
    "confusion_matrix": [[681, 25], [16, 28]],
}
NO_PROBABILITY = "its endpoint returns labels without a probability"
METRICS = {
    "Tuning": {"accuracy": 0.9413, "precision": 0.0, "recall": 0.0, "f1": 0.0, "auc": 0.8769,
               "at_threshold": AT_THRESHOLD},
    "Autopilot": {"accuracy": 0.95, "precision": 0.6, "recall": 0.3, "f1": 0.4, "auc": 0.9,
                  "at_threshold": {"threshold": None, "reason": NO_PROBABILITY}},
}  # fmt: skip


def test_each_binary_finalist_gets_a_row_at_its_chosen_threshold():
    table = metrics_table(METRICS, "Autopilot", "test-set metrics")
    assert table.headers == ("variant", "threshold", "accuracy", "precision", "recall", "f1", "auc")
    assert table.rows == [
        ("Tuning", "0.5", "0.9413", "0", "0", "0", "0.8769"),
        ("Tuning", "0.1218", "0.9453", "0.5283", "0.6364", "0.5773", ""),
        ("Autopilot", "0.5", "0.95", "0.6", "0.3", "0.4", "0.9"),
        ("Autopilot", "-", f"no threshold: {NO_PROBABILITY}", "", "", "", ""),
    ]
    assert table.highlight == frozenset({2})  # the winner's first row
    assert table.as_text().splitlines()[4].startswith("* Autopilot  0.5")


def test_tables_without_thresholds_are_unchanged():
    plain = {v: {k: x for k, x in m.items() if k != "at_threshold"} for v, m in METRICS.items()}
    table = metrics_table(plain, "Tuning", "t")
    assert table.headers == ("variant", "accuracy", "precision", "recall", "f1", "auc")
    assert len(table.rows) == 2 and table.highlight == frozenset({0})


def test_a_failed_variant_beside_thresholded_ones():
    table = metrics_table({**METRICS, "Other": {"error": "ModelError: boom"}}, None, "t")
    assert table.rows[-1] == ("Other", "-", "failed: ModelError: boom", "", "", "", "")


def test_report_notes_say_how_thresholds_and_the_class_weight_were_set():
    evaluation = {
        "decision_threshold": {"rule": "the highest F1", "validation_rows": 750, "error": None},
        "scale_pos_weight": {"value": "16.3267", "how": "negatives / positives in the training channel"},
    }
    assert threshold_notes(evaluation) == [
        "threshold rows: the highest F1 (750 validation rows)",
        "scale_pos_weight = 16.3267: negatives / positives in the training channel",
    ]
    missing = {"decision_threshold": {"rule": "r", "validation_rows": None, "error": "no validation/"}}
    assert threshold_notes(missing) == ["threshold rows: r (none: no validation/)"]
    assert threshold_notes({"decision_threshold": None, "scale_pos_weight": None}) == []
