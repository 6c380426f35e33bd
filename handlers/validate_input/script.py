"""A run that tunes the user's own training script: its settings, objective and ranges, checked (pure but
for the source archive's existence).

Input (the execution's `script` key; `mlstack run --entry-point` writes it):
  {"entry_point": "train.py", "source": "s3://<artifacts-bucket>/code/<sha256>/sourcedir.tar.gz",
   "framework": "sklearn" | "xgboost", "framework_version": "1.9-0" (default: the table's),
   "metrics": [{"Name": "validation:auc", "Regex": "auc=([0-9.]+)"}, ...],
   "hyperparameters": {"n_estimators": 200, ...} (static, optional),
   "objective_type": "Maximize" | "Minimize" (optional: a loss or an error is minimized, else maximized)}
The run's `objective` names one of the metrics (default: the first); its `tuning_ranges` are required,
SageMaker's ParameterRanges or, per hyperparameter, {"min", "max"[, "scaling"][, "type"]} or {"values"}.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts import script_mode
from handlers.common.aws_errors import is_not_found
from handlers.common.errors import InvalidInput
from handlers.common.s3uri import parse_s3_uri
from handlers.validate_input.ranges import range_bound
from training.tuning_ranges import SCALING_TYPES, ParameterRange

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_KEYS = (
    "entry_point",
    "source",
    "framework",
    "framework_version",
    "metrics",
    "hyperparameters",
    "objective_type",
)
_REQUIRED = ("entry_point", "source", "metrics")
_OBJECTIVE_TYPES = ("Maximize", "Minimize")
_API_KEYS = ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")
_SHORT_KEYS = {"min", "max", "scaling", "type", "values"}
_KINDS = ("integer", "continuous")
MAX_TUNED = 30  # hyperparameters one tuning job searches (SageMaker's limit, each kind's list too)
MAX_VALUES = 30  # values of one categorical range
MAX_STATIC = 100  # StaticHyperParameters entries
MAX_VALUE_CHARS = 2500  # one static value
_EXAMPLE_RANGES = (
    '{"learning_rate": {"min": 0.01, "max": 0.3, "scaling": "Logarithmic"}, '
    '"max_depth": {"min": 2, "max": 8}, "criterion": {"values": ["gini", "entropy"]}}'
)


@dataclass(frozen=True)
class ScriptInput:
    """The `script` key of an execution input, checked for shape."""

    entry_point: str
    source: str
    framework: str
    framework_version: str
    metrics: tuple[dict[str, str], ...]
    hyperparameters: Mapping[str, Any]
    objective_type: str | None = None


@dataclass(frozen=True)
class ScriptRanges:
    """A script's ranges: numeric ones (ParameterRange) and categorical ones (name → JSON-encoded values)."""

    numeric: tuple[ParameterRange, ...]
    categorical: dict[str, list[str]]

    def to_api(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "IntegerParameterRanges": [r.to_api() for r in self.numeric if r.integer],
            "ContinuousParameterRanges": [r.to_api() for r in self.numeric if not r.integer],
            "CategoricalParameterRanges": [{"Name": n, "Values": v} for n, v in self.categorical.items()],
        }

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.numeric] + list(self.categorical)


def _text(field: str, value: Any, hint: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"script.{field}: expected a non-empty string ({hint}), got {value!r}")
    return value.strip()


def _entry_point(value: Any) -> str:
    text = _text("entry_point", value, "the script, relative to its source directory, e.g. train.py")
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts or "\\" in text:
        raise InvalidInput(
            f"script.entry_point: {text!r} must be a path inside the source directory, e.g. train.py"
        )
    return path.as_posix()


