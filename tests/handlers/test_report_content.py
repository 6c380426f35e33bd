"""What the report tells beyond the metrics: the data as explored, and what each Autopilot candidate is."""

from __future__ import annotations

import json
from datetime import timedelta
from html import escape
from pathlib import Path
from typing import Any

import pytest

from contracts.dataset_layout import EXPLORATION
from contracts.reports import EXPLAINABILITY_FILE, MODEL_INSIGHTS_FILE, DataSummary
from handlers.common.leaderboard import hyperparameter_series
from handlers.evaluate.exploration import summarize
from handlers.evaluate.handler import run_evaluation
from handlers.evaluate.report_html import render_report
from tests.chromium import Element, parse
from tests.handlers import test_evaluate as harness
from tests.handlers.conftest import ARTIFACTS_BUCKET, DATA_BUCKET
from tests.handlers.runs import NAMES, make_run
from tests.handlers.test_evaluate import FINALISTS, T0, Endpoint, leaderboard_stubs, read, services
from tests.shapes import mismatches
from training.datasets import imbalanced
from training.prepare_data import prepare_dataset, read_exploration

OUTPUT = f"s3://{ARTIFACTS_BUCKET}/jobs/{NAMES.run_id}/autopilot/{NAMES.automl_job}"
# Evaluate's fixtures: the binary test set in the data bucket, the SageMaker stub.
binary_test_set = harness.binary_test_set
sagemaker_stub = harness.sagemaker_stub


