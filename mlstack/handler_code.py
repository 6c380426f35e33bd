"""The handlers' pure code the CLI reuses (lambda/ is not a package: it is put on sys.path here, once)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LAMBDA_DIR = Path(__file__).resolve().parents[1] / "lambda"

# `lambda` is a keyword, so handlers are top-level packages of that folder (as in the Lambda asset).
# Appended, not prepended: no handler package may shadow anything else we import.
if str(LAMBDA_DIR) not in sys.path:
    sys.path.append(str(LAMBDA_DIR))

from check_quotas.lookup import QuotaTable, QuotaValue, load_quotas  # noqa: E402
from common.aws_errors import error_code, is_not_found  # noqa: E402
from common.errors import EndpointNotDeletable, InvalidInput  # noqa: E402
from common.sagemaker_cleanup import (  # noqa: E402
    Outcome,
    WaitBudget,
    delete_endpoint,
    delete_endpoint_config,
    delete_model,
)
from common.tags import EXPIRES_TAG, RUN_TAG, STACK_TAG, tags_of  # noqa: E402
from contracts.run_input import AUTOPILOT_MODES, STAGE_KEYS, STRATEGIES  # noqa: E402
from validate_input.dataset import parse_dataset_uri  # noqa: E402
from validate_input.options import KNOWN_KEYS, parse_options  # noqa: E402
from validate_input.ranges import resolve_ranges  # noqa: E402

__all__ = [
    "AUTOPILOT_MODES",
    "EXPIRES_TAG",
    "KNOWN_KEYS",
    "RUN_TAG",
    "STACK_TAG",
    "STAGE_KEYS",
    "STRATEGIES",
    "EndpointNotDeletable",
    "InvalidInput",
    "Outcome",
    "QuotaTable",
    "QuotaValue",
    "WaitBudget",
    "check_input",
    "delete_endpoint",
    "delete_endpoint_config",
    "delete_model",
    "error_code",
    "is_not_found",
    "load_quotas",
    "tags_of",
]


def check_input(given: Mapping[str, Any], stage_defaults: Mapping[str, Any], data_bucket: str) -> None:
    """Raise InvalidInput, with ValidateInput's own message, for anything wrong that S3 is not needed for.

    What needs the dataset itself (manifest, channels, objective vs problem type) is left to the
    pipeline: it fails there just as early, before anything that costs money exists.
    """
    options = parse_options(given, stage_defaults)
    parse_dataset_uri(options.dataset, data_bucket)
    resolve_ranges(options.tuning_ranges)
