"""PlanDeployment Lambda: {run, candidates} → models and production variants, or NoFinalist."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.common import clients
from handlers.common.errors import InvalidInput
from handlers.common.json_types import JsonDict
from handlers.common.settings import settings
from handlers.plan_deployment.diagnose import diagnose
from handlers.plan_deployment.plan import Images, plan
from handlers.plan_deployment.repack import repack, repacked_uri

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> JsonDict:
    """Entry point (handlers.plan_deployment.handler.lambda_handler)."""
    run, candidates = event.get("run"), event.get("candidates")
    if not isinstance(run, dict) or not isinstance(candidates, list):
        raise InvalidInput("PlanDeployment needs {run, candidates: [tuning result, autopilot result]}")
    config = settings().require("xgboost_image")
    notes = diagnose(clients.sagemaker(), run)
    for note in notes:
        logger.warning(note)
    result = plan(
        run,
        candidates,
        Images(xgboost=config.xgboost_image),
        script_model=_script_model(run, candidates),
        notes=notes,
    )
    logger.info("deployment planned", extra={"finalists": [f["variant"] for f in result["finalists"]]})
    return result


def _script_model(run: dict[str, Any], candidates: list[Any]) -> str | None:
    """A script run's best model repacked with its code (None for built-in XGBoost or a failed tuning)."""
    script = (run.get("tuning") or {}).get("script")
    tuned = [c for c in candidates if isinstance(c, dict) and c.get("kind") == "tuning"]
    if not script or not tuned or tuned[0].get("status") != "Succeeded" or not tuned[0].get("model_data"):
        return None
    key_arn = settings().require("key_arn").key_arn
    target = repacked_uri(run["tuning"]["output_path"], str(tuned[0]["best_training_job"]))
    return repack(clients.s3(), str(tuned[0]["model_data"]), str(script["source"]), target, key_arn)
