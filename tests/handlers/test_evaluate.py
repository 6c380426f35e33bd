"""Evaluate: both variants scored on the same rows, metrics, winner, reports written with KMS."""

from __future__ import annotations

import csv
import io
import json
import random
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber
from sklearn import metrics as skm

from handlers.common import clients
from handlers.common.errors import EvaluationFailed
from handlers.evaluate import svg
from handlers.evaluate.handler import Services, lambda_handler, run_evaluation
from handlers.evaluate.threshold import NoThresholdError, choose_threshold, metrics_at
from tests.handlers.conftest import ACCOUNT, ARTIFACTS_BUCKET, DATA_BUCKET, KEY_ARN, REGION
from tests.handlers.runs import NAMES, make_run
from tests.handlers.test_evaluate_cost import billing_stubs

T0 = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
JOBS = ("admin.", "blue-collar", "services, other")  # one value needs CSV quoting


def binary_rows(n: int = 30, seed: int = 11) -> tuple[str, str, list[int]]:
    """test/test.csv (label first, one-hot job) and test-raw/test.csv (header, raw job, target y)."""
    rng = random.Random(seed)
    numeric, raw = io.StringIO(), io.StringIO()
    writer = csv.writer(raw, lineterminator="\n")
    writer.writerow(["age", "job", "y"])
    labels = []
    for _ in range(n):
        age, job = rng.randint(18, 80), rng.randrange(3)
        label = int(age + rng.randint(-15, 15) > 50)
        labels.append(label)
        onehot = ",".join("1" if i == job else "0" for i in range(3))
        numeric.write(f"{label},{age},{onehot}\n")
        writer.writerow([age, JOBS[job], "yes" if label else "no"])
    return numeric.getvalue(), raw.getvalue(), labels


def tuning_model(body: bytes) -> tuple[bytes, list[float]]:
    """XGBoost stand-in: P(yes) from age; checks it gets 4 numeric features and no label."""
    scores = []
    for line in body.decode().splitlines():
        cells = line.split(",")
        assert len(cells) == 4, line
        scores.append(round(min(1.0, max(0.0, (float(cells[0]) - 20) / 60)), 3))
    return "".join(f"{s}\n" for s in scores).encode(), scores


def autopilot_model(body: bytes) -> tuple[bytes, list[str]]:
    """Autopilot stand-in: 'label,probability' from raw rows; checks no header and no target column."""
    out, labels = [], []
    for age, job in csv.reader(io.StringIO(body.decode())):
        assert job in JOBS, job
        label = "yes" if int(age) > 45 else "no"
        labels.append(label)
        out.append(f"{label},0.8")
    return ("\n".join(out) + "\n").encode(), labels


