"""70/15/15 splits: sizes, stratification, no overlap, determinism."""

import numpy as np
import pytest

from training.splits import split_rows


@pytest.fixture
def classes():
    # 900 zeros, 100 ones: an imbalanced binary label
    return np.repeat([0, 1], [900, 100])


def test_sizes_are_70_15_15(classes):
    split = split_rows(len(classes), seed=0, classes=classes)
    assert (len(split.train), len(split.validation), len(split.test)) == (700, 150, 150)


def test_every_row_lands_in_exactly_one_part(classes):
    split = split_rows(len(classes), seed=0, classes=classes)
    everything = np.concatenate([split.train, split.validation, split.test])
    assert sorted(everything.tolist()) == list(range(len(classes)))


def test_each_part_keeps_the_class_balance(classes):
    split = split_rows(len(classes), seed=0, classes=classes)
    for part in (split.train, split.validation, split.test):
        assert classes[part].mean() == pytest.approx(0.10, abs=0.005)


def test_same_seed_same_split_other_seed_other_split(classes):
    first, again, other = (split_rows(len(classes), seed=s, classes=classes) for s in (5, 5, 6))
    assert np.array_equal(first.test, again.test) and np.array_equal(first.train, again.train)
    assert not np.array_equal(first.test, other.test)


def test_parts_are_not_sorted_by_label(classes):
    split = split_rows(len(classes), seed=0, classes=classes)
    assert 0 < classes[split.train][:100].sum() < 100


def test_a_class_with_three_rows_reaches_every_part():
    classes = np.array([0] * 50 + [1] * 3)
    split = split_rows(len(classes), seed=0, classes=classes)
    assert all(1 in classes[part] for part in (split.train, split.validation, split.test))


def test_regression_is_a_plain_seeded_shuffle():
    split = split_rows(100, seed=1)
    assert (len(split.train), len(split.validation), len(split.test)) == (70, 15, 15)
    assert not np.array_equal(split.train, np.sort(split.train))


def test_too_few_rows_is_an_error():
    with pytest.raises(ValueError, match="at least 10 rows"):
        split_rows(4, seed=0)
