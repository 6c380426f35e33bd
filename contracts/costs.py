"""What a run can cost at most (before it starts) and what it did cost (after), from the price table.

One home for the arithmetic: ValidateInput puts the estimate in the run object and refuses a run over its
budget, `mlstack run --estimate` prints the same estimate, Evaluate and Cleanup price what ran.
Standard library only. Prices are on-demand per instance-hour (contracts.prices); a missing price is
"unknown", and a bound with an unknown part is reported incomplete rather than smaller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts.prices import PriceTable, Use

HOUR_S = 3600.0
# Every finalist is one production variant with one instance (PlanDeployment).
VARIANTS = 2
# The longest the endpoint can live past InService on a successful run: Evaluate's Lambda timeout, then
# Cleanup's wait for a deletable endpoint (stacks.components.functions, handlers.cleanup.handler).
EVALUATE_MAX_S = 15 * 60
CLEANUP_MAX_S = 15 * 60
# AWS: "Managed spot training can optimize the cost of training models up to 90% over on-demand".
SPOT_SAVING_UP_TO = 0.9
AUTOPILOT_ASSUMPTION = (
    "assumed: up to MaxCandidates candidates at once, each on one instance of the run's training "
    "instance type, for Autopilot's whole runtime budget (SageMaker picks Autopilot's instances itself "
    "and does not say which ahead of the job)"
)
MINOR = (
    "S3 requests and storage, Step Functions state transitions and Lambda time: not priced here; "
    "a run's share is small beside the instances"
)


@dataclass(frozen=True)
class CostInputs:
    """The parts of a run its cost depends on (what ValidateInput planned)."""

    region: str
    training_instance_type: str
    training_instance_count: int
    tuning_max_jobs: int
    training_max_runtime_s: int
    use_spot: bool
    autopilot_max_candidates: int
    autopilot_max_runtime_s: int
    endpoint_instance_type: str
    endpoint_wait_s: int  # the state machine's bounded wait for InService
    keep_endpoint: bool = False
    endpoint_ttl_hours: float = 0.0

    @property
    def endpoint_hours(self) -> float:
        """How long the endpoint can exist at most: deploy wait, evaluation, cleanup (or its TTL if kept)."""
        seconds = float(self.endpoint_wait_s + EVALUATE_MAX_S)
        seconds += self.endpoint_ttl_hours * HOUR_S if self.keep_endpoint else CLEANUP_MAX_S
        return seconds / HOUR_S


@dataclass(frozen=True)
class Line:
    """One line of an estimate or a bill: what, for how many instance-hours, at what price."""

    item: str
    instance_type: str | None
    instance_hours: float
    usd_per_hour: float | None
    basis: str

    @property
    def usd(self) -> float | None:
        return None if self.usd_per_hour is None else self.instance_hours * self.usd_per_hour

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "instance_type": self.instance_type,
            "instance_hours": round(self.instance_hours, 6),
            "usd_per_hour": self.usd_per_hour,
            "usd": _money(self.usd),
            "basis": self.basis,
        }


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _total(lines: Iterable[Line]) -> tuple[float, list[str]]:
    known, unknown = 0.0, []
    for line in lines:
        if line.usd is None:
            unknown.append(f"{line.item} ({line.instance_type})")
        else:
            known += line.usd
    return known, unknown


def _use_of(line: Line) -> Use:
    return "hosting" if line.item.startswith("endpoint") else "training"


def unknown_price(use: Use, instance_type: str | None, region: str) -> str:
    """How a missing price reads wherever it shows."""
    return f"price unknown for {instance_type} ({use}) in {region}"


# --- before a run ---------------------------------------------------------------------------------------


def estimate(inputs: CostInputs, prices: PriceTable, max_cost_usd: float | None = None) -> dict[str, Any]:
    """The run's upper bound, line by line; `complete` is false when a price is unknown."""
    train_price = prices.hourly(inputs.region, "training", inputs.training_instance_type)
    host_price = prices.hourly(inputs.region, "hosting", inputs.endpoint_instance_type)
    tuning_hours = (
        inputs.tuning_max_jobs * inputs.training_instance_count * inputs.training_max_runtime_s / HOUR_S
    )
    spot = (
        f"; managed spot bills only the time trials run, up to {SPOT_SAVING_UP_TO:.0%} less (AWS), "
        "but the bound stays on demand"
        if inputs.use_spot
        else ""
    )
    lines = [
        Line(
            "tuning",
            inputs.training_instance_type,
            tuning_hours,
            train_price,
            f"{inputs.tuning_max_jobs} jobs x {inputs.training_instance_count} instance(s) x "
            f"{inputs.training_max_runtime_s} s max runtime{spot}",
        ),
        Line(
            "autopilot",
            inputs.training_instance_type,
            inputs.autopilot_max_candidates * inputs.autopilot_max_runtime_s / HOUR_S,
            train_price,
            f"{inputs.autopilot_max_candidates} candidates x {inputs.autopilot_max_runtime_s} s; "
            + AUTOPILOT_ASSUMPTION,
        ),
        Line(
            "endpoint",
            inputs.endpoint_instance_type,
            VARIANTS * inputs.endpoint_hours,
            host_price,
            f"{VARIANTS} variants x 1 instance x {inputs.endpoint_hours:.2f} h (deploy wait "
            f"{inputs.endpoint_wait_s} s, evaluation {EVALUATE_MAX_S} s, "
            + (
                f"kept {inputs.endpoint_ttl_hours:g} h)"
                if inputs.keep_endpoint
                else f"cleanup {CLEANUP_MAX_S} s)"
            ),
        ),
    ]
    total, unknown = _total(lines)
    unknown_text = [
        unknown_price(_use_of(line), line.instance_type, inputs.region) for line in lines if line.usd is None
    ]
    return {
        "region": inputs.region,
        "currency": "USD",
        "prices_as_of": prices.as_of,
        "lines": [line.as_dict() for line in lines],
        "minor": MINOR,
        "total_usd": _money(total),
        "complete": not unknown,
        "unknown": sorted(set(unknown_text)),
        "spot_saving_up_to": SPOT_SAVING_UP_TO if inputs.use_spot else None,
        "max_cost_usd": max_cost_usd,
    }


