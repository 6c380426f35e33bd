"""`mlstack run --estimate`, `mlstack prices [refresh]`, `mlstack costs`, and the cost lines of a run."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from contracts import prices
from mlstack.cli import main
from mlstack.commands.costs import bill_rows, cost_summary_lines, parse_since
from mlstack.commands.prices import RefreshError, refresh


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["run", "--stage", "local", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _executions(stack: dict[str, str]) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions")
    return list(sfn.list_executions(stateMachineArn=stack["StateMachineArn"])["executions"])


# --- mlstack run --estimate ----------------------------------------------------------------------------


def test_estimate_prints_validate_inputs_bound_and_starts_nothing(local_stack, bank, capsys):
    # The local AWS is us-east-1, whose table prices ml.m5.xlarge for hosting but not for training.
    code, out, err = _run(capsys, "--dataset", bank, "--endpoint-instance-type", "ml.m5.xlarge", "--estimate")

    assert code == 0, err
    assert "upper bound of this run" in out
    assert "price unknown for ml.m5.xlarge (training) in us-east-1" in out
    assert "nothing was started" in out
    assert _executions(local_stack) == []


def test_estimate_as_json_is_the_run_objects_own(local_stack, bank, capsys):
    code, out, err = _run(
        capsys, "--dataset", bank, "--endpoint-instance-type", "ml.m5.xlarge", "--estimate", "--json"
    )
    assert code == 0, err
    document = json.loads(out)
    endpoint = next(line for line in document["estimate"]["lines"] if line["item"] == "endpoint")
    # 2 variants x (the local stage's 1800 s endpoint wait + evaluation + cleanup) at $0.23
    assert endpoint["usd"] == pytest.approx(2 * (1800 + 900 + 900) / 3600 * 0.23)
    assert document["refused"] is None


def test_estimate_over_a_budget_it_cannot_check_exits_2_and_says_why(local_stack, bank, capsys):
    code, out, err = _run(capsys, "--dataset", bank, "--max-cost-usd", "5", "--estimate")
    assert code == 2
    assert "upper bound of this run" in out
    assert "max_cost_usd: the run's bound cannot be checked" in err
    assert _executions(local_stack) == []


def test_a_run_whose_budget_cannot_be_checked_is_not_started(local_stack, bank, capsys):
    code, _, err = _run(capsys, "--dataset", bank, "--max-cost-usd", "5")
    assert code == 2
    assert "price unknown for ml.m5.xlarge (training) in us-east-1" in err
    assert _executions(local_stack) == []


# --- the lines a finished run ends with ----------------------------------------------------------------


def test_a_finished_run_ends_with_its_cost_its_bound_and_each_finalist():
    cost = {
        "estimate": {"total_usd": 3.5},
        "actual": {
            "total_usd": 0.0421,
            "complete": True,
            "region": "eu-west-1",
            "per_finalist": {"Tuning": {"usd": 0.03}, "Autopilot": {"usd": 0.0121}},
        },
        "offline": True,
    }
    lines = cost_summary_lines(cost, {"usd": 0.01, "seconds": 60})
    assert lines[0] == "cost: $0.0421 at on-demand prices in eu-west-1 (bound $3.50)"
    assert lines[1] == "per finalist: Tuning $0.0300, Autopilot $0.0121"
    assert lines[2] == "endpoint until deleted: $0.0100 (60 s InService)"
    assert "would have cost on AWS" in lines[3]
    assert cost_summary_lines(None) == []


@pytest.mark.parametrize(("text", "window"), [("7d", timedelta(days=7)), ("12h", timedelta(hours=12))])
def test_since_takes_hours_days_or_weeks(text, window):
    assert parse_since(text) == window


def test_since_says_what_fits():
    with pytest.raises(ValueError, match="expected a number with h, d or w such as 7d"):
        parse_since("a week")


# --- mlstack costs ---------------------------------------------------------------------------------------


def _report(s3: Any, bucket: str, run_id: str, usd: float | None, complete: bool = True) -> None:
    cost = {
        "actual": {"total_usd": usd, "complete": complete, "region": "us-east-1"},
        "estimate": {"total_usd": 9},
    }
    body = json.dumps({"run_id": run_id, "cost": cost})
    s3.put_object(Bucket=bucket, Key=f"reports/{run_id}/evaluation.json", Body=body.encode())


def test_costs_lists_each_runs_cost_and_the_total(endpoint_aws, local_stack, capsys):
    s3, bucket = endpoint_aws.client("s3"), local_stack["ArtifactsBucketName"]
    _report(s3, bucket, "run-a", 0.25)
    _report(s3, bucket, "run-b", 1.5, complete=False)

    code = main(["costs", "--stage", "local", "--since", "7d", "--json"])
    out, err = capsys.readouterr()

    assert code == 0, err
    document = json.loads(out)
    assert [r["run_id"] for r in document["runs"]] == ["run-a", "run-b"]
    assert document["total_usd"] == 1.75
    assert main(["costs", "--stage", "local"]) == 0
    table = capsys.readouterr().out
    assert "2 run(s) in 30d" in table and "$1.75 + unknown" in table


# --- mlstack prices refresh --------------------------------------------------------------------------------


def _product(instance: str, component: str, usd: str, region: str) -> str:
    return json.dumps(
        {
            "product": {
                "attributes": {"instanceName": instance, "component": component, "regionCode": region}
            },
            "terms": {
                "OnDemand": {"T": {"priceDimensions": {"D": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}}}}
            },
        }
    )


def _stub_components(stubber: Stubber, values: list[str]) -> None:
    stubber.add_response(
        "get_attribute_values",
        {"AttributeValues": [{"Value": v} for v in values]},
        {"ServiceCode": "AmazonSageMaker", "AttributeName": "component"},
    )


def test_refresh_writes_a_dated_table_of_allowed_types_from_the_price_list(tmp_path: Path):
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    stubber = Stubber(client)
    _stub_components(stubber, ["Hosting", "Notebook", "Training"])
    for component, entries in {
        "Training": [_product("ml.m5.xlarge", "Training", "0.23", "us-east-1")],
        # ml.m5d.large has NVMe storage the stack's key cannot encrypt: not a type a run may use
        "Hosting": [
            _product("ml.m5.large", "Hosting", "0.115", "us-east-1"),
            _product("ml.m5d.large", "Hosting", "0.136", "us-east-1"),
        ],
    }.items():
        filters = [
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
            {"Type": "TERM_MATCH", "Field": "component", "Value": component},
        ]
        stubber.add_response(
            "get_products", {"PriceList": entries}, {"ServiceCode": "AmazonSageMaker", "Filters": filters}
        )
    output = tmp_path / "prices.json"

    with stubber:
        table = refresh(client, ["us-east-1"], output)

    written = prices.parse_table(json.loads(output.read_text()))
    assert written == table
    assert written.hourly("us-east-1", "training", "ml.m5.xlarge") == 0.23
    assert written.hourly("us-east-1", "hosting", "ml.m5.large") == 0.115
    assert written.hourly("us-east-1", "hosting", "ml.m5d.large") is None
    assert written.sources[prices.PRICE_LIST_SOURCE]["date"] == written.as_of
    stubber.assert_no_pending_responses()


def test_refresh_refuses_attribute_values_it_does_not_know(tmp_path: Path):
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    stubber = Stubber(client)
    _stub_components(stubber, ["Hosting", "TrainingJob"])
    with stubber, pytest.raises(RefreshError, match="'component' values lack Training"):
        refresh(client, ["us-east-1"], tmp_path / "prices.json")
    assert not (tmp_path / "prices.json").exists()


def test_prices_shows_the_shipped_table_with_its_date(capsys):
    assert main(["prices", "--region", "eu-west-1"]) == 0
    out = capsys.readouterr().out
    assert f"as of {prices.load().as_of}" in out
    assert "ml.m5.xlarge" in out and "aws-samples-sagemaker-ssh-helper-2023-12" in out


def test_the_bill_table_shows_each_part_each_finalist_and_the_total_beside_the_bound():
    actual = {
        "tuning": {"jobs": 6, "instance_hours": 0.01, "usd": 0.0023, "complete": True},
        "autopilot": {"jobs": 1, "instance_hours": 0.02, "usd": None, "complete": False},
        "endpoint": {"instance_type": "ml.m5.xlarge", "seconds": 30.0, "final": False, "usd": 0.0038},
        "per_finalist": {"Tuning": {"kind": "tuning", "usd": 0.0042}},
        "total_usd": 0.0061,
        "complete": False,
    }
    rows = bill_rows(actual, {"total_usd": 3.5}).rows
    assert rows[0] == ("tuning", "6 job(s), 0.010 instance-h", "$0.0023")
    assert rows[1] == ("autopilot", "1 job(s), 0.020 instance-h", "unknown")
    assert rows[2] == ("endpoint", "ml.m5.xlarge, 30 s until evaluated", "$0.0038")
    assert rows[3] == ("finalist Tuning", "tuning jobs + its variant", "$0.0042")
    assert rows[-1] == ("total", "bound $3.50", "$0.0061 + unknown")
