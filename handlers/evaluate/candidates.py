"""What the best Autopilot candidates are: their definitions and feature importance, read where they point.

A candidate's CandidateArtifactLocations name S3 prefixes. The local Autopilot writes there the
documents contracts.reports describes; SageMaker writes its own reports (PDF, notebooks), which the
report then only names. Only locations under the run's Autopilot output are read, and only for the
best MAX_DESCRIBED candidates: what the report shows, at a bounded cost.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts.reports import EXPLAINABILITY_FILE, MODEL_INSIGHTS_FILE
from handlers.common.aws_errors import error_code, is_not_found
from handlers.common.json_types import JsonDict
from handlers.common.s3io import read_bytes
from handlers.common.s3uri import parse_s3_uri

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_DESCRIBED = 5
MAX_FEATURES = 15  # the most important ones; the report draws them as bars


def _ranked(candidates: list[JsonDict]) -> list[JsonDict]:
    scored = [c for c in candidates if isinstance(c.get("objective"), int | float)]
    maximize = not scored or scored[0].get("type") != "Minimize"
    return sorted(scored, key=lambda c: float(c["objective"]), reverse=maximize)


def _read(s3: S3Client, prefix: str, name: str, allowed: str) -> tuple[Any, str | None]:
    """(the JSON document at prefix + name, None) or (None, why not)."""
    uri = prefix.rstrip("/") + "/" + name
    if not uri.startswith(allowed):
        return None, f"{uri} is outside the run's Autopilot output ({allowed}): not read"
    try:
        return json.loads(read_bytes(s3, parse_s3_uri(uri))), None
    except ClientError as err:
        if is_not_found(err):
            return None, f"no {name} at {prefix} (SageMaker's own reports there are for SageMaker Studio)"
        return None, f"cannot read {uri} ({error_code(err)})"
    except (ValueError, UnicodeDecodeError) as err:
        return None, f"{uri} is not JSON: {err}"


def describe_candidates(s3: S3Client, board: JsonDict, output_path: str) -> None:
    """Add `definition`, `validation` and `importance` to the best candidates, or `notes` saying why not."""
    candidates = (board.get("autopilot") or {}).get("candidates") or []
    for candidate in _ranked(candidates)[:MAX_DESCRIBED]:
        artifacts: Mapping[str, Any] = candidate.get("artifacts") or {}
        found: list[str] = []
        if artifacts.get("model_insights"):
            insights, why = _read(s3, artifacts["model_insights"], MODEL_INSIGHTS_FILE, output_path)
            if isinstance(insights, Mapping):
                candidate["definition"] = insights.get("definition")
                candidate["validation"] = {
                    "rows": insights.get("validation_rows"),
                    "metrics": insights.get("metrics"),
                }
            found += [why] if why else []
        if artifacts.get("explainability"):
            explained, why = _read(s3, artifacts["explainability"], EXPLAINABILITY_FILE, output_path)
            if isinstance(explained, Mapping):
                candidate["importance"] = {
                    "method": explained.get("method"),
                    "features": list(explained.get("features") or [])[:MAX_FEATURES],
                }
            found += [why] if why else []
        if not artifacts.get("model_insights") and not artifacts.get("explainability"):
            found.append("SageMaker lists no model insights or explainability report for it")
        if found:
            candidate["notes"] = found