@dataclass(frozen=True)
class Knob:
    """A run option that lowers one line of the bound, and the value that would bring the run under budget."""

    key: str
    current: Any
    proposed: Any
    saves_usd: float


def _line_usd(estimate_doc: Mapping[str, Any], item: str) -> float:
    for line in estimate_doc["lines"]:
        if line["item"] == item:
            return float(line["usd"] or 0.0)
    return 0.0


def knobs(inputs: CostInputs, estimate_doc: Mapping[str, Any], max_cost_usd: float) -> list[Knob]:
    """Each option that alone brings the bound under `max_cost_usd`, with its new value and saving."""
    excess = float(estimate_doc["total_usd"]) - max_cost_usd
    found: list[Knob] = []

    def scaled(key: str, item: str, current: int, low: int) -> None:
        cost = _line_usd(estimate_doc, item)
        if cost <= 0 or current <= low:
            return
        # The line is proportional to the knob: keep the largest value whose line fits.
        value = math.floor(current * (cost - excess) / cost)
        if value >= low:
            found.append(Knob(key, current, value, round(cost * (current - value) / current, 2)))

    scaled("tuning_max_jobs", "tuning", inputs.tuning_max_jobs, 1)
    scaled("training_max_runtime_s", "tuning", inputs.training_max_runtime_s, 60)
    scaled("autopilot_max_candidates", "autopilot", inputs.autopilot_max_candidates, 1)
    scaled("autopilot_max_runtime_s", "autopilot", inputs.autopilot_max_runtime_s, 60)
    if inputs.keep_endpoint:
        kept = _line_usd(estimate_doc, "endpoint")
        released = (
            kept
            * (inputs.endpoint_wait_s + EVALUATE_MAX_S + CLEANUP_MAX_S)
            / (inputs.endpoint_hours * HOUR_S)
        )
        if kept - released >= excess:
            found.append(Knob("keep_endpoint", True, False, round(kept - released, 2)))
    return found


def budget_problem(
    inputs: CostInputs, estimate_doc: Mapping[str, Any], max_cost_usd: float | None
) -> str | None:
    """Why the run may not start under `max_cost_usd` (what to change, by how much), or None."""
    if max_cost_usd is None:
        return None
    if not estimate_doc["complete"]:
        return (
            f"max_cost_usd: the run's bound cannot be checked against ${max_cost_usd:g}: "
            f"{'; '.join(estimate_doc['unknown'])}. Update the price table with `mlstack prices refresh` "
            "(needs AWS credentials), choose instance types it prices (`mlstack prices`), "
            "or drop max_cost_usd"
        )
    total = float(estimate_doc["total_usd"])
    if total <= max_cost_usd:
        return None
    found = knobs(inputs, estimate_doc, max_cost_usd)
    fixes = "; ".join(f"{k.key} {k.current} -> {k.proposed} (saves ${k.saves_usd:.2f})" for k in found)
    return (
        f"max_cost_usd: this run can cost up to ${total:.2f} on demand in {inputs.region}, more than "
        f"${max_cost_usd:g}. "
        + (f"Any one of these brings it under: {fixes}" if fixes else "No single option brings it under")
        + "; or raise max_cost_usd, or choose cheaper instance types"
    )


# --- after a run ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobUse:
    """One SageMaker training job as billed: BillableTimeInSeconds x InstanceCount (AWS's formula)."""

    name: str
    kind: str  # "tuning" or "autopilot"
    instance_type: str | None
    instance_count: int
    billable_s: float
    basis: str = "BillableTimeInSeconds"


