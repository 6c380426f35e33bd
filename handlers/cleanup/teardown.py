"""Stop the run's jobs, then delete endpoint → endpoint config → models; 'not found' is success."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.names import RunNames
from handlers.common.sagemaker_cleanup import (
    Outcome,
    WaitBudget,
    delete_serving,
    stop_automl_job,
    stop_tuning_job,
)

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

# The primitives live in common/ (the sweeper and the stack teardown use them too); re-exported here.
__all__ = [
    "Outcome",
    "WaitBudget",
    "stop_automl_job",
    "stop_tuning_job",
    "teardown",
]


def teardown(sm: SageMakerClient, names: RunNames, keep_endpoint: bool, budget: WaitBudget) -> Outcome:
    """Stop jobs; delete (or keep) the endpoint, its config and both models."""
    out = Outcome()
    stop_tuning_job(sm, names.tuning_job, out)
    stop_automl_job(sm, names.automl_job, out)
    if keep_endpoint:
        out.kept.extend(
            [
                f"endpoint:{names.endpoint}",
                f"endpoint-config:{names.endpoint_config}",
                f"model:{names.tuning_model}",
                f"model:{names.autopilot_model}",
            ]
        )
        out.notes.append(
            "keep_endpoint is set: the endpoint stays until its mlstack:expires tag passes (sweeper)"
        )
        return out
    delete_serving(
        sm,
        endpoint=names.endpoint,
        endpoint_config=names.endpoint_config,
        models=(names.tuning_model, names.autopilot_model),
        budget=budget,
        out=out,
    )
    return out