class Endpoint:
    """Both variants of the run's endpoint, recording every request."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.requests: list[tuple[str, int]] = []
        self.fail = fail or set()

    def __call__(self, variant: str, body: bytes) -> bytes:
        self.requests.append((variant, body.count(b"\n")))
        if variant in self.fail:
            error: Any = {
                "Error": {"Code": "ModelError", "Message": "Received server error (500) from primary"}
            }
            raise ClientError(error, "InvokeEndpoint")
        return (tuning_model if variant == "Tuning" else autopilot_model)(body)[0]


def leaderboard_stubs(stub: Stubber, trials: int = 5, candidates: list[dict[str, Any]] | None = None) -> None:
    """The tuning job's description, two pages of tuning trials, one page of Autopilot candidates."""
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:hyper-parameter-tuning-job/{NAMES.tuning_job}"
    stub.add_response(
        "describe_hyper_parameter_tuning_job",
        {
            "HyperParameterTuningJobName": NAMES.tuning_job,
            "HyperParameterTuningJobArn": arn,
            "HyperParameterTuningJobConfig": {
                "Strategy": "Bayesian",
                "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 8, "MaxParallelTrainingJobs": 2},
                "TuningJobCompletionCriteria": {
                    "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}
                },
            },
            "HyperParameterTuningJobStatus": "Completed",
            "CreationTime": T0,
            "TrainingJobStatusCounters": {"Completed": trials - 1, "Stopped": 1},
            "ObjectiveStatusCounters": {"Succeeded": trials},
            "TuningJobCompletionDetails": {"NumberOfTrainingJobsObjectiveNotImproving": 3},
        },
        {"HyperParameterTuningJobName": NAMES.tuning_job},
    )
    summaries = [
        {
            "TrainingJobName": f"{NAMES.tuning_job}-{i:03d}",
            "TrainingJobArn": f"arn:aws:sagemaker:eu-west-1:123456789012:training-job/t{i}",
            "CreationTime": T0 + timedelta(minutes=i),
            "TrainingStartTime": T0 + timedelta(minutes=i),
            "TrainingEndTime": T0 + timedelta(minutes=i, seconds=42),
            "TrainingJobStatus": "Completed" if i != 2 else "Stopped",
            "TunedHyperParameters": {"eta": f"0.{i + 1}", "max_depth": str(3 + i)},
            "FinalHyperParameterTuningJobObjectiveMetric": {
                "MetricName": "validation:auc",
                "Value": 0.8 + 0.02 * i,
            },
        }
        for i in range(trials)
    ]
    query = {
        "HyperParameterTuningJobName": NAMES.tuning_job,
        "SortBy": "CreationTime",
        "SortOrder": "Ascending",
    }
    stub.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {"TrainingJobSummaries": summaries[:3], "NextToken": "more"},
        query,
    )
    stub.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {"TrainingJobSummaries": summaries[3:]},
        {**query, "NextToken": "more"},
    )
    candidates = candidates or [
        {
            "CandidateName": name,
            "FinalAutoMLJobObjectiveMetric": {"MetricName": "AUC", "Value": value},
            "ObjectiveStatus": "Succeeded",
            "CandidateSteps": [],
            "CandidateStatus": "Completed",
            "CreationTime": T0,
            "EndTime": T0 + timedelta(seconds=seconds),
            "LastModifiedTime": T0,
        }
        for name, value, seconds in (("LightGBM-1", 0.88, 7), ("WeightedEnsemble-L2", 0.9, 3))
    ]
    stub.add_response(
        "list_candidates_for_auto_ml_job",
        {"Candidates": candidates},
        {"AutoMLJobName": NAMES.automl_job, "SortBy": "CreationTime", "SortOrder": "Ascending"},
    )


FINALISTS = [
    {"kind": "tuning", "variant": "Tuning", "model_name": NAMES.tuning_model, "job": NAMES.tuning_job},
    {
        "kind": "autopilot",
        "variant": "Autopilot",
        "model_name": NAMES.autopilot_model,
        "job": NAMES.automl_job,
    },
]


@pytest.fixture
def binary_test_set(s3) -> list[int]:
    numeric, raw, labels = binary_rows()
    s3.put_object(Bucket=DATA_BUCKET, Key="datasets/bank/test/test.csv", Body=numeric.encode())
    s3.put_object(Bucket=DATA_BUCKET, Key="datasets/bank/test-raw/test.csv", Body=raw.encode())
    return labels


@pytest.fixture
def sagemaker_stub():
    with Stubber(clients.sagemaker()) as stub:
        yield stub


def services(endpoint: Endpoint) -> Services:
    return Services(s3=clients.s3(), sagemaker=clients.sagemaker(), invoke=endpoint, key_arn=KEY_ARN)


def read(s3: Any, name: str) -> bytes:
    body: bytes = s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=f"reports/{NAMES.run_id}/{name}")["Body"].read()
    return body


