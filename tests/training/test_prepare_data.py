"""prepare_data: the exact channel layout, encodings, manifest contents and every rejection."""

import json

import numpy as np
import pandas as pd
import pytest

from contracts.dataset_layout import ManifestFields
from contracts.run import fields_of
from tests.shapes import mismatches
from training.datasets import Dataset, load_dataset
from training.encoding import FeatureEncoding
from training.errors import DatasetError
from training.prepare_data import prepare, prepare_dataset, read_manifest

LAYOUT = {
    "train/train.csv",
    "validation/validation.csv",
    "test/test.csv",
    "test-raw/test.csv",
    "autopilot/train.csv",
    "manifest.json",
    "exploration.json",
    "exploration.html",
}


def _files(root):
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _encoded(path):
    return pd.read_csv(path, header=None)


def _frame(rows=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "size": rng.normal(size=rows),
            "color": rng.choice(["red", "blue"], size=rows),
            "label": rng.choice(["cat", "dog"], size=rows),
        }
    )


def test_the_layout_is_exactly_what_the_pipeline_reads(bank_dir):
    assert _files(bank_dir) == LAYOUT


def test_encoded_channels_are_headerless_label_first_and_numeric(bank_dir):
    manifest = read_manifest(bank_dir)
    for part in ("train", "validation", "test"):
        table = _encoded(bank_dir / manifest["files"][part])
        assert table.shape == (manifest["rows"][part], 1 + len(manifest["feature_names"]))
        assert all(pd.api.types.is_numeric_dtype(t) for t in table.dtypes)
        assert set(table[0].unique()) == {0, 1}


def test_test_raw_holds_the_same_rows_in_the_same_order(bank_dir):
    # Given the encoded test channel and the raw test rows
    manifest = read_manifest(bank_dir)
    encoded = _encoded(bank_dir / "test" / "test.csv")
    raw = pd.read_csv(bank_dir / "test-raw" / "test.csv")
    # When the raw rows are encoded with the encoding the manifest recorded
    again = FeatureEncoding.from_manifest(manifest).transform(raw[manifest["raw_columns"]])
    # Then they are the encoded rows, label for label
    assert np.allclose(again.to_numpy(dtype=float), encoded.iloc[:, 1:].to_numpy(dtype=float), equal_nan=True)
    assert (raw["y"].map(manifest["classes"].index) == encoded[0]).all()


def test_autopilot_gets_train_and_validation_raw_with_header_and_target(bank_dir):
    manifest = read_manifest(bank_dir)
    autopilot = pd.read_csv(bank_dir / "autopilot" / "train.csv")
    assert list(autopilot.columns) == [*manifest["raw_columns"], "y"]
    assert len(autopilot) == manifest["rows"]["train"] + manifest["rows"]["validation"]
    assert set(autopilot["y"]) == {"no", "yes"}


def test_autopilot_ends_with_the_validation_rows_in_their_order(bank_dir):
    # The layout Evaluate relies on to send Autopilot the validation rows raw (contracts.dataset_layout)
    manifest = read_manifest(bank_dir)
    autopilot = pd.read_csv(bank_dir / "autopilot" / "train.csv")
    encoded = {part: _encoded(bank_dir / manifest["files"][part]) for part in ("train", "validation")}
    encoding = FeatureEncoding.from_manifest(manifest)
    head, tail = autopilot.iloc[: manifest["rows"]["train"]], autopilot.iloc[manifest["rows"]["train"] :]
    for part, raw in (("train", head), ("validation", tail)):
        again = encoding.transform(raw[manifest["raw_columns"]].reset_index(drop=True))
        table = encoded[part]
        assert np.allclose(
            again.to_numpy(dtype=float), table.iloc[:, 1:].to_numpy(dtype=float), equal_nan=True
        )
        assert (raw["y"].map(manifest["classes"].index).to_numpy() == table[0].to_numpy()).all()


def test_class_counts_add_up_to_each_channels_rows(bank_dir):
    manifest = read_manifest(bank_dir)
    for part, rows in manifest["rows"].items():
        counts = manifest["class_counts"][part]
        assert list(counts) == manifest["classes"] and sum(counts.values()) == rows
    labels = _encoded(bank_dir / "train" / "train.csv")[0]
    assert manifest["class_counts"]["train"] == {
        "no": int((labels == 0).sum()),
        "yes": int((labels == 1).sum()),
    }


def test_the_manifest_describes_the_bank_set(bank_dir):
    manifest = json.loads((bank_dir / "manifest.json").read_text())
    assert manifest["format_version"] == 1
    assert manifest["name"] == "bank"
    assert manifest["target"] == "y"
    assert manifest["problem_type"] == "binary"
    assert manifest["classes"] == ["no", "yes"]
    assert manifest["positive_class"] == "yes"
    assert manifest["raw_columns"][0] == "age" and "y" not in manifest["raw_columns"]
    assert "job=admin." in manifest["feature_names"]
    assert manifest["categories"]["month"] == sorted(manifest["categories"]["month"])
    assert manifest["rows"] == {"train": 2100, "validation": 450, "test": 450}
    assert manifest["dropped_rows"] == {"missing_target": 0}
    assert manifest["channels"] == {
        "train": "train/",
        "validation": "validation/",
        "test": "test/",
        "test_raw": "test-raw/",
        "autopilot": "autopilot/",
    }
    assert manifest["seed"] == 7
    assert sum(manifest["class_counts"]["test"].values()) == 450


