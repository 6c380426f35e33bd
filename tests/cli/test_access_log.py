"""`mlstack local access-log`: the local AWS's IAM decisions, all or only the refused ones."""

from __future__ import annotations

import json

import pytest

from localaws.iam.access_log import AccessLog, Entry
from mlstack.cli import main

ROLE = "arn:aws:sts::123456789012:assumed-role/Evaluate/fn"


@pytest.fixture
def logged(tmp_path, monkeypatch):
    monkeypatch.setenv("MLSTACK_STATE_DIR", str(tmp_path))
    log = AccessLog(tmp_path / "access-log.jsonl")
    log.write(
        Entry(
            ROLE,
            "s3:GetObject",
            "arn:aws:s3:::data/x",
            "Allowed",
            "Read in identity policy p",
            "s3:GetObject",
        )
    )
    log.write(
        Entry(
            ROLE,
            "kms:Decrypt",
            "arn:aws:kms:us-east-1:123456789012:key/k",
            "ImplicitlyDenied",
            None,
            "s3:GetObject",
        )
    )


def test_denied_lists_only_the_refusals(logged, capsys) -> None:
    assert main(["local", "access-log", "--denied", "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line) | {"time": 0} == {
        "principal": ROLE,
        "action": "kms:Decrypt",
        "resource": "arn:aws:kms:us-east-1:123456789012:key/k",
        "decision": "ImplicitlyDenied",
        "statement": None,
        "call": "s3:GetObject",
        "time": 0,
    }


def test_the_table_names_the_deciding_statement(logged, capsys) -> None:
    assert main(["local", "access-log"]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith("Allowed") and first.endswith("(Read in identity policy p)")
    assert second.startswith("ImplicitlyDenied") and "kms:Decrypt" in second
