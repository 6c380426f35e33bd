"""ValidateInput Lambda: execution input → the run object ($.run), or InvalidInput saying what to fix."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from contracts import script_mode
from contracts.costs import CostInputs, budget_problem
from contracts.names import run_names
from contracts.run import Run
from handlers.common import clients
from handlers.common.errors import InvalidInput
from handlers.common.settings import Settings, settings
from handlers.validate_input.dataset import check_dataset
from handlers.validate_input.options import parse_options
from handlers.validate_input.plan import Context, build_run, parse_start_time
from handlers.validate_input.script import check_source
from handlers.validate_input.warm_start import describe_parents

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

logger = Logger()


def _execution(event: Mapping[str, Any]) -> Mapping[str, Any]:
    execution = event.get("execution")
    if not isinstance(execution, Mapping) or not execution.get("name") or not execution.get("state_machine"):
        raise InvalidInput("execution: the state machine must pass {name, id, state_machine, start_time}")
    return execution


def over_budget(run: Run) -> str | None:
    """Why the run's upper bound does not fit its max_cost_usd (what to change), or None."""
    cost = run["cost"]
    return budget_problem(CostInputs(**cost["inputs"]), cost["estimate"], cost["max_cost_usd"])


def validate(
    event: Mapping[str, Any],
    config: Settings,
    s3: S3Client,
    *,
    sagemaker: Callable[[], SageMakerClient] = clients.sagemaker,
    enforce_budget: bool = True,
) -> Run:
    """Check the input, the dataset (and a script's source), then plan the run; refuse it over its budget
    unless told not to.

    SageMaker is called only for a warm start, to check its parents.
    """
    execution = _execution(event)
    options = parse_options(event.get("input"), config.stage_defaults)
    try:
        names = run_names(config.name_prefix, str(execution["state_machine"]), str(execution["name"]))
    except ValueError as err:
        raise InvalidInput(
            f"execution name / NAME_PREFIX: {err}; use a shorter NAME_PREFIX (the stage's name_prefix)"
        ) from None
    dataset = check_dataset(s3, options.dataset, config.data_bucket)
    # Prices and images are per region: the one the run's clients (and so its instances) are in.
    region = str(s3.meta.region_name or "")
    image = config.xgboost_image
    if options.script is not None:
        check_source(s3, options.script, config.artifacts_bucket)
        try:
            image = script_mode.image_uri(options.script.framework, options.script.framework_version, region)
        except script_mode.ScriptModeError as err:
            raise InvalidInput(f"script.{err}") from None
    parents = (
        describe_parents(sagemaker(), config.name_prefix, options.warm_start) if options.warm_start else ()
    )
    ctx = Context(
        execution_name=str(execution["name"]),
        start_time=parse_start_time(execution.get("start_time")),
        names=names,
        artifacts_bucket=config.artifacts_bucket,
        stack_name=config.stack_name,
        region=region,
        parents=parents,
        image=image,
    )
    run = build_run(options, dataset, ctx)
    problem = over_budget(run) if enforce_budget else None
    if problem:
        raise InvalidInput(problem)
    return run


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Run:
    """Entry point (handlers.validate_input.handler.lambda_handler)."""
    config = settings().require(
        "data_bucket", "artifacts_bucket", "name_prefix", "stack_name", "stage_defaults", "xgboost_image"
    )
    run = validate(event, config, clients.s3())
    logger.info("run planned", extra={"run_id": run["run_id"], "problem_type": run["problem_type"]})
    return run