def test_both_variants_are_scored_on_the_same_rows(s3, binary_test_set, sagemaker_stub):
    # Given a binary test set of 30 rows and both variants deployed
    leaderboard_stubs(sagemaker_stub)
    endpoint = Endpoint()
    event = {"run": make_run("binary"), "deployment": {"finalists": FINALISTS}, "candidates": []}
    # When evaluated in batches of at most 8 rows
    summary = run_evaluation(event, services(endpoint), max_rows=8)
    # Then every row went to each variant, in bounded batches
    assert [n for v, n in endpoint.requests if v == "Tuning"] == [8, 8, 8, 6]
    assert [n for v, n in endpoint.requests if v == "Autopilot"] == [8, 8, 8, 6]
    # And the metrics are those of the predictions on the test labels
    numeric, raw, labels = binary_rows()
    _, scores = tuning_model("\n".join(line.split(",", 1)[1] for line in numeric.splitlines()).encode())
    tuning_pred = [int(s >= 0.5) for s in scores]
    tuning = summary["metrics"]["Tuning"]
    assert tuning["auc"] == pytest.approx(skm.roc_auc_score(labels, scores))
    assert tuning["accuracy"] == pytest.approx(skm.accuracy_score(labels, tuning_pred))
    assert tuning["f1"] == pytest.approx(skm.f1_score(labels, tuning_pred))
    raw_rows = list(csv.reader(io.StringIO(raw)))[1:]
    autopilot_pred = [int(int(age) > 45) for age, _, _ in raw_rows]
    assert summary["metrics"]["Autopilot"]["accuracy"] == pytest.approx(
        skm.accuracy_score(labels, autopilot_pred)
    )
    # And the winner has the higher AUC on these rows
    aucs = {v: m["auc"] for v, m in summary["metrics"].items()}
    assert summary["winner"] == max(aucs, key=lambda v: aucs[v])
    assert summary["metric"] == "auc"
    assert "confusion_matrix" not in tuning  # the state machine gets scalars only
    assert len(json.dumps(summary)) < 4000
    # And the documents are where the summary says
    assert summary["report"] == f"s3://{ARTIFACTS_BUCKET}/reports/{NAMES.run_id}/report.html"
    evaluation = json.loads(read(s3, "evaluation.json"))
    assert evaluation["test_rows"] == 30
    assert evaluation["winner"] == summary["winner"]
    assert (
        evaluation["variants"]["Tuning"]["metrics"]["confusion_matrix"]
        == skm.confusion_matrix(labels, tuning_pred).tolist()
    )
    assert evaluation["variants"]["Tuning"]["requests"] == 4
    assert set(evaluation["timings"]) == {
        "load_test_set_s",
        "load_validation_set_s",
        "score_s",
        "choose_thresholds_s",
        "leaderboard_s",
        "cost_s",
    }


def test_leaderboard_lists_every_trial_and_candidate(s3, binary_test_set, sagemaker_stub):
    leaderboard_stubs(sagemaker_stub, trials=5)
    run_evaluation({"run": make_run(), "deployment": {"finalists": FINALISTS}}, services(Endpoint()))
    board = json.loads(read(s3, "leaderboard.json"))
    trials = board["tuning"]["trials"]
    assert [t["name"] for t in trials] == [f"{NAMES.tuning_job}-{i:03d}" for i in range(5)]
    assert trials[2]["status"] == "Stopped"
    assert trials[4]["hyperparameters"] == {"eta": "0.5", "max_depth": "7"}
    assert trials[0]["seconds"] == 42.0
    assert board["tuning"]["best"] == f"{NAMES.tuning_job}-004"  # highest AUC, Maximize
    assert [c["name"] for c in board["autopilot"]["candidates"]] == ["LightGBM-1", "WeightedEnsemble-L2"]
    assert [c["seconds"] for c in board["autopilot"]["candidates"]] == [7.0, 3.0]
    assert board["autopilot"]["best"] == "WeightedEnsemble-L2"
    assert board["warnings"] == []
    # Why tuning ended, and what it searched, as SageMaker describes the job
    assert board["tuning"]["ended"] == (
        "3 trials in a row did not improve the best objective by 1% (BestObjectiveNotImproving)"
    )
    assert board["tuning"]["strategy"] == "Bayesian"
    assert (board["run_id"], board["dataset"]) == (NAMES.run_id, make_run()["dataset"]["uri"])


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_report_is_self_contained_html_with_the_charts(s3, binary_test_set, sagemaker_stub):
    leaderboard_stubs(sagemaker_stub)
    run_evaluation({"run": make_run(), "deployment": {"finalists": FINALISTS}}, services(Endpoint()))
    html = read(s3, "report.html").decode()
    parser = _Tags()
    parser.feed(html)
    parser.close()
    charts = [attrs.get("data-chart") for tag, attrs in parser.tags if tag == "svg"]
    # Objective per trial with its best-so-far line, three bar charts, a confusion matrix per variant,
    # ROC and precision-recall curves (a curve per variant that gave probabilities), each tuned
    # hyperparameter against the objective
    assert charts.count("trials") == 1
    assert charts.count("bars") == 3
    assert charts.count("confusion") == 2
    assert (charts.count("roc"), charts.count("pr"), charts.count("hyperparameter")) == (1, 1, 2)
    assert any(tag == "polyline" and attrs.get("class") == "best-so-far" for tag, attrs in parser.tags)
    trials_chart = next(c for c in html.split("<svg")[1:] if 'data-chart="trials"' in c.split(">", 1)[0])
    assert trials_chart.count("<circle") == 5  # one point per trial
    roc_chart = next(c for c in html.split("<svg")[1:] if 'data-chart="roc"' in c.split(">", 1)[0])
    assert roc_chart.count('class="curve"') == 2  # the Autopilot stand-in returns a probability too
    # Self-contained: no scripts, no linked files or fonts
    assert not any(tag in ("script", "link", "img", "iframe") for tag, _ in parser.tags)
    assert not any("src" in attrs or "href" in attrs for _, attrs in parser.tags)
    assert "@import" not in html and "url(" not in html and "@font-face" not in html
    # Each chart is well-formed SVG, and user text is escaped
    for chunk in html.split("<svg")[1:]:
        ET.fromstring("<svg" + chunk.split("</svg>")[0] + "</svg>")


