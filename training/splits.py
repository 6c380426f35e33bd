"""Seeded 70/15/15 train/validation/test splits, stratified on the class for classification."""

from dataclasses import dataclass

import numpy as np

FRACTIONS = {"train": 0.70, "validation": 0.15, "test": 0.15}
MIN_ROWS = 10


@dataclass(frozen=True)
class Split:
    """Row positions of each part, each in a seeded random order."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def _cut(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut already shuffled positions into train/validation/test by FRACTIONS."""
    n = len(positions)
    n_validation = max(1, round(n * FRACTIONS["validation"]))
    n_test = max(1, round(n * FRACTIONS["test"]))
    n_train = n - n_validation - n_test
    return (
        positions[:n_train],
        positions[n_train : n_train + n_validation],
        positions[n_train + n_validation :],
    )


def split_rows(n_rows: int, *, seed: int, classes: np.ndarray | None = None) -> Split:
    """Split `n_rows` rows; with `classes` (codes, each at least 3 rows) each class is split 70/15/15."""
    if n_rows < MIN_ROWS:
        raise ValueError(f"need at least {MIN_ROWS} rows to split, got {n_rows}")
    rng = np.random.default_rng(seed)
    if classes is None:
        train, validation, test = _cut(rng.permutation(n_rows))
    else:
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for code in np.unique(classes):
            members = np.flatnonzero(classes == code)
            parts.append(_cut(rng.permutation(members)))
        # Interleave the classes so no file is sorted by label.
        train, validation, test = (rng.permutation(np.concatenate([p[i] for p in parts])) for i in range(3))
    return Split(train, validation, test)