@pytest.fixture(scope="module")
def exploration(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real exploration.json, as `mlstack data prepare` writes it (it warns of the rare class)."""
    out = tmp_path_factory.mktemp("prepared") / "imbalanced"
    prepare_dataset(imbalanced(rows=1200, seed=4), Path(out), seed=4)
    return dict(read_exploration(Path(out)))


def evaluate(s3: Any, sagemaker_stub: Any, **stubs: Any) -> tuple[dict[str, Any], Element]:
    """Run Evaluate (on the binary test set); its evaluation.json and report.html, parsed."""
    leaderboard_stubs(sagemaker_stub, **stubs)
    run_evaluation({"run": make_run(), "deployment": {"finalists": FINALISTS}}, services(Endpoint()))
    return json.loads(read(s3, "evaluation.json")), parse(read(s3, "report.html").decode())


def test_the_report_shows_the_datasets_exploration(s3, binary_test_set, sagemaker_stub, exploration):
    # Given the dataset's exploration.json beside its manifest
    s3.put_object(
        Bucket=DATA_BUCKET, Key=f"datasets/bank/{EXPLORATION}", Body=json.dumps(exploration).encode()
    )

    # When the run is evaluated
    evaluation, page = evaluate(s3, sagemaker_stub)

    # Then evaluation.json sums it up: a line per column, the class balance and every warning with its action
    data = evaluation["data"]
    assert mismatches(data, DataSummary) == []
    assert (data["status"], data["source"]) == ("read", f"s3://{DATA_BUCKET}/datasets/bank/{EXPLORATION}")
    assert [c["name"] for c in data["columns"]] == [c["name"] for c in exploration["columns"]]
    assert [(w["code"], w["action"]) for w in data["warnings"]] == [
        (w["code"], w["action"]) for w in exploration["warnings"]
    ]
    assert "class_imbalance" in {w["code"] for w in data["warnings"]}
    # And the page's data section shows them
    (section,) = page.find_all("section", id="data")
    items = section.find_all("li", cls="warning")
    assert [i.attrs["data-code"] for i in items] == [w["code"] for w in exploration["warnings"]]
    assert all(w["action"] in section.text() for w in exploration["warnings"])
    assert [s.attrs["data-chart"] for s in section.find_all("svg")] == ["class-balance", "single-feature"]
    rows = section.find_all("tr")
    assert len(rows) == 1 + len(exploration["columns"])


def test_a_dataset_prepared_before_explorations_is_said_to_have_none(s3, binary_test_set, sagemaker_stub):
    evaluation, page = evaluate(s3, sagemaker_stub)
    assert evaluation["data"]["status"] == "missing"
    assert "prepare it again" in evaluation["data"]["reason"].lower()
    (section,) = page.find_all("section", id="data")
    assert "mlstack data prepare" in section.text() and not section.find_all("svg")


def test_a_numeric_column_is_summed_up_by_min_median_max_and_a_category_by_its_most_frequent(exploration):
    summary = summarize(exploration, "s3://b/x")
    by_name = {c["name"]: c for c in summary["columns"]}
    numeric = next(c for c in exploration["columns"] if c["type"] == "numeric" and c["role"] == "feature")
    stats = numeric["numeric"]
    assert by_name[numeric["name"]]["summary"] == (
        f"{stats['min']:.4g} / {stats['quantiles']['p50']:.4g} / {stats['max']:.4g}"
    )
    text = next(c for c in exploration["columns"] if c["type"] == "categorical")
    top = text["categorical"]["top"][0]
    assert by_name[text["name"]]["summary"] == f"{top['value']} ({top['share']:.0%})"


def candidate(name: str, value: float, folder: str | None, base: str = OUTPUT) -> dict[str, Any]:
    """A ListCandidatesForAutoMLJob entry: one training-job step and, with `folder`, its report locations."""
    step = f"{NAMES.automl_job}-{name.lower()}"
    properties: dict[str, Any] = {
        "CandidateMetrics": [
            {"MetricName": "AUC", "StandardMetricName": "AUC", "Value": value, "Set": "Validation"},
            {"StandardMetricName": "LogLoss", "Value": 0.3, "Set": "Validation"},
        ]
    }
    if folder:
        properties["CandidateArtifactLocations"] = {
            "ModelInsights": f"{base}/documentation/model_monitor/output/{folder}/",
            "Explainability": f"{base}/documentation/explainability/output/{folder}/",
        }
    return {
        "CandidateName": name,
        "FinalAutoMLJobObjectiveMetric": {"MetricName": "AUC", "Value": value},
        "ObjectiveStatus": "Succeeded",
        "CandidateSteps": [
            {
                "CandidateStepType": "AWS::SageMaker::TrainingJob",
                "CandidateStepArn": f"arn:aws:sagemaker:eu-west-1:123456789012:training-job/{step}",
                "CandidateStepName": step,
            }
        ],
        "CandidateStatus": "Completed",
        "CandidateProperties": properties,
        "CreationTime": T0,
        "EndTime": T0 + timedelta(seconds=4),
        "LastModifiedTime": T0,
    }


DEFINITION = {
    "algorithm": "LightGBM gradient-boosted trees",
    "model_type": "LGBModel",
    "library": "AutoGluon-Tabular 1.6.3",
    "preprocessing": [
        {"step": "CategoryFeatureGenerator", "does": "Object columns become categories.", "columns": ["job"]}
    ],
    "hyperparameters": {"learning_rate": "0.05", "num_boost_round (fitted)": "47"},
    "ensemble": None,
    "features": 2,
}


def test_the_best_candidates_are_shown_step_by_step_with_what_they_rely_on(
    s3, binary_test_set, sagemaker_stub
):
    # Given three candidates: one whose reports hold the local documents, one whose locations are empty
    # (as SageMaker's own reports would be to this reader), one pointing outside the run's output
    key = f"jobs/{NAMES.run_id}/autopilot/{NAMES.automl_job}/documentation"
    s3.put_object(
        Bucket=ARTIFACTS_BUCKET,
        Key=f"{key}/model_monitor/output/LightGBM-t1/{MODEL_INSIGHTS_FILE}",
        Body=json.dumps(
            {
                "candidate": "LightGBM-t1",
                "definition": DEFINITION,
                "validation_rows": 120,
                "metrics": {"AUC": 0.91, "LogLoss": 0.3},
            }
        ).encode(),
    )
    s3.put_object(
        Bucket=ARTIFACTS_BUCKET,
        Key=f"{key}/explainability/output/LightGBM-t1/{EXPLAINABILITY_FILE}",
        Body=json.dumps(
            {
                "candidate": "LightGBM-t1",
                "method": "permutation importance on 120 validation rows",
                "rows": 120,
                "features": [{"feature": "age", "importance": 0.2}, {"feature": "job", "importance": 0.01}],
            }
        ).encode(),
    )
    listed = [
        candidate("LightGBM-t1", 0.91, "LightGBM-t1"),
        candidate("XGBoost-t2", 0.9, "XGBoost-t2"),
        candidate("Elsewhere-t3", 0.89, "Elsewhere-t3", base="s3://another-bucket/out"),
    ]

    # When the run is evaluated
    evaluate(s3, sagemaker_stub, candidates=listed)

    # Then leaderboard.json keeps each candidate's steps, metrics and report locations, and the definition
    board = json.loads(read(s3, "leaderboard.json"))
    best, empty, elsewhere = board["autopilot"]["candidates"]
    assert best["steps"] == [
        {
            "type": "AWS::SageMaker::TrainingJob",
            "name": f"{NAMES.automl_job}-lightgbm-t1",
            "arn": f"arn:aws:sagemaker:eu-west-1:123456789012:training-job/{NAMES.automl_job}-lightgbm-t1",
        }
    ]
    assert {"name": "LogLoss", "set": "Validation", "value": 0.3} in best["metrics"]
    assert best["definition"] == DEFINITION and best["validation"]["rows"] == 120
    assert [f["feature"] for f in best["importance"]["features"]] == ["age", "job"]
    assert "definition" not in empty and "SageMaker Studio" in " ".join(empty["notes"])
    assert "outside the run's Autopilot output" in " ".join(elsewhere["notes"])
    # And the page shows each of them, the best with its preprocessing, hyperparameters and reliance
    page = parse(read(s3, "report.html").decode())
    sections = page.find_all("section", cls="candidate")
    assert [s.attrs["data-candidate"] for s in sections] == ["LightGBM-t1", "XGBoost-t2", "Elsewhere-t3"]
    shown = sections[0]
    assert f"{NAMES.automl_job}-lightgbm-t1" in shown.text()
    assert "LightGBM gradient-boosted trees" in shown.find_all("p", cls="algorithm")[0].text()
    (step,) = shown.find_all("ol", cls="preprocessing")[0].find_all("li")
    assert all(part in step.text() for part in ("CategoryFeatureGenerator", "become categories", "(job)"))
    assert "num_boost_round (fitted)" in shown.text()
    assert [s.attrs["data-chart"] for s in shown.find_all("svg")] == ["importance"]
    assert not sections[1].find_all("svg")


def test_each_hyperparameter_is_set_against_the_objective_on_the_scale_it_was_searched():
    tuning = {
        "best": "t2",
        "ranges": {
            "ContinuousParameterRanges": [
                {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"},
                {"Name": "subsample", "MinValue": "0.5", "MaxValue": "1", "ScalingType": "Linear"},
            ],
            "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
        },
        "trials": [
            {
                "name": "t1",
                "objective": 0.8,
                "hyperparameters": {"eta": "0.1", "subsample": "0.9", "booster": "dart"},
            },
            {
                "name": "t0",
                "objective": None,
                "hyperparameters": {"eta": "0.3", "subsample": "0.6", "booster": "dart"},
            },
            {
                "name": "t2",
                "objective": 0.9,
                "hyperparameters": {"eta": "0.02", "subsample": "0.7", "booster": "gbtree"},
            },
        ],
    }
    series = {s.name: s for s in hyperparameter_series(tuning)}
    assert sorted(series) == ["booster", "eta", "subsample"]
    # Trials without an objective have no point; the best trial is marked
    assert series["eta"].numbers == [0.1, 0.02] and series["eta"].objectives == [0.8, 0.9]
    assert series["eta"].best == 1
    assert (series["eta"].logarithmic, series["subsample"].logarithmic) == (True, False)
    assert series["booster"].categorical and series["booster"].values == ["dart", "gbtree"]
    # Without the job's ranges, a value that is not a number still makes the parameter categorical
    unranged = {s.name: s for s in hyperparameter_series({**tuning, "ranges": None})}
    assert unranged["booster"].categorical and not unranged["eta"].logarithmic


def test_an_exploration_that_is_not_json_is_reported_unreadable_not_fatal(
    s3, binary_test_set, sagemaker_stub
):
    s3.put_object(Bucket=DATA_BUCKET, Key=f"datasets/bank/{EXPLORATION}", Body=b"{not json")
    evaluation, _ = evaluate(s3, sagemaker_stub)
    assert evaluation["data"]["status"] == "unreadable" and "is not JSON" in evaluation["data"]["reason"]
    assert evaluation["winner"] is not None


def test_the_tuning_section_says_why_tuning_ended_and_where_it_started_from():
    # Given a recorded run's documents, its tuning job warm-started from an earlier run's
    fixtures = Path(__file__).parents[1] / "cli" / "fixtures" / "report"
    evaluation = json.loads((fixtures / "evaluation.json").read_text())
    board = json.loads((fixtures / "leaderboard.json").read_text())
    parent = {"HyperParameterTuningJobName": "mlsloc-bank-first-hpo"}
    board["tuning"]["warm_start"] = {
        "ParentHyperParameterTuningJobs": [parent],
        "WarmStartType": "TransferLearning",
    }

    # When the report is drawn
    page = render_report(evaluation, board)

    # Then the tuning section names why it ended and its parent
    assert "Ended: it spent its budget: 6 of 6 training jobs." in page
    assert "Warm-started (TransferLearning) from mlsloc-bank-first-hpo." in page


@pytest.mark.parametrize(
    ("script", "notes", "said"),
    [
        (None, [], ["Built-in XGBoost: "]),
        (
            {"entry_point": "train.py", "framework": "sklearn", "framework_version": "1.2-1"},
            ["metric validation:auc: its regex matched nothing in 2 of 6 trials (t-001, t-004)"],
            [
                "Your script train.py (sklearn 1.2-1): ",
                "metric validation:auc: its regex matched nothing in 2 of 6 trials (t-001, t-004)",
            ],
        ),
    ],
)
def test_the_tuning_section_says_what_was_tuned_and_the_plans_notes(script, notes, said):
    # Given a recorded run's documents: built-in XGBoost or the user's script tuned, PlanDeployment's notes
    fixtures = Path(__file__).parents[1] / "cli" / "fixtures" / "report"
    evaluation = json.loads((fixtures / "evaluation.json").read_text())
    board = json.loads((fixtures / "leaderboard.json").read_text())
    board["tuning"].update(script=script, notes=notes)

    # When the report is drawn
    section = render_report(evaluation, board).split('<section id="tuning">')[1].split("</section>")[0]

    # Then its tuning section names what was tuned and says every note
    for text in said:
        assert escape(text) in section


def test_evaluate_carries_the_plans_notes_into_the_leaderboard_and_the_report(
    s3, binary_test_set, sagemaker_stub
):
    # Given a deployment whose plan has a note on the tuning
    leaderboard_stubs(sagemaker_stub)
    note = "metric validation:auc: its regex matched nothing in 1 of 6 trials (t-002)"
    deployment = {"finalists": FINALISTS, "notes": [note]}

    # When the run is evaluated
    run_evaluation({"run": make_run(), "deployment": deployment}, services(Endpoint()))

    # Then leaderboard.json keeps it, and the report's tuning section says it
    board = json.loads(read(s3, "leaderboard.json"))
    assert board["tuning"]["notes"] == [note]
    assert board["tuning"]["script"] is None
    [section] = parse(read(s3, "report.html").decode()).find_all("section", id="tuning")
    assert note in section.text()


def test_a_scripts_json_encoded_categorical_values_are_shown_as_values():
    # Given a script run's trials: categorical values JSON-encoded, as SageMaker passes a framework's
    fixtures = Path(__file__).parents[1] / "cli" / "fixtures" / "report"
    evaluation = json.loads((fixtures / "evaluation.json").read_text())
    board = json.loads((fixtures / "leaderboard.json").read_text())
    for i, trial in enumerate(board["tuning"]["trials"]):
        trial["hyperparameters"]["loss"] = json.dumps(["log_loss", "exponential"][i % 2])
    series = {s.name: s for s in hyperparameter_series(board["tuning"])}

    # When the report is drawn
    section = render_report(evaluation, board).split('<section id="tuning">')[1].split("</section>")[0]

    # Then the values read as the script receives them decoded, in the chart and in the table
    assert set(series["loss"].values) == {"log_loss", "exponential"} and series["loss"].categorical
    assert "loss=log_loss" in section and escape('"log_loss"') not in section