def test_a_failing_variant_leaves_the_other_as_winner(s3, binary_test_set, sagemaker_stub):
    leaderboard_stubs(sagemaker_stub)
    summary = run_evaluation(
        {"run": make_run(), "deployment": {"finalists": FINALISTS}}, services(Endpoint(fail={"Tuning"}))
    )
    assert summary["winner"] == "Autopilot"
    assert "ModelError" in summary["metrics"]["Tuning"]["error"]
    assert "ModelError" in read(s3, "report.html").decode()


def test_no_variant_scored_raises_after_writing_the_evaluation(s3, binary_test_set, sagemaker_stub):
    leaderboard_stubs(sagemaker_stub)
    event = {"run": make_run(), "deployment": {"finalists": FINALISTS}}
    with pytest.raises(
        EvaluationFailed, match=r"no variant could be evaluated.*Tuning: InvokeEndpoint failed"
    ):
        run_evaluation(event, services(Endpoint(fail={"Tuning", "Autopilot"})))
    assert json.loads(read(s3, "evaluation.json"))["winner"] is None


def test_mismatched_test_channels_fail(s3, sagemaker_stub):
    numeric, raw, _ = binary_rows()
    s3.put_object(Bucket=DATA_BUCKET, Key="datasets/bank/test/test.csv", Body=numeric.encode())
    s3.put_object(
        Bucket=DATA_BUCKET,
        Key="datasets/bank/test-raw/test.csv",
        Body="\n".join(raw.splitlines()[:-3]).encode(),
    )
    with pytest.raises(EvaluationFailed, match="test/ has 30 rows but test-raw/ has 27"):
        run_evaluation({"run": make_run(), "deployment": {"finalists": FINALISTS}}, services(Endpoint()))


def test_regression_report_has_residual_plots(s3, sagemaker_stub):
    # Given a regression test set where the target is twice the feature
    rows = [(float(i), 2.0 * i) for i in range(1, 21)]
    s3.put_object(
        Bucket=DATA_BUCKET,
        Key="datasets/bank/test/test.csv",
        Body="".join(f"{y},{x}\n" for x, y in rows).encode(),
    )
    raw = "x,y\n" + "".join(f"{x},{y}\n" for x, y in rows)
    s3.put_object(Bucket=DATA_BUCKET, Key="datasets/bank/test-raw/test.csv", Body=raw.encode())
    sagemaker_stub.add_client_error(
        "list_training_jobs_for_hyper_parameter_tuning_job", "ResourceNotFound", "Amazon SageMaker can't find"
    )
    sagemaker_stub.add_response("list_candidates_for_auto_ml_job", {"Candidates": []})

    def endpoint(variant: str, body: bytes) -> bytes:
        xs = [float(line.split(",")[0]) for line in body.decode().splitlines()]
        offset = 0.0 if variant == "Autopilot" else 1.0  # Tuning is off by one everywhere
        return "".join(f"{2 * x + offset}\n" for x in xs).encode()

    # When evaluated
    summary = run_evaluation(
        {"run": make_run("regression"), "deployment": {"finalists": FINALISTS}},
        Services(s3=s3, sagemaker=clients.sagemaker(), invoke=endpoint, key_arn=KEY_ARN),
    )
    # Then RMSE picks the exact variant, and the report plots residuals
    assert summary["metrics"]["Tuning"]["rmse"] == pytest.approx(1.0)
    assert summary["metrics"]["Autopilot"]["rmse"] == 0.0
    assert summary["winner"] == "Autopilot"
    html = read(s3, "report.html").decode()
    assert html.count('data-chart="residuals"') == 2
    assert html.count('data-chart="predicted-actual"') == 2
    assert "cannot list trials (ResourceNotFound" in html
    # And evaluation.json keeps predicted against actual for the test rows (20: all of them)
    insight = json.loads(read(s3, "evaluation.json"))["variants"]["Tuning"]["insight"]
    assert insight["actual"] == [y for _, y in rows]
    assert insight["predicted"] == [y + 1.0 for _, y in rows]
    assert insight["residual_mean"] == -1.0


