"""One-hot encoding: deterministic names, unseen and missing values, reproducible from the manifest."""

import numpy as np
import pandas as pd
import pytest

from training.encoding import FeatureEncoding
from training.errors import DatasetError


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "age": [30, 40, 50],
            "job": ["services", "admin.", "services"],
            "rate": [1.5, np.nan, 2.5],
            "flag": [True, False, True],
        }
    )


def test_feature_names_keep_column_order_and_sort_categories(frame):
    encoding = FeatureEncoding.fit(frame)
    assert encoding.feature_names == ["age", "job=admin.", "job=services", "rate", "flag"]
    assert encoding.categories == {"job": ("admin.", "services")}
    assert encoding.numeric_columns == ("age", "rate", "flag")


def test_the_same_input_in_another_row_order_gives_the_same_names(frame):
    shuffled = frame.iloc[::-1].reset_index(drop=True)
    assert FeatureEncoding.fit(shuffled).feature_names == FeatureEncoding.fit(frame).feature_names


def test_transform_one_hot_encodes_and_keeps_missing_numbers_missing(frame):
    encoded = FeatureEncoding.fit(frame).transform(frame)
    assert encoded["job=services"].tolist() == [1, 0, 1]
    assert encoded["job=admin."].dtype == np.int8
    assert np.isnan(encoded["rate"][1])
    assert encoded["flag"].tolist() == [1, 0, 1]


def test_unseen_and_missing_categories_encode_as_all_zeros(frame):
    encoding = FeatureEncoding.fit(frame)
    later = pd.DataFrame({"age": [1, 2], "job": ["pilot", None], "rate": [0.0, 0.0], "flag": [False, False]})
    encoded = encoding.transform(later)
    assert encoded[["job=admin.", "job=services"]].to_numpy().sum() == 0


def test_a_manifest_round_trip_encodes_identically(frame):
    encoding = FeatureEncoding.fit(frame)
    manifest = {"raw_columns": list(encoding.raw_columns), **encoding.to_manifest()}
    again = FeatureEncoding.from_manifest(manifest)
    pd.testing.assert_frame_equal(again.transform(frame), encoding.transform(frame))


def test_a_column_with_too_many_categories_is_rejected():
    ids = pd.DataFrame({"id": [f"u{i}" for i in range(500)], "x": range(500)})
    with pytest.raises(DatasetError, match=r"column 'id' has 500 distinct text values.*drop the column"):
        FeatureEncoding.fit(ids)
