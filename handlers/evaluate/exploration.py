"""The dataset's exploration.json (written by `mlstack data prepare`), summed up for the run's report.

Datasets prepared before explorations existed have none: the report says so, and how to get one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts.dataset_layout import EXPLORATION
from contracts.reports import DataColumn, DataSummary, DataWarning
from handlers.common.aws_errors import error_code, is_not_found
from handlers.common.s3io import read_bytes
from handlers.common.s3uri import parse_s3_uri

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_COLUMNS = 300  # one table row each; a wider table is summed up by its count
MISSING = (
    "the dataset has no {name}: it was prepared before `mlstack data prepare` explored the data. Prepare it "
    "again to see each column and the data's warnings here"
)


def _number(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    return f"{value:.4g}"


def _summary(column: Mapping[str, Any]) -> str:
    numeric, categorical = column.get("numeric"), column.get("categorical")
    if isinstance(numeric, Mapping):
        median = (numeric.get("quantiles") or {}).get("p50")
        return f"{_number(numeric.get('min'))} / {_number(median)} / {_number(numeric.get('max'))}"
    top = (categorical or {}).get("top") or [] if isinstance(categorical, Mapping) else []
    if top:
        return f"{top[0].get('value')!s} ({float(top[0].get('share') or 0):.0%})"
    return "-"


def summarize(exploration: Mapping[str, Any], source: str) -> DataSummary:
    """What the report shows of an exploration: a line per column, the class balance, every warning."""
    codes: dict[str | None, list[str]] = {}
    for warning in exploration.get("warnings") or []:
        codes.setdefault(warning.get("column"), []).append(str(warning.get("code")))
    columns = list(exploration.get("columns") or [])
    target = exploration.get("target") or {}
    metric = (exploration.get("leakage_check") or {}).get("metric")
    return DataSummary(
        source=source,
        status="read",
        reason=None,
        name=exploration.get("name"),
        rows=exploration.get("rows"),
        target=target.get("name"),
        classes=[dict(c) for c in target.get("classes") or []],
        single_feature_metric=metric,
        column_count=len(columns),
        columns=[
            DataColumn(
                name=str(c.get("name")),
                role=str(c.get("role")),
                type=str(c.get("type")),
                missing=int(c.get("missing") or 0),
                missing_share=float(c.get("missing_share") or 0.0),
                unique=int(c.get("unique") or 0),
                summary=_summary(c),
                single_feature=(c.get("single_feature") or {}).get("score"),
                warnings=sorted(set(codes.get(c.get("name"), []))),
            )
            for c in columns[:MAX_COLUMNS]
        ],
        warnings=[
            DataWarning(
                code=str(w.get("code")),
                column=w.get("column"),
                message=str(w.get("message")),
                action=str(w.get("action")),
            )
            for w in exploration.get("warnings") or []
        ],
    )


def _without(source: str, status: str, reason: str) -> DataSummary:
    return DataSummary(
        source=source,
        status=status,
        reason=reason,
        name=None,
        rows=None,
        target=None,
        classes=[],
        single_feature_metric=None,
        column_count=0,
        columns=[],
        warnings=[],
    )


def data_summary(s3: S3Client, dataset_uri: str) -> DataSummary:
    """The dataset's exploration, summed up; its absence or a read error is a status, never a failure."""
    uri = parse_s3_uri(dataset_uri.rstrip("/") + "/").join(EXPLORATION)
    try:
        exploration = json.loads(read_bytes(s3, uri))
    except ClientError as err:
        if is_not_found(err):
            return _without(str(uri), "missing", MISSING.format(name=EXPLORATION))
        return _without(str(uri), "unreadable", f"cannot read {uri} ({error_code(err)}): {err}")
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return _without(str(uri), "unreadable", f"{uri} is not JSON: {err}")
    if not isinstance(exploration, Mapping):
        return _without(str(uri), "unreadable", f"{uri} is not an exploration (not a JSON object)")
    return summarize(exploration, str(uri))