@pytest.mark.parametrize("dataset_dir", ["bank_dir", "digits_dir", "diabetes_dir"])
def test_every_manifest_holds_the_fields_a_run_relies_on(dataset_dir, request):
    manifest = read_manifest(request.getfixturevalue(dataset_dir))
    contract = {k: v for k, v in manifest.items() if k in fields_of(ManifestFields)}
    assert mismatches(contract, ManifestFields) == []


def test_multiclass_labels_are_class_indexes(digits_dir):
    manifest = read_manifest(digits_dir)
    assert manifest["problem_type"] == "multiclass"
    assert manifest["classes"] == [str(d) for d in range(10)]
    assert set(_encoded(digits_dir / "train" / "train.csv")[0]) == set(range(10))


def test_regression_labels_are_floats_and_classes_empty(diabetes_dir):
    manifest = read_manifest(diabetes_dir)
    assert manifest["problem_type"] == "regression"
    assert manifest["classes"] == [] and manifest["positive_class"] is None
    assert manifest["class_counts"] == {}
    labels = _encoded(diabetes_dir / "train" / "train.csv")[0]
    assert labels.dtype == np.float64 and labels.nunique() > 50


def test_same_seed_gives_byte_identical_files(tmp_path):
    dataset = load_dataset("bank", rows=500, seed=1)
    prepare_dataset(dataset, tmp_path / "a", seed=1)
    prepare_dataset(dataset, tmp_path / "b", seed=1)
    for name in LAYOUT:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_rows_with_a_missing_target_are_dropped_and_counted(tmp_path):
    frame = _frame()
    frame.loc[:4, "label"] = None
    manifest = prepare_dataset(Dataset("pets", "test", frame), tmp_path / "out", target="label")
    assert manifest["dropped_rows"] == {"missing_target": 5}
    assert sum(manifest["rows"].values()) == 35


def test_a_missing_number_is_an_empty_csv_field(tmp_path):
    frame = _frame()
    frame["size"] = np.nan
    prepare_dataset(Dataset("pets", "test", frame), tmp_path / "out", target="label")
    first = (tmp_path / "out" / "train" / "train.csv").read_text().splitlines()[0]
    assert first.split(",")[1] == ""


def test_an_unknown_target_lists_the_available_columns(tmp_path):
    with pytest.raises(
        DatasetError, match="unknown target column 'price'; available columns: size, color, label"
    ):
        prepare_dataset(Dataset("pets", "test", _frame()), tmp_path, target="price")


def test_a_csv_without_target_asks_for_one(tmp_path):
    with pytest.raises(DatasetError, match="choose the column to predict with --target"):
        prepare_dataset(Dataset("pets", "test", _frame()), tmp_path)


def test_empty_input_is_rejected(tmp_path):
    with pytest.raises(DatasetError, match="input is empty"):
        prepare_dataset(Dataset("pets", "test", _frame().iloc[:0]), tmp_path, target="label")


def test_more_than_half_missing_target_is_rejected(tmp_path):
    frame = _frame()
    frame.loc[:25, "label"] = None
    with pytest.raises(DatasetError, match=r"missing in 26 of 40 rows \(more than 50%\)"):
        prepare_dataset(Dataset("pets", "test", frame), tmp_path, target="label")


def test_a_single_class_is_rejected(tmp_path):
    frame = _frame().assign(label="cat")
    with pytest.raises(DatasetError, match="single class"):
        prepare_dataset(Dataset("pets", "test", frame), tmp_path, target="label")


def test_regression_on_a_text_target_is_rejected(tmp_path):
    with pytest.raises(DatasetError, match="not numeric"):
        prepare_dataset(
            Dataset("pets", "test", _frame()), tmp_path, target="label", problem_type="regression"
        )


def test_a_target_without_features_is_rejected(tmp_path):
    with pytest.raises(DatasetError, match="no feature columns"):
        prepare_dataset(Dataset("pets", "test", _frame()[["label"]]), tmp_path, target="label")


def test_a_directory_with_other_files_is_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match=r"holds files that are not a prepared dataset \(notes.txt\)"):
        prepare_dataset(Dataset("pets", "test", _frame()), tmp_path, target="label")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_preparing_again_replaces_the_previous_layout(tmp_path):
    prepare_dataset(Dataset("pets", "test", _frame(rows=40)), tmp_path, target="label")
    (tmp_path / "train" / "stale.csv").write_text("1,2,3\n")
    manifest = prepare_dataset(Dataset("pets", "test", _frame(rows=60)), tmp_path, target="label")
    assert sum(manifest["rows"].values()) == 60
    assert _files(tmp_path) == LAYOUT


def test_a_csv_file_goes_all_the_way(tmp_path):
    path = tmp_path / "pets.csv"
    _frame().to_csv(path, sep=";", index=False)
    prepared = prepare(str(path), tmp_path / "out", target="label")
    assert prepared.manifest["source"] == str(path.resolve())
    assert prepared.manifest["name"] == "pets"
    assert prepared.manifest["classes"] == ["cat", "dog"]
    assert prepared.uri is None
