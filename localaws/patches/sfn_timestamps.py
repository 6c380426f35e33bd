"""moto's Choice timestamps: only `...SSZ` parses, `$$` paths fail in *Path rules, StartTime is a datetime."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from typing import Any

from localaws.patches._patching import check_signature, replace, wrap

_OPERATORS = "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations"


def aws_timestamp(value: datetime) -> str:
    """The format Step Functions uses in the context object: RFC 3339, UTC, milliseconds, `Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def string_to_timestamp(string: Any) -> datetime | None:
    """RFC 3339 as Step Functions accepts it: `T` separator, optional fraction, `Z` or an offset."""
    if not isinstance(string, str) or "T" not in string:
        return None
    try:
        parsed = datetime.fromisoformat(string)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # a zone is required
    return parsed.astimezone(UTC)


def _state_data(original: Any) -> Any:
    def state_data(**fields: Any) -> Any:
        entered = fields.get("EnteredTime")
        if isinstance(entered, str) and (parsed := string_to_timestamp(entered)) is not None:
            fields["EnteredTime"] = aws_timestamp(parsed)
        return original(**fields)

    return state_data


def _evaluation_environment(original: Any) -> Any:
    def get_environment(self: Any) -> Any:
        env = original(self)
        execution = env.states.context_object.context_object_data["Execution"]
        if isinstance(execution.get("StartTime"), datetime):
            execution["StartTime"] = aws_timestamp(execution["StartTime"])
        return env

    return get_environment


def _context_aware(path_cls: type[Any], literal_cls: type[Any], original_eval: Any) -> Any:
    def eval_(env: Any, value: Any) -> None:
        # `$$.…` names the context object, not the state input.
        if isinstance(value, str) and value.startswith("$$"):
            from jsonpath_ng.ext.parser import parse

            context = env.states.context_object.context_object_data
            matches = parse("$" + value[2:]).find(context)
            literal_cls.eval(env, matches[0].value if matches else None)
            return
        original_eval(env, value)

    return staticmethod(eval_)


def _path_operator_classes() -> list[tuple[type[Any], type[Any]]]:
    pairs = []
    for module_name in ("timestamp_operators", "numeric", "string_operators", "boolean_equals"):
        module = importlib.import_module(f"{_OPERATORS}.{module_name}")
        for name in dir(module):
            cls = getattr(module, name)
            if isinstance(cls, type) and name.endswith("Path") and name[: -len("Path")] in vars(module):
                pairs.append((cls, vars(module)[name[: -len("Path")]]))
    return pairs


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.state import state
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    is_operator = importlib.import_module(f"{_OPERATORS}.is_operator")
    replace(
        is_operator.IsTimestamp, "string_to_timestamp", staticmethod(string_to_timestamp), expects=["string"]
    )
    wrap(state, "StateData", _state_data)
    wrap(ExecutionWorker, "_get_evaluation_environment", _evaluation_environment, expects=["self"])
    pairs = _path_operator_classes()
    if len(pairs) < 10:  # 4 timestamp + 4 numeric + 4 string + 1 boolean in moto 5.2.5
        raise RuntimeError(f"moto's Choice *Path operators changed: found {[p.__name__ for p, _ in pairs]}")
    for path_cls, literal_cls in pairs:
        original_eval = path_cls.__dict__["eval"].__func__
        check_signature(original_eval, ["env", "value"], f"{path_cls.__name__}.eval")
        replace(path_cls, "eval", _context_aware(path_cls, literal_cls, original_eval))
