"""moto's JSONPath returns `$.list[0].field` as a one-element list; AWS returns the value (definite path)."""

from __future__ import annotations

import importlib
import re
from typing import Any

from localaws.patches._patching import original, replace

_JSON_PATH = "moto.stepfunctions.parser.asl.utils.json_path"
# Modules that did `from ...json_path import extract_json` (they hold their own reference).
_IMPORTERS = (
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.intrinsic.argument.argument",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.timestamp_operators",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.boolean_equals",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.numeric",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.string_operators",
    "moto.stepfunctions.parser.asl.eval.states",
)
# Wildcards, deep scans, filters, slices and unions make a path indefinite: those return lists.
_INDEFINITE = re.compile(r"\*|\.\.|\?\(|\[[^\]]*[:,][^\]]*\]")


def is_definite(path: str) -> bool:
    return not _INDEFINITE.search(path)


def extract_json(path: str, data: Any) -> Any:
    """A definite path yields its single value; everything else keeps moto's behaviour."""
    if is_definite(path):
        from jsonpath_ng.ext.parser import parse

        matches = parse(path).find(data)
        if len(matches) == 1:
            return matches[0].value
    return original(importlib.import_module(_JSON_PATH), "extract_json")(path, data)


def apply() -> None:
    json_path = importlib.import_module(_JSON_PATH)
    replace(json_path, "extract_json", extract_json, expects=["path", "data"])
    for name in _IMPORTERS:
        replace(importlib.import_module(name), "extract_json", extract_json, expects=["path", "data"])
