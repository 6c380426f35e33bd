"""Finalists → CreateModel requests and one production variant each (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.script_mode import serving_environment
from handlers.common.errors import InvalidInput, NoFinalist
from handlers.common.json_types import JsonDict

VARIANTS = {"tuning": "Tuning", "autopilot": "Autopilot"}
# What the Autopilot container should return so evaluation gets labels and scores (regression: default).
INFERENCE_OUTPUT = {"binary": "predicted_label,probability", "multiclass": "predicted_label,probabilities"}
_SUPPORTED = "SAGEMAKER_INFERENCE_SUPPORTED"
_OUTPUT = "SAGEMAKER_INFERENCE_OUTPUT"
_INPUT = "SAGEMAKER_INFERENCE_INPUT"


@dataclass(frozen=True)
class Images:
    """Container images the plan needs from the stack."""

    xgboost: str


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def with_inference_output(containers: Sequence[Mapping[str, Any]], wanted: str | None) -> list[JsonDict]:
    """Copies of Autopilot's inference containers that emit `wanted` (existing Environment kept).

    As the SageMaker SDK does: each container that declares SAGEMAKER_INFERENCE_SUPPORTED outputs the
    wanted keys it supports, and takes the previous one's output as input. Without any declaration
    (single-container candidates that do not say) the last container gets the output keys.
    """
    out = [{**c, "Environment": dict(c.get("Environment") or {})} for c in containers]
    if not wanted or not out:
        return out
    keys = _keys(wanted)
    if not any(_SUPPORTED in c["Environment"] for c in out):
        out[-1]["Environment"][_OUTPUT] = ",".join(keys)
        return out
    previous: str | None = None
    for container in out:
        env = container["Environment"]
        supported = _keys(str(env.get(_SUPPORTED, "")))
        if not supported:
            previous = None
            continue
        current = ",".join(k for k in keys if k in supported) or None
        if previous:
            env[_INPUT] = previous
        if current:
            env[_OUTPUT] = current
        previous = current
    return out


def _model(name: str, containers: list[JsonDict], tags: list[JsonDict]) -> JsonDict:
    return {"ModelName": name, "Containers": containers, "Tags": tags}


def _tuning_containers(
    run: Mapping[str, Any], result: Mapping[str, Any], images: Images, script_model: str | None
) -> list[JsonDict]:
    if not result.get("model_data"):
        raise InvalidInput("candidates: the tuning result lacks model_data (the best training job's model)")
    script = run["tuning"].get("script")
    if script is None:
        return [{"Image": images.xgboost, "ModelDataUrl": str(result["model_data"])}]
    if not script_model:
        raise InvalidInput("candidates: a script's model is served repacked with its code; none was given")
    # The framework's serving container runs the script's model_fn, input_fn, predict_fn, output_fn.
    environment = serving_environment(str(script["entry_point"]), str(run["cost"]["region"]))
    return [{"Image": str(script["image"]), "ModelDataUrl": script_model, "Environment": environment}]


def _autopilot_containers(result: Mapping[str, Any], problem_type: str) -> list[JsonDict]:
    containers = result.get("containers")
    if not isinstance(containers, list) or not containers:
        raise InvalidInput("candidates: the Autopilot result lacks the best candidate's InferenceContainers")
    return with_inference_output(containers, INFERENCE_OUTPUT.get(problem_type))


def _failure(result: Mapping[str, Any]) -> str:
    error = result.get("error") or "no error name"
    cause = result.get("cause") or result.get("status") or "no cause given"
    return f"{result.get('kind', '?')} failed: {error}: {cause}"


def plan(
    run: Mapping[str, Any],
    candidates: Sequence[Mapping[str, Any]],
    images: Images,
    *,
    script_model: str | None = None,
    notes: Sequence[str] = (),
) -> JsonDict:
    """Models and production variants for every candidate that succeeded; NoFinalist when none did.

    `script_model`: a script run's best model repacked with its code (repack.py), which its model serves.
    `notes`: what the run should say about its tuning (diagnose.py), kept in the plan and in NoFinalist.
    """
    names, tags = run["names"], list(run.get("tags") or [])
    instance_type = run["endpoint"]["instance_type"]
    finalists: list[JsonDict] = []
    models: list[JsonDict] = []
    variants: list[JsonDict] = []
    failures: list[str] = []
    for result in candidates:
        kind = result.get("kind")
        if kind not in VARIANTS:
            raise InvalidInput(f"candidates: unknown kind {kind!r}; expected tuning or autopilot")
        if result.get("status") != "Succeeded":
            failures.append(_failure(result))
            continue
        if kind == "tuning":
            model_name = names["tuning_model"]
            containers = _tuning_containers(run, result, images, script_model)
        else:
            model_name = names["autopilot_model"]
            containers = _autopilot_containers(result, str(run["problem_type"]))
        variant = VARIANTS[str(kind)]
        finalist: JsonDict = {
            "kind": kind,
            "variant": variant,
            "model_name": model_name,
            "job": result.get("job"),
            "objective": result.get("objective"),
        }
        script = run["tuning"].get("script") if kind == "tuning" else None
        if script is not None:  # what the report says the tuning finalist is, besides built-in XGBoost
            finalist["script"] = {k: script[k] for k in ("entry_point", "framework", "framework_version")}
        finalists.append(finalist)
        models.append(_model(model_name, containers, tags))
        variants.append(
            {
                "VariantName": variant,
                "ModelName": model_name,
                "InitialInstanceCount": 1,
                "InstanceType": instance_type,
                "InitialVariantWeight": 1.0,
            }
        )
    if not finalists:
        raise NoFinalist(
            "no model to deploy: " + "; ".join([*(failures or ["no candidates were given"]), *notes])
        )
    planned: JsonDict = {"finalists": finalists, "models": models, "production_variants": variants}
    if notes:
        planned["notes"] = list(notes)
    return planned
