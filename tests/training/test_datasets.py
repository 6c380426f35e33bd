"""Dataset loaders: scikit-learn's bundled and generated sets, CSV files with any delimiter, row sampling."""

import pytest

from training.datasets import BUILTIN, dataset_name, load_dataset
from training.errors import DatasetError


@pytest.mark.parametrize(
    ("name", "target", "problem_type", "rows"),
    [
        ("breast_cancer", "diagnosis", "binary", 569),
        ("digits", "digit", "multiclass", 1797),
        ("diabetes", "progression", "regression", 442),
        ("friedman", "response", "regression", 2000),
    ],
)
def test_sklearn_sets_load_offline_as_frames_with_a_named_target(name, target, problem_type, rows):
    dataset = load_dataset(name)
    assert dataset.name == name
    assert dataset.target == target and target in dataset.frame.columns
    assert dataset.problem_type == problem_type
    assert len(dataset.frame) == rows


def test_friedman_is_generated_seeded_and_sized_by_rows():
    first, again = load_dataset("friedman", rows=600, seed=3), load_dataset("friedman", rows=600, seed=3)
    assert len(first.frame) == 600
    assert first.frame.equals(again.frame)
    assert not first.frame.equals(load_dataset("friedman", rows=600, seed=4).frame)


def test_breast_cancer_target_holds_class_names():
    frame = load_dataset("breast_cancer").frame
    assert set(frame["diagnosis"]) == {"benign", "malignant"}


def test_rows_samples_a_seeded_subset_of_an_existing_set():
    first = load_dataset("digits", rows=100, seed=1).frame
    assert len(first) == 100
    assert first.equals(load_dataset("digits", rows=100, seed=1).frame)
    assert not first.equals(load_dataset("digits", rows=100, seed=2).frame)


def test_rows_generates_that_many_bank_rows():
    assert len(load_dataset("bank", rows=123).frame) == 123


def test_a_semicolon_csv_like_the_uci_file_is_sniffed(tmp_path):
    # Given the header and quoting style of bank-additional-full.csv
    path = tmp_path / "bank-additional-full.csv"
    path.write_text('"age";"job";"y"\n56;"housemaid";"no"\n37;"services";"yes"\n')
    # When it is loaded
    dataset = load_dataset(str(path))
    # Then the columns are split on ';' and the quotes are gone
    assert list(dataset.frame.columns) == ["age", "job", "y"]
    assert dataset.frame["job"].tolist() == ["housemaid", "services"]
    assert dataset.name == "bank-additional-full"
    assert dataset.target is None


def test_a_comma_csv_loads(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n1,2,x\n3,4,y\n")
    assert load_dataset(str(path)).frame.shape == (2, 3)


def test_an_unknown_name_lists_the_choices():
    with pytest.raises(DatasetError, match="unknown dataset 'mnist': use one of bank, breast_cancer"):
        load_dataset("mnist")


def test_a_missing_csv_is_named(tmp_path):
    with pytest.raises(DatasetError, match="CSV file not found"):
        load_dataset(str(tmp_path / "nope.csv"))


def test_an_empty_csv_is_rejected(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DatasetError, match="input is empty"):
        load_dataset(str(path))


def test_names_are_safe_in_s3_keys(tmp_path):
    assert dataset_name(tmp_path / "my data (v2).csv") == "my-data-v2"


def test_the_cli_lists_the_same_builtin_names():
    from mlstack.commands.data import BUILTIN_DATASETS

    assert tuple(BUILTIN) == BUILTIN_DATASETS
