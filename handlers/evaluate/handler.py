"""Evaluate Lambda: score each variant on the test set; write evaluation.json, leaderboard.json and report."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from contracts.costs import Bill, bill
from contracts.prices import load as load_prices
from handlers.common import clients
from handlers.common.aws_errors import error_code
from handlers.common.errors import EvaluationFailed, InvalidInput
from handlers.common.json_types import JsonDict
from handlers.common.leaderboard import build_leaderboard
from handlers.common.s3io import write_encrypted
from handlers.common.s3uri import S3Uri, parse_s3_uri
from handlers.common.settings import settings
from handlers.evaluate.billing import run_usage
from handlers.evaluate.candidates import describe_candidates
from handlers.evaluate.document import cost_block, evaluation_document, summary
from handlers.evaluate.exploration import data_summary
from handlers.evaluate.metrics import pick_winner
from handlers.evaluate.report_html import render_report
from handlers.evaluate.scoring import Invoke, endpoint_invoker, score_all
from handlers.evaluate.testset import TestSet, load_test_set, load_validation_set

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

logger = Logger()


@dataclass(frozen=True)
class Services:
    """What evaluation talks to (injectable for tests)."""

    s3: S3Client
    sagemaker: SageMakerClient
    invoke: Invoke
    key_arn: str
    # What the run's jobs and endpoint used (handlers.evaluate.billing); None: the cost is not read.
    usage: Callable[[Mapping[str, Any]], Bill] | None = None


def _write_json(services: Services, uri: S3Uri, document: Any) -> None:
    body = json.dumps(document, indent=2, default=str).encode()
    write_encrypted(services.s3, uri, body, "application/json", services.key_arn)


def _validation_set(s3: S3Client, run: Mapping[str, Any]) -> TestSet | str:
    """Binary runs: the validation set the thresholds are chosen on, or why there is none.

    Without it the finalists are still judged (at 0.5 and by AUC), so a problem here is reported, not fatal.
    """
    dataset = run["dataset"]
    try:
        return load_validation_set(
            s3, dataset["validation"], dataset["autopilot"], str(run["target"]), list(run["classes"])
        )
    except ClientError as err:
        return f"cannot read the validation set ({error_code(err)}): {err}"
    except (EvaluationFailed, UnicodeDecodeError) as err:
        return f"cannot read the validation set: {err}"


def actual_cost(services: Services, run: Mapping[str, Any], results: list[Any]) -> JsonDict | None:
    """What the run's jobs and endpoint cost so far, priced in the run's region."""
    if services.usage is None:
        return None
    usage = services.usage(run)
    region = str((run.get("cost") or {}).get("region") or "")
    finalists = {r.variant: r.kind for r in results}
    # The local AWS is named by AWS_ENDPOINT_URL; its jobs ran for real, so their times are priced as AWS's.
    offline = bool(os.environ.get("AWS_ENDPOINT_URL"))
    return cost_block(run, bill(usage, region, load_prices(), finalists), offline)


def run_evaluation(event: Mapping[str, Any], services: Services, **limits: Any) -> JsonDict:
    """Score, rank, report; EvaluationFailed (after writing what is known) when no variant could be scored."""
    run, deployment = event.get("run"), event.get("deployment")
    if not isinstance(run, Mapping) or not isinstance(deployment, Mapping):
        raise InvalidInput("Evaluate needs {run, deployment, candidates}")
    finalists = deployment.get("finalists") or []
    prefix = parse_s3_uri(str(run["report_prefix"]))
    started = time.monotonic()
    dataset = run["dataset"]
    test = load_test_set(services.s3, dataset["test"], dataset["test_raw"], str(run["target"]))
    loaded = time.monotonic()
    validation = _validation_set(services.s3, run) if run["problem_type"] == "binary" else None
    loaded_validation = time.monotonic()
    results = score_all(services.invoke, finalists, test, run, validation, **limits)
    scored = time.monotonic()
    winner = pick_winner(str(run["problem_type"]), {r.variant: r.metrics for r in results if r.metrics})
    board = build_leaderboard(services.sagemaker, run)
    # PlanDeployment's words on the tuning (e.g. trials whose objective regex matched nothing).
    board["tuning"]["notes"] = [str(note) for note in deployment.get("notes") or []]
    describe_candidates(services.s3, board, str(run["autopilot"]["output_path"]))
    data = data_summary(services.s3, str(dataset["uri"]))
    priced = time.monotonic()
    cost = actual_cost(services, run, list(results))
    # score_s stays the test rows' time (what throughput figures divide by); thresholds are apart.
    thresholds_s = sum(float(r.threshold_choice["seconds"]) for r in results if r.threshold_choice)
    timings = {
        "load_test_set_s": round(loaded - started, 3),
        "load_validation_set_s": round(loaded_validation - loaded, 3),
        "score_s": round(scored - loaded_validation - thresholds_s, 3),
        "choose_thresholds_s": round(thresholds_s, 3),
        "leaderboard_s": round(priced - scored, 3),
        "cost_s": round(time.monotonic() - priced, 3),
    }
    document = evaluation_document(run, results, winner, len(test.labels), timings, validation, cost, data)
    evaluation_uri, report_uri = prefix.join("evaluation.json"), prefix.join("report.html")
    _write_json(services, evaluation_uri, document)
    _write_json(services, prefix.join("leaderboard.json"), board)
    html = render_report(document, board)
    write_encrypted(services.s3, report_uri, html.encode(), "text/html; charset=utf-8", services.key_arn)
    if winner is None:
        errors = "; ".join(f"{r.variant}: {r.error}" for r in results) or "no finalists were deployed"
        raise EvaluationFailed(f"no variant could be evaluated ({errors}); see {report_uri}")
    return summary(document, str(report_uri), str(evaluation_uri))


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> JsonDict:
    """Entry point (handlers.evaluate.handler.lambda_handler)."""
    config = settings().require("key_arn")
    run = event.get("run") or {}
    endpoint = str((run.get("names") or {}).get("endpoint", ""))
    sagemaker = clients.sagemaker()
    services = Services(
        s3=clients.s3(),
        sagemaker=sagemaker,
        invoke=endpoint_invoker(clients.sagemaker_runtime(), endpoint),
        key_arn=config.key_arn,
        usage=lambda run: run_usage(sagemaker, run),
    )
    result = run_evaluation(event, services)
    logger.info("evaluated", extra={"winner": result["winner"], "metrics": result["metrics"]})
    return result