@dataclass(frozen=True)
class EndpointUse:
    """The endpoint's instances and how long they were InService (so far, or until deleted)."""

    instance_type: str
    instances: Mapping[str, int]  # variant -> instance count
    seconds: float
    since: str | None
    until: str | None
    final: bool  # True when the endpoint was deleted (until = deletion), False when it still ran


def in_service(
    described: Mapping[str, Any], instance_type: str, until: datetime, final: bool
) -> EndpointUse | None:
    """From DescribeEndpoint: InService since its last status change (SageMaker's LastModifiedTime)."""
    since = described.get("LastModifiedTime")
    if described.get("EndpointStatus") not in ("InService", "Updating", "Deleting") or not isinstance(
        since, datetime
    ):
        return None
    instances = {
        str(v["VariantName"]): int(v.get("CurrentInstanceCount") or v.get("DesiredInstanceCount") or 1)
        for v in described.get("ProductionVariants") or []
    }
    return EndpointUse(
        instance_type=instance_type,
        instances=instances,
        seconds=max(0.0, (until - since).total_seconds()),
        since=_iso_utc(since),
        until=_iso_utc(until),
        final=final,
    )


def _iso_utc(value: Any) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if isinstance(value, datetime) else None


@dataclass(frozen=True)
class Bill:
    """Actual cost: every job, the endpoint, by finalist and in all."""

    jobs: Sequence[JobUse]
    endpoint: EndpointUse | None
    notes: Sequence[str] = field(default_factory=tuple)


def _job_line(job: JobUse, region: str, prices: PriceTable) -> Line:
    price = prices.hourly(region, "training", job.instance_type) if job.instance_type else None
    return Line(job.kind, job.instance_type, job.instance_count * job.billable_s / HOUR_S, price, job.basis)


def endpoint_lines(endpoint: EndpointUse, region: str, prices: PriceTable) -> dict[str, Line]:
    """One line per variant: its instances for the time the endpoint was InService."""
    price = prices.hourly(region, "hosting", endpoint.instance_type)
    span = "InService to deletion" if endpoint.final else "InService to the end of evaluation"
    return {
        variant: Line(
            f"endpoint:{variant}",
            endpoint.instance_type,
            count * endpoint.seconds / HOUR_S,
            price,
            f"{count} instance(s) x {endpoint.seconds:.0f} s, {span}",
        )
        for variant, count in endpoint.instances.items()
    }


def bill(
    usage: Bill, region: str, prices: PriceTable, finalists: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The actual cost as a document: per kind, per finalist (variant -> kind), total, what is unknown."""
    job_lines = [(job, _job_line(job, region, prices)) for job in usage.jobs]
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in ("tuning", "autopilot"):
        lines = [line for job, line in job_lines if job.kind == kind]
        total, unknown = _total(lines)
        by_kind[kind] = {
            "jobs": len(lines),
            "instance_hours": round(sum(line.instance_hours for line in lines), 6),
            "usd": _money(total) if lines else 0.0,
            "complete": not unknown,
        }
    variants = endpoint_lines(usage.endpoint, region, prices) if usage.endpoint else {}
    endpoint_total, endpoint_unknown = _total(variants.values())
    per_finalist: dict[str, Any] = {}
    for variant, kind in (finalists or {}).items():
        line = variants.get(variant)
        parts = [by_kind.get(kind, {}).get("usd"), line.usd if line else 0.0]
        complete = by_kind.get(kind, {}).get("complete", True) and (line is None or line.usd is not None)
        per_finalist[variant] = {
            "kind": kind,
            "training_usd": by_kind.get(kind, {}).get("usd"),
            "endpoint_usd": _money(line.usd) if line else None,
            "usd": _money(sum(p or 0.0 for p in parts)),
            "complete": complete,
        }
    all_lines = [line for _, line in job_lines] + list(variants.values())
    total, unknown = _total(all_lines)
    unknown_text = sorted(
        {
            unknown_price(
                "hosting" if line.item.startswith("endpoint") else "training", line.instance_type, region
            )
            for line in all_lines
            if line.usd is None
        }
    )
    return {
        "region": region,
        "currency": "USD",
        "prices_as_of": prices.as_of,
        "tuning": by_kind["tuning"],
        "autopilot": by_kind["autopilot"],
        "endpoint": (
            {
                "instance_type": usage.endpoint.instance_type,
                "instances": dict(usage.endpoint.instances),
                "seconds": round(usage.endpoint.seconds, 3),
                "since": usage.endpoint.since,
                "until": usage.endpoint.until,
                "final": usage.endpoint.final,
                "usd": _money(endpoint_total) if not endpoint_unknown else None,
            }
            if usage.endpoint
            else None
        ),
        "per_finalist": per_finalist,
        "jobs": [line.as_dict() | {"name": job.name} for job, line in job_lines],
        "total_usd": _money(total),
        "complete": not unknown,
        "unknown": unknown_text,
        "notes": list(usage.notes),
    }


def money(value: Any) -> str:
    """A dollar amount as reports show it ('unknown' for None)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "unknown"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"
