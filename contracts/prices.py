"""The price table (prices.json beside this file): hourly on-demand prices per region, use and instance type.

Read by ValidateInput, Evaluate and Cleanup (it ships in every handler asset) and by the CLI; rewritten by
`mlstack prices refresh` from the AWS Price List API. Standard library only. A type the table lacks has
no price (None): callers say "price unknown", never count it as 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

PRICES_FILE = Path(__file__).with_name("prices.json")
DESCRIPTION = (
    "On-demand hourly prices of the ml.* instance types this stack may use, per region and use "
    "(training: training jobs; hosting: real-time endpoints). A type missing here is 'price unknown', "
    "never 0. `mlstack prices refresh` rewrites this file from the AWS Price List API (service code "
    "AmazonSageMaker)."
)
Use = Literal["training", "hosting"]
USES: tuple[Use, ...] = ("training", "hosting")
CURRENCY = "USD"
# The Price List API: service code and the product attribute values of SageMaker's instance hours,
# as its GetAttributeValues lists them ("component": Training, Hosting, Processing, Notebook, ...).
SERVICE_CODE = "AmazonSageMaker"
COMPONENTS: dict[Use, str] = {"training": "Training", "hosting": "Hosting"}
PRICE_LIST_SOURCE = "aws-price-list-api"
# Regions `mlstack prices refresh` fetches unless told otherwise.
REFRESH_REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1")


class PriceTableError(ValueError):
    """The price table does not have the shape this module reads; the message says where."""


@dataclass(frozen=True)
class Price:
    """One hourly price and where it comes from."""

    usd_per_hour: float
    source: str


@dataclass(frozen=True)
class PriceTable:
    """The whole table: its date, its sources and the prices."""

    as_of: str
    sources: Mapping[str, Mapping[str, str]]
    regions: Mapping[str, Mapping[str, Mapping[str, Price]]]

    def price(self, region: str, use: Use, instance_type: str) -> Price | None:
        """The hourly price of `instance_type` for `use` in `region`, or None when the table has none."""
        return self.regions.get(region, {}).get(use, {}).get(instance_type)

    def hourly(self, region: str, use: Use, instance_type: str) -> float | None:
        """The price per instance-hour in USD, or None (price unknown)."""
        found = self.price(region, use, instance_type)
        return found.usd_per_hour if found else None


def _fail(where: str, problem: str) -> PriceTableError:
    return PriceTableError(f"{PRICES_FILE.name}: {where} {problem}")


def _date(where: str, value: Any) -> str:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        raise _fail(where, f"must be a date such as 2025-04-11, got {value!r}") from None
    return str(value)


def _prices(where: str, raw: Any, sources: Mapping[str, Any]) -> dict[str, Price]:
    if not isinstance(raw, Mapping):
        raise _fail(where, "must be an object: instance type -> {usd_per_hour, source}")
    out: dict[str, Price] = {}
    for instance_type, entry in raw.items():
        at = f"{where}.{instance_type}"
        if not str(instance_type).startswith("ml.") or not isinstance(entry, Mapping):
            raise _fail(at, "must be an ml.* type with {usd_per_hour, source}")
        value, source = entry.get("usd_per_hour"), entry.get("source")
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise _fail(at, f"usd_per_hour must be a positive number, got {value!r}")
        if source not in sources:
            raise _fail(at, f"names source {source!r}, which 'sources' does not list")
        out[str(instance_type)] = Price(float(value), str(source))
    return out


def parse_table(doc: Any) -> PriceTable:
    """Check a price document and read it; PriceTableError says what is wrong where."""
    if not isinstance(doc, Mapping):
        raise _fail("the document", "must be a JSON object")
    if doc.get("currency") != CURRENCY:
        raise _fail("currency", f"must be {CURRENCY}, got {doc.get('currency')!r}")
    sources = doc.get("sources")
    if not isinstance(sources, Mapping) or not sources:
        raise _fail("sources", "must name where every price comes from")
    for name, source in sources.items():
        if not isinstance(source, Mapping) or not source.get("what"):
            raise _fail(f"sources.{name}", "must say what it is ('what')")
        _date(f"sources.{name}.date", source.get("date"))
    regions = doc.get("regions")
    if not isinstance(regions, Mapping):
        raise _fail("regions", "must be an object: region -> {training, hosting}")
    table: dict[str, dict[str, dict[str, Price]]] = {}
    for region, uses in regions.items():
        if not isinstance(uses, Mapping) or set(uses) - set(USES):
            raise _fail(f"regions.{region}", f"must hold only {', '.join(USES)}")
        table[str(region)] = {
            use: _prices(f"regions.{region}.{use}", uses.get(use, {}), sources) for use in USES
        }
    return PriceTable(as_of=_date("as_of", doc.get("as_of")), sources=sources, regions=table)


@cache
def load() -> PriceTable:
    """The shipped table, read once per process."""
    return parse_table(json.loads(PRICES_FILE.read_text()))


# --- the Price List API (used by `mlstack prices refresh`; pure: no client here) -------------------------


def _on_demand_hourly_usd(terms: Mapping[str, Any]) -> float | None:
    prices = [
        float(dimension["pricePerUnit"][CURRENCY])
        for term in (terms.get("OnDemand") or {}).values()
        for dimension in (term.get("priceDimensions") or {}).values()
        if str(dimension.get("unit", "")).lower() in ("hrs", "hours")
        and CURRENCY in (dimension.get("pricePerUnit") or {})
    ]
    positive = [p for p in prices if p > 0]
    # Several matching products for one type would be a change in AWS's catalogue: the highest is kept,
    # as a bound must not undercount.
    return max(positive) if positive else None


def parse_price_list(items: Iterable[str | Mapping[str, Any]], region: str, use: Use) -> dict[str, float]:
    """Hourly on-demand USD prices by instance type from GetProducts' PriceList, for one region and use."""
    found: dict[str, float] = {}
    for item in items:
        product = json.loads(item) if isinstance(item, str) else item
        attributes = (product.get("product") or {}).get("attributes") or {}
        instance_type = attributes.get("instanceName")
        if (
            not isinstance(instance_type, str)
            or not instance_type.startswith("ml.")
            or attributes.get("component") != COMPONENTS[use]
            or attributes.get("regionCode", region) != region
            or attributes.get("locationType", "AWS Region") != "AWS Region"
        ):
            continue
        hourly = _on_demand_hourly_usd(product.get("terms") or {})
        if hourly is not None:
            found[instance_type] = max(hourly, found.get(instance_type, 0.0))
    return found


def refreshed_document(
    fetched: Mapping[str, Mapping[Use, Mapping[str, float]]], today: date, publication: str | None = None
) -> dict[str, Any]:
    """The price document for prices fetched from the Price List API (region -> use -> type -> price)."""
    note = f"publication {publication}" if publication else "fetched with GetProducts"
    return {
        "description": json.loads(PRICES_FILE.read_text()).get("description", "")
        if PRICES_FILE.exists()
        else "",
        "currency": CURRENCY,
        "unit": "per instance-hour, on demand",
        "as_of": today.isoformat(),
        "sources": {
            PRICE_LIST_SOURCE: {
                "what": f"AWS Price List API, GetProducts, service code {SERVICE_CODE}, OnDemand terms",
                "date": today.isoformat(),
                "note": note,
            }
        },
        "regions": {
            region: {
                use: {
                    instance_type: {"usd_per_hour": price, "source": PRICE_LIST_SOURCE}
                    for instance_type, price in sorted(fetched[region].get(use, {}).items())
                }
                for use in USES
            }
            for region in sorted(fetched)
        },
    }
