"""Service Quotas look-ups by quota name: applied values first, AWS defaults where none is applied."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from contracts.quotas import SERVICE_CODE, normalize
from handlers.common.aws_errors import error_code

if TYPE_CHECKING:
    from mypy_boto3_service_quotas import ServiceQuotasClient


@dataclass(frozen=True)
class QuotaValue:
    """A quota as Service Quotas reports it."""

    name: str
    code: str
    value: float
    source: str  # "applied" or "default"


@dataclass
class QuotaTable:
    """Quotas by normalized name, and why some could not be read."""

    by_name: dict[str, QuotaValue] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def find(self, names: tuple[str, ...]) -> QuotaValue | None:
        """The first quota matching one of `names` (case and spacing ignored)."""
        for name in names:
            found = self.by_name.get(normalize(name))
            if found is not None:
                return found
        return None


def _describe(err: Exception) -> str:
    if isinstance(err, ClientError):
        return f"{error_code(err)}: {err}"
    return f"{type(err).__name__}: {err}"


def _pages(client: ServiceQuotasClient, source: str) -> Iterable[Mapping[str, Any]]:
    if source == "applied":
        return client.get_paginator("list_service_quotas").paginate(ServiceCode=SERVICE_CODE)
    return client.get_paginator("list_aws_default_service_quotas").paginate(ServiceCode=SERVICE_CODE)


def _load(client: ServiceQuotasClient, source: str, table: QuotaTable) -> None:
    """Add every quota one listing returns ("applied" or "default"); a failure is recorded, not raised."""
    operation = "ListServiceQuotas" if source == "applied" else "ListAWSDefaultServiceQuotas"
    try:
        for page in _pages(client, source):
            for quota in page.get("Quotas", []):
                name, code, value = quota.get("QuotaName"), quota.get("QuotaCode"), quota.get("Value")
                if not name or not code or value is None:
                    continue
                # Applied values win over defaults: keep the first one seen.
                table.by_name.setdefault(normalize(name), QuotaValue(name, code, float(value), source))
    except (ClientError, BotoCoreError) as err:
        table.problems.append(f"Service Quotas {operation} failed ({_describe(err)})")


def load_quotas(client: ServiceQuotasClient, names: list[tuple[str, ...]]) -> QuotaTable:
    """Applied SageMaker quotas; AWS defaults are read only when some wanted name has no applied value."""
    table = QuotaTable()
    _load(client, "applied", table)
    if any(table.find(wanted) is None for wanted in names):
        _load(client, "default", table)
    return table
