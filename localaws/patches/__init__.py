"""Fixes to moto 5.2.5 for this stack, one module each; `apply_all()` installs them all."""

from __future__ import annotations

import importlib

from localaws.patches._patching import MotoChangedError, revert_all

# Order matters only where noted: the single SFN backend first, as later fixes wrap its classes.
MODULES = (
    "sfn_single_backend",
    "lambda_subprocess_invoke",
    "lambda_event_invoke_config",
    "cfn_change_sets",
    "cfn_custom_resources",
    "sfn_abort_error",
    "sfn_status_events",
    "events_targets",
    "sfn_execution_name",
    "sfn_parallel_errors",
    "sfn_jsonpath_index",
    "sfn_timestamps",
    "sfn_datetime_output",
    "sfn_string_output",
    "sfn_task_credentials",
    "s3_bucket_config",
    "s3_policy_conditions",
    "s3_bucket_policy",
    "s3_bucket_delete",
    "iam_managed_policies",
    "kms_key_tags",
    "service_quotas_sagemaker",
)

__all__ = ["MODULES", "MotoChangedError", "apply_all", "revert_all"]


def apply_all() -> None:
    """Apply every fix (idempotent). Raises MotoChangedError if moto no longer matches a fix."""
    for name in MODULES:
        importlib.import_module(f"localaws.patches.{name}").apply()
