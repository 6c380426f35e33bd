"""Needed versus available, quota by quota (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.quotas import Requirement, Usage, how_to_raise, requirements
from handlers.check_quotas.lookup import QuotaTable
from handlers.common.errors import QuotaExceeded
from handlers.common.json_types import JsonDict


@dataclass
class Assessment:
    """The handler's result: quotas checked, warnings, and shortfalls (which fail the run)."""

    checked: list[JsonDict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    shortfalls: list[str] = field(default_factory=list)

    def result(self) -> JsonDict:
        """The JSON the state machine receives."""
        return {"checked": self.checked, "warnings": self.warnings}


def usage_of(run: Mapping[str, Any]) -> Usage:
    """What the run uses, read from the run object ValidateInput produced."""
    tuning = run["tuning"]
    return Usage(
        training_instance_type=str(tuning["resource_config"]["InstanceType"]),
        endpoint_instance_type=str(run["endpoint"]["instance_type"]),
        max_parallel_training_jobs=int(tuning["config"]["ResourceLimits"]["MaxParallelTrainingJobs"]),
        use_spot=bool(tuning.get("use_spot", False)),
    )


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def assess(needs: list[Requirement], table: QuotaTable, region: str) -> Assessment:
    """Compare each requirement with its quota; missing quotas become warnings."""
    out = Assessment(warnings=list(table.problems))
    for need in needs:
        quota = table.find(need.names)
        if quota is None:
            out.warnings.append(
                f"quota {need.quota!r} not found in Service Quotas; not checked ({need.purpose})"
            )
            continue
        ok = quota.value >= need.needed
        out.checked.append(
            {"quota": quota.name, "needed": need.needed, "applied": _number(quota.value), "ok": ok}
        )
        if not ok:
            out.shortfalls.append(
                f"{quota.name}: needed {need.needed}, applied {_number(quota.value)} ({need.purpose}); "
                f"{how_to_raise(region, quota.code, need.needed)}"
            )
    return out


def check(
    run: Mapping[str, Any], table_for: Callable[[list[tuple[str, ...]]], QuotaTable], region: str
) -> Assessment:
    """Assess a run; `table_for(names)` loads the quota table for the names needed."""
    needs = requirements(usage_of(run))
    table = table_for([n.names for n in needs])
    return assess(needs, table, region)


def raise_if_short(assessment: Assessment) -> None:
    """Fail the run, naming every quota that is too low and how to ask for more."""
    if assessment.shortfalls:
        raise QuotaExceeded("; ".join(assessment.shortfalls))
