"""Script mode: your own training script, tuned in a SageMaker framework container (scikit-learn, XGBoost).

The contract, as SageMaker's framework containers (sagemaker-training-toolkit) run a script:

Training. The source directory is packed as `sourcedir.tar.gz` and unpacked in the container; the entry
point runs as `python <entry point> --<name> <value> ...` with every hyperparameter but SageMaker's own
(`sagemaker_*`, `_tuning_objective_metric`), keys sorted, values JSON-decoded when they can be (`0.1`,
`"gini"` → gini). The same values are in `SM_HP_<NAME>` and, as one JSON object, `SM_HPS`. Channels are
directories named by `SM_CHANNEL_<NAME>` (here TRAIN and VALIDATION: numeric CSV, label first, no header);
the model goes to `SM_MODEL_DIR`, other outputs to `SM_OUTPUT_DATA_DIR`. Metrics are whatever the script
prints that a `MetricDefinitions` regex matches, line by line: the regex's one group is the value, the
last match counts. A non-zero exit fails the job, its FailureReason the end of what the script wrote to
stderr (`/opt/ml/output/failure`).

Serving. The framework's model server imports the entry point as a module (so training belongs under
`if __name__ == "__main__":`) and calls `model_fn(model_dir)` once (required: neither framework has a
default), then per request `input_fn(body, content_type)` → `predict_fn(data, model)` →
`output_fn(prediction, accept)`; each but model_fn has the framework's default (CSV, JSON or NPY
decoded to an array, `model.predict`, the result encoded as the Accept type asks).

Predictions. Evaluate sends the test set's feature rows as `text/csv` (the training channel's columns
without the label, no header) with `Accept: text/csv` and reads one line per row: binary, the probability
of class 1 (or both classes' probabilities: `p0,p1`); multiclass, one probability per class (or the class
index); regression, the value. A classifier that answers labels only still gets accuracy, precision and
recall, but its AUC then ranks by label alone: return `predict_proba` from `predict_fn`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

IMAGES_FILE = Path(__file__).with_name("framework_images.json")
FRAMEWORKS = {"sklearn": "scikit-learn", "xgboost": "XGBoost"}

# Hyperparameters SageMaker's SDK sets for script mode (JSON-encoded strings, as every framework value).
PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"
REGION = "sagemaker_region"
LOG_LEVEL = "sagemaker_container_log_level"
TUNING_OBJECTIVE = "_tuning_objective_metric"
SAGEMAKER_PREFIX = "sagemaker_"
# What the toolkit keeps out of the script's arguments and SM_HP_* (params.SAGEMAKER_HYPERPARAMETERS).
SAGEMAKER_HYPERPARAMETERS = (
    PROGRAM,
    SUBMIT_DIRECTORY,
    "sagemaker_enable_cloudwatch_metrics",
    REGION,
    LOG_LEVEL,
    "sagemaker_job_name",
    "default_user_module_name",
    TUNING_OBJECTIVE,
    "sagemaker_s3_output",
)
INFO_LOG_LEVEL = 20  # logging.INFO, the SDK's default container_log_level

# With network isolation the container cannot reach S3: the SDK passes the source archive as a `code`
# channel for training and repacks it into the model (code/) for serving; so does this stack.
CODE_CHANNEL = "code"
SOURCE_ARCHIVE = "sourcedir.tar.gz"
CHANNEL_ARCHIVE = f"/opt/ml/input/data/{CODE_CHANNEL}/{SOURCE_ARCHIVE}"
SERVING_CODE_DIR = "/opt/ml/model/code"
# Where the CLI puts source archives in the artifacts bucket: code/<content digest>/sourcedir.tar.gz.
SOURCE_PREFIX = "code/"
REQUIREMENTS_FILE = "requirements.txt"

# The serving container's environment (CreateModel's Environment), as the SDK's Model sets it.
SERVING_PROGRAM = PROGRAM.upper()
SERVING_SUBMIT_DIRECTORY = SUBMIT_DIRECTORY.upper()
SERVING_REGION = REGION.upper()
SERVING_LOG_LEVEL = LOG_LEVEL.upper()
DEFAULT_ACCEPT_ENV = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"

# MetricDefinition (botocore): Name 1-255, Regex 1-500, at most 40 per algorithm.
MAX_METRICS = 40
MAX_METRIC_NAME = 255
MAX_METRIC_REGEX = 500
# Names of hyperparameters a script takes: what a command line and an environment variable can carry.
HYPERPARAMETER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,255}$")
# A metric named like a loss or an error is minimized; any other is maximized, unless told otherwise.
_MINIMIZED = re.compile(r"loss|error|err\b|rmse|mse|mae|mape|deviance", re.IGNORECASE)


class ScriptModeError(ValueError):
    """A script-mode setting SageMaker would refuse or could not run; the message says what to change."""


def source_key(digest: str) -> str:
    """The artifacts-bucket key of a source archive with this content digest (hex)."""
    return f"{SOURCE_PREFIX}{digest}/{SOURCE_ARCHIVE}"


def encode(value: Any) -> str:
    """A hyperparameter value as the SDK sends a framework's: JSON, so the container decodes its type."""
    return json.dumps(value)


