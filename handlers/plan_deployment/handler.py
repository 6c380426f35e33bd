"""PlanDeployment Lambda: {run, candidates} → models and production variants, or NoFinalist."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.common.errors import InvalidInput
from handlers.common.json_types import JsonDict
from handlers.common.settings import settings
from handlers.plan_deployment.plan import Images, plan

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> JsonDict:
    """Entry point (handlers.plan_deployment.handler.lambda_handler)."""
    run, candidates = event.get("run"), event.get("candidates")
    if not isinstance(run, dict) or not isinstance(candidates, list):
        raise InvalidInput("PlanDeployment needs {run, candidates: [tuning result, autopilot result]}")
    config = settings().require("xgboost_image")
    result = plan(run, candidates, Images(xgboost=config.xgboost_image))
    logger.info("deployment planned", extra={"finalists": [f["variant"] for f in result["finalists"]]})
    return result
