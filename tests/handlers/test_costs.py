"""The price table and the cost arithmetic: the bound before a run, the refusal, the bill after it."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from contracts import prices
from contracts.costs import (
    CLEANUP_MAX_S,
    EVALUATE_MAX_S,
    Bill,
    CostInputs,
    EndpointUse,
    JobUse,
    budget_problem,
    estimate,
    knobs,
)
from contracts.costs import bill as make_bill
from contracts.instance_types import instance_type_problem
from contracts.prices import PriceTable, PriceTableError, parse_price_list, parse_table

SOURCE = {"what": "a test's own prices", "date": "2026-01-02"}


def table(training: dict[str, float], hosting: dict[str, float], region: str = "xx-test-1") -> PriceTable:
    """A price table with fixed prices for one region."""
    return parse_table(
        {
            "currency": "USD",
            "as_of": "2026-01-02",
            "sources": {"test": SOURCE},
            "regions": {
                region: {
                    "training": {t: {"usd_per_hour": p, "source": "test"} for t, p in training.items()},
                    "hosting": {t: {"usd_per_hour": p, "source": "test"} for t, p in hosting.items()},
                }
            },
        }
    )


PRICES = table({"ml.m5.xlarge": 0.5}, {"ml.m5.large": 0.25})
INPUTS = CostInputs(
    region="xx-test-1",
    training_instance_type="ml.m5.xlarge",
    training_instance_count=1,
    tuning_max_jobs=10,
    training_max_runtime_s=1800,
    use_spot=False,
    autopilot_max_candidates=3,
    autopilot_max_runtime_s=3600,
    endpoint_instance_type="ml.m5.large",
    endpoint_wait_s=1800,
)


def lines(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["item"]: line for line in doc["lines"]}


# --- the shipped table -------------------------------------------------------------------------------


def test_the_shipped_table_has_its_date_sources_and_the_two_regions():
    shipped = prices.load()
    raw = json.loads(prices.PRICES_FILE.read_text())
    # Its date is its newest source's, and not in the future.
    assert shipped.as_of == max(source["date"] for source in raw["sources"].values())
    assert date.fromisoformat(shipped.as_of) <= date.today()
    assert {"us-east-1", "eu-west-1"} <= set(shipped.regions)
    for source in raw["sources"].values():
        assert source["what"] and source["date"]


def test_every_shipped_price_is_for_a_type_the_contracts_allow_for_its_use():
    uses = {"training": "training", "hosting": "endpoint"}
    for region, by_use in prices.load().regions.items():
        for use, by_type in by_use.items():
            for instance_type, price in by_type.items():
                assert instance_type_problem(instance_type, uses[use]) is None, (region, instance_type)  # type: ignore[arg-type]
                assert price.usd_per_hour > 0


def test_a_type_missing_from_the_table_has_no_price_rather_than_zero():
    assert PRICES.hourly("xx-test-1", "training", "ml.c5.xlarge") is None
    assert PRICES.hourly("nowhere-1", "training", "ml.m5.xlarge") is None
    assert PRICES.hourly("xx-test-1", "training", "ml.m5.xlarge") == 0.5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"as_of": "last week"}, "as_of must be a date"),
        ({"currency": "EUR"}, "currency must be USD"),
        (
            {"regions": {"r": {"training": {"ml.m5.xlarge": {"usd_per_hour": 0, "source": "test"}}}}},
            "positive",
        ),
        (
            {"regions": {"r": {"training": {"ml.m5.xlarge": {"usd_per_hour": 1, "source": "x"}}}}},
            "source 'x'",
        ),
        ({"regions": {"r": {"spot": {}}}}, "must hold only training, hosting"),
        ({"sources": {"test": {"what": "w", "date": "soon"}}}, "sources.test.date"),
    ],
)
def test_a_malformed_table_is_refused_saying_where(change, message):
    doc = {"currency": "USD", "as_of": "2026-01-02", "sources": {"test": SOURCE}, "regions": {}, **change}
    with pytest.raises(PriceTableError, match=message):
        parse_table(doc)


def product(instance: str, component: str, usd: str, region: str = "us-east-1", **attrs: str) -> str:
    return json.dumps(
        {
            "product": {
                "productFamily": "ML Instance",
                "attributes": {
                    "instanceName": instance,
                    "component": component,
                    "regionCode": region,
                    **attrs,
                },
            },
            "terms": {
                "OnDemand": {
                    "SKU.T": {"priceDimensions": {"SKU.T.D": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}}}
                }
            },
        }
    )


def test_price_list_entries_become_hourly_prices_of_one_component_and_region():
    items = [
        product("ml.m5.xlarge", "Training", "0.2300000000"),
        product("ml.m5.xlarge", "Hosting", "0.9"),  # another component
        product("ml.c5.xlarge", "Training", "0.2", region="eu-west-1"),  # another region
        product("ml.c5.2xlarge", "Training", "0.4", locationType="AWS Outposts"),
        product("ml.p3.2xlarge", "Training", "0.0000000000"),  # no price is not a price of 0
    ]
    assert parse_price_list(items, "us-east-1", "training") == {"ml.m5.xlarge": 0.23}
    assert parse_price_list(items, "us-east-1", "hosting") == {"ml.m5.xlarge": 0.9}


def test_a_refreshed_document_is_a_valid_table_dated_today():
    doc = prices.refreshed_document({"us-east-1": {"training": {"ml.m5.xlarge": 0.23}}}, date(2026, 3, 4))
    refreshed = parse_table(doc)
    assert refreshed.as_of == "2026-03-04"
    assert refreshed.price("us-east-1", "training", "ml.m5.xlarge") == prices.Price(
        0.23, prices.PRICE_LIST_SOURCE
    )
    assert refreshed.hourly("us-east-1", "hosting", "ml.m5.xlarge") is None


# --- before a run: the bound -------------------------------------------------------------------------


def test_the_bound_is_jobs_times_runtime_times_price_for_each_part():
    doc = estimate(INPUTS, PRICES)
    by_item = lines(doc)
    # tuning: 10 jobs x 0.5 h x $0.5
    assert by_item["tuning"]["instance_hours"] == 5.0 and by_item["tuning"]["usd"] == 2.5
    # autopilot: 3 candidates x 1 h x $0.5 (the training type, as assumed)
    assert by_item["autopilot"]["usd"] == 1.5
    # endpoint: 2 variants x (1800 + evaluation + cleanup) s x $0.25
    hours = (1800 + EVALUATE_MAX_S + CLEANUP_MAX_S) / 3600
    assert by_item["endpoint"]["usd"] == pytest.approx(2 * hours * 0.25)
    assert doc["total_usd"] == pytest.approx(2.5 + 1.5 + 2 * hours * 0.25)
    assert doc["complete"] is True and doc["unknown"] == []
    assert doc["prices_as_of"] == "2026-01-02"


def test_spot_is_shown_as_a_saving_while_the_bound_stays_on_demand():
    on_demand = estimate(INPUTS, PRICES)
    spot = estimate(CostInputs(**{**INPUTS.__dict__, "use_spot": True}), PRICES)
    assert spot["total_usd"] == on_demand["total_usd"]
    assert spot["spot_saving_up_to"] == 0.9 and on_demand["spot_saving_up_to"] is None
    assert "spot" in lines(spot)["tuning"]["basis"]


def test_a_kept_endpoint_is_bounded_by_its_ttl():
    kept = estimate(CostInputs(**{**INPUTS.__dict__, "keep_endpoint": True, "endpoint_ttl_hours": 4}), PRICES)
    hours = (1800 + EVALUATE_MAX_S) / 3600 + 4
    assert lines(kept)["endpoint"]["usd"] == pytest.approx(2 * hours * 0.25)


def test_an_unknown_price_makes_the_bound_incomplete_not_smaller():
    doc = estimate(CostInputs(**{**INPUTS.__dict__, "endpoint_instance_type": "ml.c5.xlarge"}), PRICES)
    assert doc["complete"] is False
    assert doc["unknown"] == ["price unknown for ml.c5.xlarge (hosting) in xx-test-1"]
    assert lines(doc)["endpoint"]["usd"] is None
    assert doc["total_usd"] == 4.0  # what is known, flagged incomplete


# --- the budget ----------------------------------------------------------------------------------------


def test_a_run_within_its_budget_or_without_one_may_start():
    doc = estimate(INPUTS, PRICES)
    assert budget_problem(INPUTS, doc, None) is None
    assert budget_problem(INPUTS, doc, doc["total_usd"]) is None


def test_a_run_over_its_budget_is_refused_naming_the_knobs_and_by_how_much():
    doc = estimate(INPUTS, PRICES)  # $4.50 in all: tuning 2.5, autopilot 1.5, endpoint 0.5
    problem = budget_problem(INPUTS, doc, 4.0)
    assert problem is not None and "up to $4.50" in problem and "more than $4" in problem
    found = {k.key: k for k in knobs(INPUTS, doc, 4.0)}
    # tuning: $0.50 must go; 10 jobs at $0.25 each -> 8 jobs
    assert (found["tuning_max_jobs"].proposed, found["tuning_max_jobs"].saves_usd) == (8, 0.5)
    assert found["training_max_runtime_s"].proposed == 1440
    # autopilot: $1.5 for 3 candidates -> 2 candidates save $0.50
    candidates = found["autopilot_max_candidates"]
    assert (candidates.proposed, candidates.saves_usd) == (2, 0.5)
    assert found["autopilot_max_runtime_s"].proposed == 2400
    assert "tuning_max_jobs 10 -> 8 (saves $0.50)" in problem
    # Following any one of them brings the run under the budget.
    for knob in found.values():
        fixed = CostInputs(**{**INPUTS.__dict__, knob.key: knob.proposed})
        assert estimate(fixed, PRICES)["total_usd"] <= 4.0, knob


def test_a_budget_with_an_unknown_price_cannot_be_checked_and_says_how_to_fix_it():
    inputs = CostInputs(**{**INPUTS.__dict__, "training_instance_type": "ml.c5.xlarge"})
    problem = budget_problem(inputs, estimate(inputs, PRICES), 100.0)
    assert problem is not None
    assert "price unknown for ml.c5.xlarge (training) in xx-test-1" in problem
    assert "mlstack prices refresh" in problem


# --- after a run: the bill -----------------------------------------------------------------------------


def test_the_bill_prices_billable_seconds_and_the_endpoint_per_finalist():
    usage = Bill(
        jobs=[
            JobUse("t-001", "tuning", "ml.m5.xlarge", 1, 360),
            JobUse("t-002", "tuning", "ml.m5.xlarge", 2, 180),
            JobUse("a-001", "autopilot", "ml.m5.xlarge", 1, 720),
        ],
        endpoint=EndpointUse("ml.m5.large", {"Tuning": 1, "Autopilot": 1}, 1440, "t0", "t1", final=False),
    )
    doc = make_bill(usage, "xx-test-1", PRICES, {"Tuning": "tuning", "Autopilot": "autopilot"})
    assert doc["tuning"]["usd"] == pytest.approx(0.1)  # (360 + 2 x 180) s = 0.2 h x $0.5
    assert doc["autopilot"]["usd"] == pytest.approx(0.1)
    assert doc["endpoint"]["usd"] == pytest.approx(2 * 0.4 * 0.25)
    assert doc["per_finalist"]["Tuning"]["usd"] == pytest.approx(0.1 + 0.1)
    assert doc["total_usd"] == pytest.approx(0.1 + 0.1 + 0.2)
    assert doc["complete"] is True


def test_a_job_on_an_unpriced_type_leaves_the_bill_incomplete():
    usage = Bill(jobs=[JobUse("t-001", "tuning", "ml.c5.xlarge", 1, 360)], endpoint=None)
    doc = make_bill(usage, "xx-test-1", PRICES)
    assert doc["complete"] is False and doc["tuning"]["complete"] is False
    assert doc["unknown"] == ["price unknown for ml.c5.xlarge (training) in xx-test-1"]
