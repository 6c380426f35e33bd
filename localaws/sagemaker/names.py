"""SageMaker name rules (fact 12): lengths and pattern, enforced as AWS words it."""

from __future__ import annotations

import re

from localaws.sagemaker.common import ValidationException

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
# botocore's sagemaker service model: tuning and AutoML jobs 32, the rest 63.
MAX_LENGTHS = {
    "hyperParameterTuningJobName": 32,
    "autoMLJobName": 32,
    "trainingJobName": 63,
    "modelName": 63,
    "endpointConfigName": 63,
    "endpointName": 63,
}


def validate_name(field: str, value: object) -> str:
    """Return the name, or raise ValidationException worded like AWS's request validation."""
    limit = MAX_LENGTHS[field]
    if not isinstance(value, str) or not value:
        raise ValidationException(
            f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
            "Member must not be null"
        )
    errors = []
    if len(value) > limit:
        errors.append(
            f"Value '{value}' at '{field}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )
    if not NAME_PATTERN.match(value):
        errors.append(
            f"Value '{value}' at '{field}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,{limit - 1}}}"
        )
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise ValidationException(f"{count} validation {noun} detected: " + "; ".join(errors))
    return value
