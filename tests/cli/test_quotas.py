"""`mlstack quotas` rows and docs/QUOTAS.md, from contracts/quotas.py and cdk.json (no AWS)."""

from __future__ import annotations

from pathlib import Path

from contracts.quotas import requirements
from handlers.check_quotas.lookup import QuotaTable, QuotaValue
from mlstack.cli import main
from mlstack.quota_report import markdown, problems, quota_rows, quota_table, usage_of
from mlstack.stack import cdk_context, stage_config

QUOTAS_MD = Path(__file__).resolve().parents[2] / "docs" / "QUOTAS.md"


def _table(values: dict[str, float], problems_: list[str] | None = None) -> QuotaTable:
    table = QuotaTable(problems=problems_ or [])
    for name, value in values.items():
        table.by_name[name.lower()] = QuotaValue(name, f"L-{len(table.by_name)}", float(value), "applied")
    return table


def test_usage_narrows_parallel_jobs_to_the_job_budget():
    config = stage_config("local")
    assert usage_of(config).max_parallel_training_jobs == min(
        config.tuning_max_parallel_jobs, config.tuning_max_jobs
    )


def test_prod_needs_spot_quotas_instead_of_on_demand():
    keys = [n.key for n in requirements(usage_of(stage_config("prod")))]
    assert "spot-training-instances" in keys and "training-instances" not in keys


def test_needed_vs_applied_with_a_shortfall():
    needs = requirements(usage_of(stage_config("dev")))
    table = _table({"ml.m5.xlarge for training job usage": 1, "ml.m5.large for endpoint usage": 4})
    rows = {r.key: r for r in quota_rows(needs, table, "eu-west-1")}
    short = rows["training-instances"]
    assert (short.needed, short.applied, short.ok, short.note) == (2, 1, False, "short by 1")
    assert (
        "eu-west-1.console.aws.amazon.com" in short.how_to_raise and "--desired-value 2" in short.how_to_raise
    )
    assert rows["endpoint-instances"].ok is True
    unknown = rows["concurrent-automl-jobs"]
    assert (unknown.ok, unknown.applied, unknown.note) == (None, None, "unknown: not listed here")
    table_rows = quota_table("dev", list(rows.values()))
    assert table_rows.highlight == frozenset({0})


def test_every_row_says_when_service_quotas_is_unavailable():
    needs = requirements(usage_of(stage_config("dev")))
    rows = quota_rows(needs, None, "us-east-1")
    assert all(r.ok is None and r.note == "unknown: Service Quotas unavailable" for r in rows)
    failing = _table({}, ["Service Quotas ListServiceQuotas failed (500: oops): <!doctype html>\n<html>"])
    assert problems(failing, None) == ["Service Quotas ListServiceQuotas failed (500: oops):"]


def test_an_unavailable_service_quotas_is_no_failure(monkeypatch, capsys):
    import mlstack.commands.quotas as command

    monkeypatch.setattr(command, "load_quotas", lambda client, names: _table({}, ["AccessDenied: no"]))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert main(["quotas", "--stage", "dev", "--json"]) == 0
    assert '"problems": [\n    "AccessDenied: no"\n  ]' in capsys.readouterr().out


def test_a_shortfall_exits_1(monkeypatch, capsys):
    import mlstack.commands.quotas as command

    monkeypatch.setattr(
        command, "load_quotas", lambda client, names: _table({"ml.m5.large for endpoint usage": 0})
    )
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert main(["quotas", "--stage", "dev"]) == 1
    assert "short by 2" in capsys.readouterr().out


def test_markdown_covers_every_stage():
    text = markdown({name: stage_config(name) for name in cdk_context()["stages"]})
    for stage in cdk_context()["stages"]:
        assert f"## Stage `{stage}`" in text
    assert "| ml.m5.xlarge for spot training job usage | 5 |" in text  # prod: spot, 5 in parallel


def test_docs_quotas_md_is_current(capsys):
    assert main(["quotas", "--markdown"]) == 0
    assert QUOTAS_MD.read_text() == capsys.readouterr().out, (
        "docs/QUOTAS.md is stale: run `mlstack quotas --markdown > docs/QUOTAS.md`"
    )
