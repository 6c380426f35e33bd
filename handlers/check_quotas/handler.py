"""CheckQuotas Lambda: fail fast with QuotaExceeded before anything that costs money starts."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.check_quotas.assess import check, raise_if_short
from handlers.check_quotas.lookup import load_quotas
from handlers.common import clients
from handlers.common.errors import InvalidInput
from handlers.common.json_types import JsonDict

logger = Logger()


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> JsonDict:
    """Entry point (handlers.check_quotas.handler.lambda_handler); event {"run": run}."""
    run = event.get("run")
    if not isinstance(run, dict):
        raise InvalidInput("run: CheckQuotas needs the run object ValidateInput returned")
    client = clients.service_quotas()
    assessment = check(run, lambda names: load_quotas(client, names), client.meta.region_name)
    for warning in assessment.warnings:
        logger.warning(warning)
    logger.info("quotas checked", extra={"checked": assessment.checked})
    raise_if_short(assessment)
    return assessment.result()