def test_handler_invokes_each_variant_of_the_run_endpoint_and_encrypts(
    s3, binary_test_set, sagemaker_stub, context
):
    # Given the real runtime client, stubbed: one request per variant with exactly the expected payload
    leaderboard_stubs(sagemaker_stub)
    billing_stubs(sagemaker_stub, timedelta(minutes=10))  # the handler prices what the run used
    numeric, raw, _ = binary_rows()
    tuning_body = "".join(line.split(",", 1)[1] + "\n" for line in numeric.splitlines()).encode()
    # Raw rows without the header and the target column, CSV-quoted as needed ("services, other")
    autopilot_body_bytes = "".join(
        _csv_line(row[:2]) + "\n" for row in list(csv.reader(io.StringIO(raw)))[1:]
    ).encode()
    runtime = clients.sagemaker_runtime()
    with Stubber(runtime) as stub:
        for variant, body, model in (
            ("Tuning", tuning_body, tuning_model),
            ("Autopilot", autopilot_body_bytes, autopilot_model),
        ):
            answer = model(body)[0]
            stub.add_response(
                "invoke_endpoint",
                {"Body": StreamingBody(io.BytesIO(answer), len(answer)), "ContentType": "text/csv"},
                {
                    "EndpointName": NAMES.endpoint,
                    "TargetVariant": variant,
                    "ContentType": "text/csv",
                    "Accept": "text/csv",
                    "Body": body,
                },
            )
        # When the handler runs
        summary = lambda_handler(
            {"run": make_run(), "deployment": {"finalists": FINALISTS}, "candidates": []}, context
        )
        stub.assert_no_pending_responses()
    # Then both were scored and priced, and the report objects are encrypted with the stack's key
    assert set(summary["metrics"]) == {"Tuning", "Autopilot"}
    sagemaker_stub.assert_no_pending_responses()
    assert summary["cost"]["actual"]["total_usd"] > 0
    for name in ("evaluation.json", "leaderboard.json", "report.html"):
        head = s3.head_object(Bucket=ARTIFACTS_BUCKET, Key=f"reports/{NAMES.run_id}/{name}")
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == KEY_ARN


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def test_chart_text_is_escaped():
    chart = svg.bar_chart([("<b>trial</b> & co", 1.0)], "a <title>", "metric")
    assert "<b>" not in chart and "&lt;b&gt;trial&lt;/b&gt; &amp; co" in chart
    ET.fromstring(chart)


def test_the_threshold_is_where_f1_on_the_given_rows_is_highest():
    # Given seeded labels (about 10% positive) and scores that rank them imperfectly
    rng = random.Random(3)
    labels = [int(rng.random() < 0.1) for _ in range(400)]
    scores = [round(min(1.0, max(0.0, 0.15 * y + rng.gauss(0.1, 0.07))), 3) for y in labels]
    # When the threshold is chosen
    chosen = choose_threshold(labels, scores)
    # Then no threshold between the scores gives a higher F1 (scikit-learn's F1, every candidate)
    candidates = sorted(set(scores))
    best = max(skm.f1_score(labels, [int(s >= t) for s in scores]) for t in candidates)
    assert chosen.f1 == pytest.approx(best)
    assert skm.f1_score(labels, [int(s >= chosen.value) for s in scores]) == pytest.approx(best)
    # And it lies halfway between two observed scores, not on one
    assert chosen.value not in scores
    assert (chosen.rows, chosen.positives) == (400, sum(labels))


