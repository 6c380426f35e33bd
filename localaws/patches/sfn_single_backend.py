"""moto puts CloudFormation's state machines in a non-executing backend: make the executing one the only."""

from __future__ import annotations

from typing import Any

from localaws.patches._patching import replace


def get_backend(account: str, region: str) -> Any:
    """responses.get_backend: always the interpreter-backed backend, whatever the config says."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    return stepfunctions_parser_backends[account][region]


def apply() -> None:
    import moto.stepfunctions.models
    import moto.stepfunctions.responses
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    # CloudFormation handlers read these module globals at call time. The package-level name stays:
    # moto's server derives the URL map from it (the parser backend has no urls module).
    for module in (moto.stepfunctions.models, moto.stepfunctions.responses):
        replace(module, "stepfunctions_backends", stepfunctions_parser_backends)
    replace(moto.stepfunctions.responses, "get_backend", get_backend, expects=["account", "region"])