def _metrics(value: Any) -> tuple[dict[str, str], ...]:
    example = '[{"Name": "validation:auc", "Regex": "auc=([0-9.]+)"}]'
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"script.metrics: expected a list of MetricDefinitions such as {example}")
    if len(value) > script_mode.MAX_METRICS:
        raise InvalidInput(
            f"script.metrics: {len(value)} given; SageMaker takes at most {script_mode.MAX_METRICS}"
        )
    found: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, Mapping) or set(item) != {"Name", "Regex"}:
            raise InvalidInput(f"script.metrics: each must be {{Name, Regex}} as in {example}, got {item!r}")
        problem = script_mode.metric_problem(item["Name"], item["Regex"])
        if problem:
            raise InvalidInput(f"script.metrics: {problem}")
        if any(m["Name"] == item["Name"] for m in found):
            raise InvalidInput(f"script.metrics: {item['Name']!r} is defined twice; give each metric once")
        found.append({"Name": item["Name"], "Regex": item["Regex"]})
    return tuple(found)


def _hyperparameters(value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(
            f'script.hyperparameters: expected an object such as {{"max_iter": 200}}, got {value!r}'
        )
    if len(value) > MAX_STATIC - len(script_mode.SAGEMAKER_HYPERPARAMETERS):
        raise InvalidInput(f"script.hyperparameters: {len(value)} given; SageMaker takes {MAX_STATIC} in all")
    for name, item in value.items():
        _check_name("script.hyperparameters", name)
        if len(script_mode.encode(item)) > MAX_VALUE_CHARS:
            raise InvalidInput(f"script.hyperparameters: {name}'s value is over {MAX_VALUE_CHARS} characters")
    return dict(value)


def _check_name(field: str, name: Any) -> None:
    if not isinstance(name, str) or not script_mode.HYPERPARAMETER_NAME.match(name):
        raise InvalidInput(
            f"{field}: {name!r} is not a hyperparameter name a script can take as --name: use letters, "
            "digits, '_', '.' or '-'"
        )
    if script_mode.is_sagemaker_hyperparameter(name):
        raise InvalidInput(f"{field}: {name!r} is SageMaker's own (sagemaker_*, _tuning_objective_metric)")


def parse_script(value: Any) -> ScriptInput | None:
    """The `script` key checked for shape (None: the run tunes built-in XGBoost); InvalidInput otherwise."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInput(
            'script: expected an object such as {"entry_point": "train.py", "source": "s3://...", '
            '"metrics": [...]} (mlstack run --entry-point writes it)'
        )
    unknown = sorted(set(value) - set(_KEYS))
    if unknown:
        raise InvalidInput(f"script: unknown keys {', '.join(unknown)}; known keys: {', '.join(_KEYS)}")
    missing = [key for key in _REQUIRED if value.get(key) is None]
    if missing:
        raise InvalidInput(f"script: missing {', '.join(missing)}")
    framework = value.get("framework") or "sklearn"
    try:
        version = value.get("framework_version") or script_mode.default_version(framework)
    except script_mode.ScriptModeError as err:
        raise InvalidInput(f"script.{err}") from None
    kind = value.get("objective_type")
    if kind is not None and kind not in _OBJECTIVE_TYPES:
        raise InvalidInput(f"script.objective_type: expected Maximize or Minimize, got {kind!r}")
    return ScriptInput(
        entry_point=_entry_point(value["entry_point"]),
        source=_text("source", value["source"], "the s3:// URI of its sourcedir.tar.gz"),
        framework=str(framework),
        framework_version=_text("framework_version", version, "e.g. 1.9-0"),
        metrics=_metrics(value["metrics"]),
        hyperparameters=_hyperparameters(value.get("hyperparameters")),
        objective_type=kind,
    )


def check_source(s3: S3Client, script: ScriptInput, artifacts_bucket: str) -> None:
    """The source archive is a sourcedir.tar.gz under code/ in the artifacts bucket, and it is there."""
    hint = "mlstack run --entry-point packs the script's directory and uploads it there"
    try:
        uri = parse_s3_uri(script.source)
        bucket, key = uri.bucket, uri.key
    except ValueError:
        bucket, key = "", ""
    if (
        bucket != artifacts_bucket
        or not key.startswith(script_mode.SOURCE_PREFIX)
        or not key.endswith(f"/{script_mode.SOURCE_ARCHIVE}")
    ):
        raise InvalidInput(
            f"script.source: {script.source!r} must be s3://{artifacts_bucket}/{script_mode.SOURCE_PREFIX}"
            f".../{script_mode.SOURCE_ARCHIVE} (the stack's artifacts bucket, which SageMaker reads); {hint}"
        )
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if not is_not_found(err):
            raise
        raise InvalidInput(f"script.source: no object at {script.source}; {hint}") from None


def script_objective(script: ScriptInput, objective: str | None) -> dict[str, str]:
    """{Type, MetricName}: the named metric (default: the first), which must be one of the script's."""
    names = [m["Name"] for m in script.metrics]
    metric = objective if objective is not None else names[0]
    if metric not in names:
        raise InvalidInput(
            f"objective: {metric!r} is not one of the script's metrics ({', '.join(names)}); name one of "
            "them, or add a metric NAME=REGEX that finds it in the script's output"
        )
    return {"Type": script.objective_type or script_mode.objective_type(metric), "MetricName": metric}


def _number(name: str, key: str, value: Any) -> float:
    if isinstance(value, str):  # SageMaker's ParameterRanges write numbers as strings
        with contextlib.suppress(ValueError):
            value = float(value)
    return range_bound(name, key, value)


def _numeric(name: str, low: Any, high: Any, scaling: Any, integer: bool) -> ParameterRange:
    item = ParameterRange(name, _number(name, "min", low), _number(name, "max", high), "Auto", integer)
    if scaling is not None:
        if scaling not in SCALING_TYPES:
            raise InvalidInput(f"tuning_ranges: {name}.scaling must be one of {', '.join(SCALING_TYPES)}")
        item = dataclasses.replace(item, scaling=str(scaling))
    if integer and not (item.min_value.is_integer() and item.max_value.is_integer()):
        raise InvalidInput(f"tuning_ranges: {name} is an integer range; give whole-number min and max")
    if not item.min_value < item.max_value:
        raise InvalidInput(
            f"tuning_ranges: {name}: min {item.min_value:g} must be below max {item.max_value:g} (a fixed "
            "value belongs in script.hyperparameters)"
        )
    if item.scaling == "Logarithmic" and item.min_value <= 0:
        raise InvalidInput(f"tuning_ranges: {name}: Logarithmic scaling needs min > 0")
    if item.scaling == "ReverseLogarithmic" and (integer or item.min_value < 0 or item.max_value >= 1):
        raise InvalidInput(
            f"tuning_ranges: {name}: ReverseLogarithmic needs a continuous range inside [0, 1)"
        )
    return item


def _categorical(name: str, values: Any) -> list[str]:
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_VALUES:
        raise InvalidInput(f"tuning_ranges: {name}.values must be a list of 1 to {MAX_VALUES} values")
    # JSON-encoded, as the SageMaker SDK sends a framework's categories: the container decodes each one.
    encoded = [v if isinstance(v, str) and _is_json(v) else script_mode.encode(v) for v in values]
    if any(not isinstance(v, str | int | float | bool) for v in values) or len(set(encoded)) != len(encoded):
        raise InvalidInput(f"tuning_ranges: {name}.values must be distinct strings, numbers or true/false")
    return encoded


def _is_json(text: str) -> bool:
    """A value already JSON-encoded as the SDK sends it ('"gini"'); a bare word is encoded here."""
    return script_mode.decode(text) is not text


def _short(name: str, spec: Any) -> ParameterRange | list[str]:
    if not isinstance(spec, Mapping):
        raise InvalidInput(f"tuning_ranges: {name} must be an object such as {_EXAMPLE_RANGES}")
    unknown = sorted(set(spec) - _SHORT_KEYS)
    if unknown:
        raise InvalidInput(
            f"tuning_ranges: {name} has unknown keys {unknown}; use min, max, scaling, type or values"
        )
    if "values" in spec:
        if set(spec) != {"values"}:
            raise InvalidInput(f"tuning_ranges: {name}: give either values (categorical) or min and max")
        return _categorical(name, spec["values"])
    if "min" not in spec or "max" not in spec:
        raise InvalidInput(f"tuning_ranges: {name} needs min and max (or values), as in {_EXAMPLE_RANGES}")
    kind = spec.get("type")
    if kind is not None and kind not in _KINDS:
        raise InvalidInput(f"tuning_ranges: {name}.type must be integer or continuous, got {kind!r}")
    # Bounds written as whole JSON numbers make an integer range unless told otherwise.
    wholes = all(isinstance(spec[k], int) and not isinstance(spec[k], bool) for k in ("min", "max"))
    integer = kind == "integer" or (kind is None and wholes)
    return _numeric(name, spec["min"], spec["max"], spec.get("scaling"), integer)


def _api(ranges: Mapping[str, Any]) -> list[tuple[str, ParameterRange | list[str]]]:
    unknown = sorted(set(ranges) - set(_API_KEYS))
    if unknown:
        raise InvalidInput(
            f"tuning_ranges: unknown ParameterRanges keys {unknown}; use {', '.join(_API_KEYS)}"
        )
    found: list[tuple[str, ParameterRange | list[str]]] = []
    for key in _API_KEYS:
        entries = ranges.get(key) or []
        if not isinstance(entries, list) or len(entries) > MAX_TUNED:
            raise InvalidInput(f"tuning_ranges: {key} must be a list of at most {MAX_TUNED} ranges")
        for entry in entries:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("Name"), str):
                raise InvalidInput(f"tuning_ranges: each entry of {key} needs a Name, got {entry!r}")
            name = entry["Name"]
            if key == "CategoricalParameterRanges":
                found.append((name, _categorical(name, entry.get("Values"))))
            else:
                integer = key == "IntegerParameterRanges"
                found.append(
                    (
                        name,
                        _numeric(
                            name,
                            entry.get("MinValue"),
                            entry.get("MaxValue"),
                            entry.get("ScalingType"),
                            integer,
                        ),
                    )
                )
    return found