def test_threshold_ties_go_to_the_higher_threshold_and_edges_are_scores():
    # F1 is 2/3 at >= 0.8 (one TP, one FN) and at >= 0.3 (two TP, two FP): the higher one wins
    assert choose_threshold([1, 0, 1, 0], [0.8, 0.4, 0.3, 0.35]).value == pytest.approx((0.8 + 0.4) / 2)
    # Every row predicted positive is best here: the threshold is the lowest score itself
    assert choose_threshold([1, 1, 0], [0.2, 0.1, 0.3]).value == 0.1
    # A constant model: one threshold, all positive
    assert choose_threshold([0, 1], [0.4, 0.4]).value == 0.4


def test_no_threshold_without_a_positive_row():
    with pytest.raises(NoThresholdError, match="no positive row"):
        choose_threshold([0, 0, 0], [0.1, 0.2, 0.3])


def test_metrics_at_a_threshold_are_scikit_learns():
    labels, scores = [0, 0, 1, 1, 0, 1, 0, 0], [0.1, 0.25, 0.3, 0.9, 0.35, 0.2, 0.05, 0.28]
    found = metrics_at(labels, scores, 0.27)
    predicted = [int(s >= 0.27) for s in scores]
    assert found["threshold"] == 0.27 and "auc" not in found
    assert found["precision"] == pytest.approx(skm.precision_score(labels, predicted))
    assert found["recall"] == pytest.approx(skm.recall_score(labels, predicted))
    assert found["f1"] == pytest.approx(skm.f1_score(labels, predicted))
    assert found["accuracy"] == pytest.approx(skm.accuracy_score(labels, predicted))
    assert found["confusion_matrix"] == skm.confusion_matrix(labels, predicted).tolist()


SHY = 0.3  # the tuning stand-in's scores scaled down: nothing reaches 0.5, as with a rare positive class


class ShyEndpoint(Endpoint):
    """Both variants; Tuning ranks rows well but never scores 0.5; Autopilot may answer labels only."""

    def __init__(self, labels_only: bool = False, fail_after: int | None = None) -> None:
        super().__init__()
        self.labels_only = labels_only
        self.fail_after = fail_after

    def __call__(self, variant: str, body: bytes) -> bytes:
        answer = super().__call__(variant, body)
        if self.fail_after is not None and len(self.requests) > self.fail_after:
            raise ClientError({"Error": {"Code": "ModelError", "Message": "boom"}}, "InvokeEndpoint")
        if variant == "Tuning":
            return "".join(f"{float(v) * SHY:.4f}\n" for v in answer.decode().split()).encode()
        if self.labels_only:
            return "".join(line.split(",")[0] + "\n" for line in answer.decode().splitlines()).encode()
        return answer


def put_validation(s3: Any, rows: int = 40, seed: int = 5, train_rows: int = 60) -> list[int]:
    """validation/ (numeric) and autopilot/ (raw: train rows, then the same validation rows)."""
    numeric, raw, labels = binary_rows(rows, seed)
    _, train_raw, _ = binary_rows(train_rows, seed + 100)
    autopilot = train_raw + "".join(line + "\n" for line in raw.splitlines()[1:])
    s3.put_object(Bucket=DATA_BUCKET, Key="datasets/bank/validation/validation.csv", Body=numeric.encode())
    s3.put_object(Bucket=DATA_BUCKET, Key="datasets/bank/autopilot/train.csv", Body=autopilot.encode())
    return labels


def _shy_scores(numeric: str) -> list[float]:
    _, scores = tuning_model("\n".join(line.split(",", 1)[1] for line in numeric.splitlines()).encode())
    return [float(f"{s * SHY:.4f}") for s in scores]


