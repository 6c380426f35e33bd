"""moto's EventBridge rules raise NotImplementedError for Lambda targets and ignore Input/InputPath."""

from __future__ import annotations

import copy
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from localaws.patches._patching import wrap

LOG = logging.getLogger(__name__)


def _iso_time(event: dict[str, Any]) -> dict[str, Any]:
    # moto keeps `time` as epoch seconds; EventBridge delivers ISO-8601.
    event = dict(event)
    if isinstance(event.get("time"), int | float):
        event["time"] = datetime.fromtimestamp(float(event["time"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event.pop("ingestion-time", None)
    return event


def target_input(target: dict[str, Any], event: dict[str, Any]) -> str:
    """What the target receives: Input, InputPath, InputTransformer or the whole event."""
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        from jsonpath_ng.ext.parser import parse

        matches = parse(target["InputPath"]).find(event)
        return json.dumps(matches[0].value if matches else None)
    if "InputTransformer" in target:
        from moto.events.utils import EventTemplateParser

        transformer = target["InputTransformer"]
        result = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=cast(Any, event),
        )
        return result if isinstance(result, str) else json.dumps(result)
    return json.dumps(event)


def _deliver(rule_arn: str, target: dict[str, Any], payload: str) -> None:
    from localaws.deliver import invoke_async, send_to_arn
    from localaws.iam.as_service import authorize_invoke

    arn: str = target["Arn"]
    service = arn.split(":")[2]
    if service == "lambda":
        authorize_invoke("events.amazonaws.com", arn, rule_arn)  # the function's policy must let the rule in
        invoke_async(arn, payload.encode())
    elif service == "states":
        from moto.stepfunctions.responses import get_backend

        parts = arn.split(":")
        get_backend(parts[4], parts[3]).start_execution(arn, name=str(uuid.uuid4()), execution_input=payload)
    elif service in ("sqs", "sns"):
        send_to_arn(arn, payload, {})
    else:
        raise NotImplementedError(service)


def _send_to_targets(original: Any) -> Any:
    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        if self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
            return
        event = _iso_time(original_event)
        for target in self.targets:
            service = target["Arn"].split(":")[2]
            if service in ("lambda", "states", "sqs", "sns") and transform_input:
                try:
                    _deliver(self.arn, target, target_input(target, event))
                except Exception:  # EventBridge keeps delivering to the other targets
                    LOG.exception("rule %s could not deliver to %s", self.name, target["Arn"])
                continue
            single = copy.copy(self)  # moto's own handling for logs, archives, buses, API destinations
            single.targets = [target]
            original(single, original_event, transform_input)

    return send_to_targets


def apply() -> None:
    from moto.events.models import Rule

    wrap(Rule, "send_to_targets", _send_to_targets, expects=["self", "original_event", "transform_input"])
