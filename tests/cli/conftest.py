"""Fixtures of the CLI tier: recorded Describe outputs and a recorded report (no AWS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / "binary" / name).read_text())


@pytest.fixture
def evaluation() -> dict[str, Any]:
    """evaluation.json of a real local run on bank (binary)."""
    return load("evaluation.json")


@pytest.fixture
def board() -> dict[str, Any]:
    """leaderboard.json of the same run."""
    return load("leaderboard.json")


@pytest.fixture
def described() -> dict[str, Any]:
    """DescribeHyperParameterTuningJob, DescribeAutoMLJobV2 and a history cut mid-training, recorded."""
    return load("describe.json")