def test_a_binary_finalist_gets_metrics_at_the_threshold_chosen_on_validation(
    s3, binary_test_set, sagemaker_stub
):
    # Given a tuning finalist whose scores never reach 0.5, and a validation set in the dataset
    leaderboard_stubs(sagemaker_stub)
    validation_labels = put_validation(s3)
    endpoint = ShyEndpoint()
    run = make_run("binary")
    run["tuning"]["static_hyperparameters"] = {"scale_pos_weight": "19"}
    # When evaluated
    summary = run_evaluation(
        {"run": run, "deployment": {"finalists": FINALISTS}}, services(endpoint), max_rows=8
    )
    # Then at 0.5 it predicts no positive at all
    evaluation = json.loads(read(s3, "evaluation.json"))
    tuning = evaluation["variants"]["Tuning"]
    assert tuning["metrics"]["recall"] == 0 and tuning["metrics"]["f1"] == 0
    # And its threshold is the one that maximises F1 on the validation rows (not on the test rows)
    validation_numeric, _, _ = binary_rows(40, 5)
    expected = choose_threshold(validation_labels, _shy_scores(validation_numeric))
    at = tuning["metrics"]["at_threshold"]
    assert at["threshold"] == pytest.approx(expected.value) and at["threshold"] < 0.5
    # And the test metrics at that threshold are scikit-learn's on the test rows
    numeric, _, labels = binary_rows()
    predicted = [int(s >= at["threshold"]) for s in _shy_scores(numeric)]
    assert at["f1"] == pytest.approx(skm.f1_score(labels, predicted)) and at["f1"] > 0
    assert at["confusion_matrix"] == skm.confusion_matrix(labels, predicted).tolist()
    assert tuning["threshold_choice"]["f1"] == pytest.approx(expected.f1)
    assert tuning["threshold_choice"]["rows"] == 40 and tuning["threshold_choice"]["requests"] == 5
    # And each variant scored the validation rows (raw ones for Autopilot: the autopilot channel's tail)
    assert [n for v, n in endpoint.requests if v == "Autopilot"] == [8, 8, 8, 6, 8, 8, 8, 8, 8]
    assert evaluation["variants"]["Autopilot"]["metrics"]["at_threshold"]["threshold"] is not None
    # And the winner is still chosen by the threshold-free AUC, and says so
    assert evaluation["winner_metric"] == "auc" and "highest auc on the test set" in evaluation["winner_rule"]
    assert evaluation["decision_threshold"]["validation_rows"] == 40
    assert evaluation["scale_pos_weight"]["value"] == "19"
    # And the state machine's summary carries the scalars at the threshold
    assert summary["metrics"]["Tuning"]["at_threshold"]["f1"] == pytest.approx(at["f1"])
    assert "confusion_matrix" not in summary["metrics"]["Tuning"]["at_threshold"]
    # And the report shows both rows, the rule, the class weight and the matrix at the threshold
    html = read(s3, "report.html").decode()
    assert f"{svg.fmt(at['threshold'])} (validation)" in html
    assert "scale_pos_weight = 19" in html and "highest F1 of the positive class" in html
    assert html.count('data-chart="confusion"') == 4
    assert "Autopilot trained on these rows too" in html


def test_an_autopilot_answering_labels_only_gets_no_threshold_and_says_why(
    s3, binary_test_set, sagemaker_stub
):
    leaderboard_stubs(sagemaker_stub)
    put_validation(s3)
    run_evaluation(
        {"run": make_run(), "deployment": {"finalists": FINALISTS}}, services(ShyEndpoint(labels_only=True))
    )
    evaluation = json.loads(read(s3, "evaluation.json"))
    at = evaluation["variants"]["Autopilot"]["metrics"]["at_threshold"]
    assert at["threshold"] is None and "labels without a probability" in at["reason"]
    assert evaluation["variants"]["Autopilot"]["threshold_choice"] is None
    assert evaluation["variants"]["Tuning"]["metrics"]["at_threshold"]["threshold"] is not None
    assert (
        "no threshold: its endpoint returns labels without a probability" in read(s3, "report.html").decode()
    )


def test_without_a_readable_validation_set_the_finalists_are_still_judged(
    s3, binary_test_set, sagemaker_stub
):
    # Given a dataset whose validation channel is missing (the test channels are there)
    leaderboard_stubs(sagemaker_stub)
    summary = run_evaluation(
        {"run": make_run(), "deployment": {"finalists": FINALISTS}}, services(ShyEndpoint())
    )
    # Then the winner and the 0.5 metrics are there, and every threshold says why it is missing
    assert summary["winner"] in {"Tuning", "Autopilot"}
    evaluation = json.loads(read(s3, "evaluation.json"))
    assert "validation/ holds no data" in evaluation["decision_threshold"]["error"]
    for entry in evaluation["variants"].values():
        assert "cannot read the validation set" in entry["metrics"]["at_threshold"]["reason"]
    assert evaluation["scale_pos_weight"] == {
        "value": None,
        "how": "not set (the dataset's manifest has no class counts): trials trained unweighted",
    }


