"""Reading a channel: the arrays XGBoost gets, and that nothing else keeps the data alive."""

from __future__ import annotations

import numpy as np
import pytest

from training.channels import read_channel
from training.errors import ChannelError


def write(path, rows: np.ndarray, parts: int = 1) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for index, chunk in enumerate(np.array_split(rows, parts)):
        np.savetxt(path / f"part-{index}.csv", chunk, delimiter=",", fmt="%.6g")


@pytest.mark.parametrize("parts", [1, 3])
def test_features_and_labels_are_arrays_of_their_own(tmp_path, parts):
    # Given a channel of label-first rows, in one file or several
    rows = np.column_stack([np.arange(6) % 2, np.arange(12).reshape(6, 2)]).astype(np.float32)
    write(tmp_path / "train", rows, parts)

    # When it is read
    features, labels = read_channel(tmp_path / "train", "train")

    # Then the values are the file's, and each array owns its memory: no view keeps a larger copy
    # (the parsed frames, or a label+features block) alive while XGBoost holds its own.
    np.testing.assert_array_equal(features, rows[:, 1:])
    np.testing.assert_array_equal(labels, rows[:, 0])
    assert features.base is None and labels.base is None
    assert features.flags.c_contiguous and features.dtype == np.float32


def test_a_row_without_a_label_is_named(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "part.csv").write_text("1,2,3\n,4,5\n")
    with pytest.raises(ChannelError, match="1 rows have no label \\(first at row 2\\)"):
        read_channel(tmp_path / "train", "train")