def script_ranges(ranges: Mapping[str, Any] | None, script: ScriptInput) -> ScriptRanges:
    """The script's ranges, any names and kinds it takes; InvalidInput saying what to fix."""
    if not ranges:
        raise InvalidInput(
            f"tuning_ranges: a script run names the hyperparameters to tune, e.g. {_EXAMPLE_RANGES}"
        )
    pairs = _api(ranges) if set(ranges) & set(_API_KEYS) else [(n, _short(n, s)) for n, s in ranges.items()]
    numeric: list[ParameterRange] = []
    categorical: dict[str, list[str]] = {}
    seen: set[str] = set()
    for name, item in pairs:
        _check_name("tuning_ranges", name)
        if name in seen:
            raise InvalidInput(f"tuning_ranges: {name!r} has more than one range")
        if name in script.hyperparameters:
            raise InvalidInput(
                f"tuning_ranges: {name!r} is also in script.hyperparameters; a hyperparameter is tuned or "
                "static, not both"
            )
        seen.add(name)
        if isinstance(item, ParameterRange):
            numeric.append(item)
        else:
            categorical[name] = item
    if not seen:
        raise InvalidInput(f"tuning_ranges: no range given; e.g. {_EXAMPLE_RANGES}")
    if len(seen) > MAX_TUNED:
        raise InvalidInput(f"tuning_ranges: {len(seen)} hyperparameters; SageMaker tunes at most {MAX_TUNED}")
    return ScriptRanges(tuple(numeric), categorical)
