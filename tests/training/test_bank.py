"""The synthetic bank-marketing set: schema, levels, rate of positives, determinism, planted signal."""

import numpy as np
import pandas as pd
import pytest

from training.bank import COLUMNS, DEFAULT_ROWS, EDUCATION, NEVER_CONTACTED, generate_bank
from training.errors import DatasetError

UCI_LEVELS = {
    "job": {
        "admin.", "blue-collar", "entrepreneur", "housemaid", "management", "retired",
        "self-employed", "services", "student", "technician", "unemployed", "unknown",
    },
    "marital": {"divorced", "married", "single", "unknown"},
    "education": set(EDUCATION),
    "default": {"no", "yes", "unknown"},
    "housing": {"no", "yes", "unknown"},
    "loan": {"no", "yes", "unknown"},
    "contact": {"cellular", "telephone"},
    "month": {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
    "day_of_week": {"mon", "tue", "wed", "thu", "fri"},
    "poutcome": {"failure", "nonexistent", "success"},
    "y": {"no", "yes"},
}  # fmt: skip


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return generate_bank(20_000, seed=3)


def test_columns_are_exactly_the_uci_bank_additional_schema(bank):
    assert tuple(bank.columns) == COLUMNS
    assert COLUMNS[-1] == "y" and len(COLUMNS) == 21


def test_categorical_levels_are_those_of_the_uci_file(bank):
    for column, levels in UCI_LEVELS.items():
        assert set(bank[column].unique()) <= levels, column
    assert bank["month"].value_counts().index[0] == "may"


def test_numeric_columns_have_realistic_ranges(bank):
    assert bank["age"].between(17, 98).all()
    assert bank["duration"].between(0, 4918).all()
    assert (bank["campaign"] >= 1).all()
    assert bank["nr.employed"].between(4963.6, 5228.1).all()
    assert bank["euribor3m"].between(0.634, 5.1).all()


def test_pdays_999_means_never_contacted_and_poutcome_agrees_with_previous(bank):
    never = bank["previous"] == 0
    assert (bank.loc[never, "poutcome"] == "nonexistent").all()
    assert (bank.loc[never, "pdays"] == NEVER_CONTACTED).all()
    assert (bank.loc[~never, "poutcome"] != "nonexistent").all()
    assert (bank["pdays"] == NEVER_CONTACTED).mean() > 0.9


def test_about_eleven_percent_say_yes(bank):
    assert (bank["y"] == "yes").mean() == pytest.approx(0.113, abs=0.015)


def test_the_planted_signal_is_there(bank):
    yes = bank["y"] == "yes"
    assert yes[bank["poutcome"] == "success"].mean() > 3 * yes[bank["poutcome"] == "nonexistent"].mean()
    assert yes[bank["duration"] > 600].mean() > 3 * yes[bank["duration"] < 120].mean()
    assert yes[bank["nr.employed"] < 5100].mean() > 3 * yes[bank["nr.employed"] > 5190].mean()


def test_same_seed_same_rows_other_seed_other_rows():
    assert generate_bank(500, seed=1).equals(generate_bank(500, seed=1))
    assert not generate_bank(500, seed=1).equals(generate_bank(500, seed=2))


def test_any_row_count_and_the_uci_default():
    assert len(generate_bank(1, seed=0)) == 1
    assert DEFAULT_ROWS == 41_188
    assert len(generate_bank()) == DEFAULT_ROWS


def test_zero_rows_is_rejected():
    with pytest.raises(DatasetError, match="rows must be at least 1"):
        generate_bank(0)


def test_dtypes_match_the_uci_file(bank):
    assert bank["age"].dtype == np.int64 and bank["pdays"].dtype == np.int64
    assert bank["emp.var.rate"].dtype == np.float64
    assert bank["job"].dtype == object