def decode(text: str) -> Any:
    """A hyperparameter value as the toolkit reads it: JSON if it parses, else the text itself."""
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return text


def metric_problem(name: object, regex: object) -> str | None:
    """Why SageMaker (or the tuning) cannot use this MetricDefinition, or None."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_METRIC_NAME:
        return f"metric name {name!r}: give 1 to {MAX_METRIC_NAME} characters"
    if not isinstance(regex, str) or not 1 <= len(regex) <= MAX_METRIC_REGEX:
        return f"metric {name}: its regex must have 1 to {MAX_METRIC_REGEX} characters"
    try:
        groups = re.compile(regex).groups
    except re.error as err:
        return f"metric {name}: regex {regex!r} does not compile: {err}"
    if groups != 1:
        return (
            f"metric {name}: regex {regex!r} has {groups} capturing groups; it needs exactly one, around "
            r"the value, e.g. 'auc=([0-9.]+)' (write other groups as (?:...))"
        )
    return None


def parse_metric(text: str) -> dict[str, str]:
    """`NAME=REGEX` (split at the first `=`) as a MetricDefinition; ScriptModeError if it cannot be one."""
    name, sep, regex = text.partition("=")
    if not sep or not name.strip():
        raise ScriptModeError(f"metric {text!r}: write NAME=REGEX, e.g. 'validation:auc=auc=([0-9.]+)'")
    definition = {"Name": name.strip(), "Regex": regex}
    problem = metric_problem(definition["Name"], regex)
    if problem:
        raise ScriptModeError(problem)
    return definition


def objective_type(metric: str) -> str:
    """Minimize a metric named like a loss or an error (loss, error, rmse, mae, ...), else Maximize."""
    return "Minimize" if _MINIMIZED.search(metric) else "Maximize"


def first_match(regex: str, line: str) -> float | None:
    """The metric value a MetricDefinition regex finds on one line of output (None: none, or not a number)."""
    for match in re.finditer(regex, line):
        try:
            return float(match.group(1))
        except (TypeError, ValueError, IndexError):
            continue
    return None


def unmatched(definitions: Iterable[Mapping[str, str]], found: Iterable[str]) -> list[Mapping[str, str]]:
    """The MetricDefinitions no value was found for (`found`: names of a job's FinalMetricDataList)."""
    seen = set(found)
    return [d for d in definitions if d.get("Name") not in seen]


def _table() -> Mapping[str, Any]:
    frameworks: Mapping[str, Any] = json.loads(IMAGES_FILE.read_text())["frameworks"]
    return frameworks


def default_version(framework: str) -> str:
    """The framework's container line this project runs locally (the table's default)."""
    return str(_framework(framework)["default"])


def versions(framework: str) -> list[str]:
    return sorted(_framework(framework)["versions"])


def _framework(framework: str) -> Mapping[str, Any]:
    table = _table()
    if framework not in table:
        raise ScriptModeError(f"framework {framework!r}: use one of {', '.join(FRAMEWORKS)}")
    entry: Mapping[str, Any] = table[framework]
    return entry


def image_uri(framework: str, version: str | None, region: str) -> str:
    """The framework's training and serving image in `region`, from the SageMaker SDK's table."""
    entry = _framework(framework)
    version = version or str(entry["default"])
    by_region = entry["versions"].get(version)
    if by_region is None:
        raise ScriptModeError(
            f"framework_version {version!r}: SageMaker has no {FRAMEWORKS[framework]} container of that "
            f"version; use one of {', '.join(versions(framework))} (default {entry['default']})"
        )
    if region not in by_region:
        raise ScriptModeError(
            f"framework_version {version}: SageMaker publishes no {FRAMEWORKS[framework]} {version} image "
            f"in {region or 'an unknown region'}; it does in {', '.join(sorted(by_region))}"
        )
    return str(by_region[region])


def static_hyperparameters(entry_point: str, region: str, given: Mapping[str, Any]) -> dict[str, str]:
    """Every trial's hyperparameters: SageMaker's script-mode ones, then the run's own (JSON-encoded)."""
    return {
        PROGRAM: encode(entry_point),
        SUBMIT_DIRECTORY: encode(CHANNEL_ARCHIVE),
        REGION: encode(region),
        LOG_LEVEL: encode(INFO_LOG_LEVEL),
        **{name: encode(value) for name, value in given.items()},
    }


def serving_environment(entry_point: str, region: str) -> dict[str, str]:
    """CreateModel's Environment for a repacked script model (its code under SERVING_CODE_DIR)."""
    return {
        SERVING_PROGRAM: entry_point,
        SERVING_SUBMIT_DIRECTORY: SERVING_CODE_DIR,
        SERVING_REGION: region,
        SERVING_LOG_LEVEL: str(INFO_LOG_LEVEL),
    }


def is_sagemaker_hyperparameter(name: str) -> bool:
    """Whether SageMaker's toolkit keeps `name` from the script (a `sagemaker_*` or its own)."""
    return name in SAGEMAKER_HYPERPARAMETERS or name.startswith(SAGEMAKER_PREFIX)
