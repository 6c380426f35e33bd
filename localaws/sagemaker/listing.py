"""List* semantics shared by every resource: filters, sorting and NextToken paging."""

from __future__ import annotations

import datetime as dt
from typing import Any

from localaws.sagemaker.common import ValidationException


def page(
    items: list[dict[str, Any]],
    params: dict[str, Any],
    *,
    name_key: str,
    status_key: str | None = None,
    sort_keys: dict[str, str] | None = None,
    default_sort: str = "CreationTime",
    default_order: str = "Descending",
) -> tuple[list[dict[str, Any]], str | None]:
    """Filter, sort and page summaries as SageMaker's List* calls do."""
    contains = params.get("NameContains")
    if contains:
        items = [i for i in items if contains.lower() in str(i.get(name_key, "")).lower()]
    status = params.get("StatusEquals")
    if status and status_key:
        items = [i for i in items if i.get(status_key) == status]
    for param, key, after in (
        ("CreationTimeAfter", "CreationTime", True),
        ("CreationTimeBefore", "CreationTime", False),
        ("LastModifiedTimeAfter", "LastModifiedTime", True),
        ("LastModifiedTimeBefore", "LastModifiedTime", False),
    ):
        bound = params.get(param)
        if isinstance(bound, dt.datetime):
            items = [i for i in items if key in i and ((i[key] > bound) if after else (i[key] < bound))]
    sort_keys = sort_keys or {"Name": name_key, "CreationTime": "CreationTime"}
    sort_by = params.get("SortBy") or default_sort
    sort_key = sort_keys.get(sort_by)
    if sort_key is None:
        raise ValidationException(f"Value '{sort_by}' at 'sortBy' failed to satisfy constraint")
    descending = (params.get("SortOrder") or default_order) == "Descending"
    present = [i for i in items if _lookup(i, sort_key) is not None]
    missing = [i for i in items if _lookup(i, sort_key) is None]
    present.sort(key=lambda i: _lookup(i, sort_key), reverse=descending)
    items = present + missing  # items without the sort value (e.g. no metric yet) always last
    start = int(params.get("NextToken") or 0)
    limit = int(params.get("MaxResults") or 100)
    chunk = items[start : start + limit]
    token = str(start + limit) if start + limit < len(items) else None
    return chunk, token


def _lookup(item: dict[str, Any], dotted: str) -> Any:
    value: Any = item
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
