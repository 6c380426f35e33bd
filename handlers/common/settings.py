"""The handlers' settings, read once from the environment the stack sets."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from handlers.common.errors import ConfigurationError

_VARIABLES = {
    "data_bucket": "DATA_BUCKET",
    "artifacts_bucket": "ARTIFACTS_BUCKET",
    "name_prefix": "NAME_PREFIX",
    "stack_name": "STACK_NAME",
    "key_arn": "KEY_ARN",
    "sagemaker_role_arn": "SAGEMAKER_ROLE_ARN",
    "xgboost_image": "XGBOOST_IMAGE",
    # Set only on the handlers that use them (the lifecycle functions), after the resources exist.
    "topic_arn": "TOPIC_ARN",
    "state_machine_arn": "STATE_MACHINE_ARN",
}


@dataclass(frozen=True)
class Settings:
    """What the stack tells every handler; a handler checks only the fields it uses (`require`)."""

    data_bucket: str = ""
    artifacts_bucket: str = ""
    name_prefix: str = ""
    stack_name: str = ""
    key_arn: str = ""
    sagemaker_role_arn: str = ""
    xgboost_image: str = ""
    topic_arn: str = ""
    state_machine_arn: str = ""
    stage_defaults: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read the settings from environment variables (STAGE_DEFAULTS is a JSON object)."""
        raw = env.get("STAGE_DEFAULTS", "") or "{}"
        try:
            defaults = json.loads(raw)
        except json.JSONDecodeError as err:
            raise ConfigurationError(f"STAGE_DEFAULTS is not valid JSON: {err}") from None
        if not isinstance(defaults, dict):
            raise ConfigurationError("STAGE_DEFAULTS must be a JSON object")
        values = {attr: env.get(variable, "") for attr, variable in _VARIABLES.items()}
        return cls(**values, stage_defaults=defaults)

    def require(self, *attrs: str) -> Settings:
        """Raise ConfigurationError naming every variable among `attrs` that is unset; return self."""
        missing = [_VARIABLES[a] for a in attrs if a in _VARIABLES and not getattr(self, a)]
        if "stage_defaults" in attrs and not self.stage_defaults:
            missing.append("STAGE_DEFAULTS")
        if missing:
            names = ", ".join(missing)
            raise ConfigurationError(f"the function's environment lacks {names} (set by the stack)")
        return self


@functools.cache
def settings() -> Settings:
    """The settings of this process, parsed on first use (tests clear the cache)."""
    return Settings.from_env(os.environ)