def test_an_autopilot_channel_not_ending_with_the_validation_rows_is_reported(
    s3, binary_test_set, sagemaker_stub
):
    # Given an autopilot channel whose last rows are not the validation rows
    leaderboard_stubs(sagemaker_stub)
    numeric, _, labels = binary_rows(40, 5)
    _, other, other_labels = binary_rows(40, 6)
    assert labels != other_labels
    s3.put_object(Bucket=DATA_BUCKET, Key="datasets/bank/validation/validation.csv", Body=numeric.encode())
    s3.put_object(Bucket=DATA_BUCKET, Key="datasets/bank/autopilot/train.csv", Body=other.encode())
    run_evaluation({"run": make_run(), "deployment": {"finalists": FINALISTS}}, services(ShyEndpoint()))
    error = json.loads(read(s3, "evaluation.json"))["decision_threshold"]["error"]
    assert "autopilot/ does not end with the rows of validation/" in error


def test_a_validation_scoring_error_leaves_the_test_metrics(s3, binary_test_set, sagemaker_stub):
    # Given an endpoint that fails after the 4 requests that carry the test rows
    leaderboard_stubs(sagemaker_stub)
    put_validation(s3)
    endpoint = ShyEndpoint(fail_after=4)
    summary = run_evaluation(
        {"run": make_run(), "deployment": {"finalists": FINALISTS[:1]}}, services(endpoint), max_rows=8
    )
    tuning = summary["metrics"]["Tuning"]
    assert tuning["auc"] is not None
    assert tuning["at_threshold"]["threshold"] is None
    assert "scoring the validation set failed (ModelError)" in tuning["at_threshold"]["reason"]


def test_multiclass_has_no_threshold(s3, sagemaker_stub):
    rows = [(i % 3, i) for i in range(30)]
    s3.put_object(
        Bucket=DATA_BUCKET,
        Key="datasets/bank/test/test.csv",
        Body="".join(f"{y},{x}\n" for y, x in rows).encode(),
    )
    raw = "x,y\n" + "".join(f"{x},{'abc'[y]}\n" for y, x in rows)
    s3.put_object(Bucket=DATA_BUCKET, Key="datasets/bank/test-raw/test.csv", Body=raw.encode())
    sagemaker_stub.add_client_error(
        "list_training_jobs_for_hyper_parameter_tuning_job", "ResourceNotFound", "x"
    )
    sagemaker_stub.add_response("list_candidates_for_auto_ml_job", {"Candidates": []})
    requests: list[str] = []

    def endpoint(variant: str, body: bytes) -> bytes:
        requests.append(variant)
        xs = [int(line.split(",")[0]) for line in body.decode().splitlines()]
        if variant == "Tuning":
            return "".join(",".join("1" if c == x % 3 else "0" for c in range(3)) + "\n" for x in xs).encode()
        return "".join(f"{'abc'[x % 3]}\n" for x in xs).encode()

    run_evaluation(
        {"run": make_run("multiclass"), "deployment": {"finalists": FINALISTS}},
        Services(s3=s3, sagemaker=clients.sagemaker(), invoke=endpoint, key_arn=KEY_ARN),
    )
    evaluation = json.loads(read(s3, "evaluation.json"))
    assert requests == ["Tuning", "Autopilot"]  # the test rows only
    assert evaluation["decision_threshold"] is None and evaluation["scale_pos_weight"] is None
    assert all("at_threshold" not in e["metrics"] for e in evaluation["variants"].values())
    # Each finalist's scores per class, drawn as one chart
    scores = evaluation["variants"]["Tuning"]["insight"]["classes"]
    assert [(c["name"], c["f1"], c["support"]) for c in scores] == [
        ("a", 1.0, 10),
        ("b", 1.0, 10),
        ("c", 1.0, 10),
    ]
    assert read(s3, "report.html").decode().count('data-chart="class-scores"') == 1
