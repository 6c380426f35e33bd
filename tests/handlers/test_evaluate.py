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
from handlers.evaluate.handler import Services, lambda_handler, run_evaluation
from tests.handlers.conftest import ARTIFACTS_BUCKET, DATA_BUCKET, KEY_ARN
from tests.handlers.runs import NAMES, make_run

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


def leaderboard_stubs(stub: Stubber, trials: int = 5) -> None:
    """Two pages of tuning trials, one page of Autopilot candidates."""
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
    candidates = [
        {
            "CandidateName": name,
            "FinalAutoMLJobObjectiveMetric": {"MetricName": "AUC", "Value": value},
            "ObjectiveStatus": "Succeeded",
            "CandidateSteps": [],
            "CandidateStatus": "Completed",
            "CreationTime": T0,
            "LastModifiedTime": T0,
        }
        for name, value in (("LightGBM-1", 0.88), ("WeightedEnsemble-L2", 0.9))
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
    assert set(evaluation["timings"]) == {"load_test_set_s", "score_s", "leaderboard_s"}


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
    assert board["autopilot"]["best"] == "WeightedEnsemble-L2"
    assert board["warnings"] == []


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
    # Objective per trial with its best-so-far line, three bar charts, a confusion matrix per variant
    assert charts.count("trials") == 1
    assert charts.count("bars") == 3
    assert charts.count("confusion") == 2
    assert any(tag == "polyline" and attrs.get("class") == "best-so-far" for tag, attrs in parser.tags)
    assert sum(1 for tag, _ in parser.tags if tag == "circle") == 5  # one point per trial
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
    assert "cannot list trials (ResourceNotFound" in html


def test_handler_invokes_each_variant_of_the_run_endpoint_and_encrypts(
    s3, binary_test_set, sagemaker_stub, context
):
    # Given the real runtime client, stubbed: one request per variant with exactly the expected payload
    leaderboard_stubs(sagemaker_stub)
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
    # Then both were scored, and the report objects are encrypted with the stack's key
    assert set(summary["metrics"]) == {"Tuning", "Autopilot"}
    for name in ("evaluation.json", "leaderboard.json", "report.html"):
        head = s3.head_object(Bucket=ARTIFACTS_BUCKET, Key=f"reports/{NAMES.run_id}/{name}")
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == KEY_ARN


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def test_chart_text_is_escaped():
    from handlers.evaluate import svg

    chart = svg.bar_chart([("<b>trial</b> & co", 1.0)], "a <title>", "metric")
    assert "<b>" not in chart and "&lt;b&gt;trial&lt;/b&gt; &amp; co" in chart
    ET.fromstring(chart)
