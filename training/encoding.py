"""Feature encoding for built-in XGBoost: numeric columns as is, categorical columns one-hot.

The encoding is fitted on the training rows and recorded in the manifest, so any future row
is encoded the same way. A missing numeric value stays missing (an empty CSV field, which
XGBoost's CSV reader and ours both read as "missing"); a missing or unseen category encodes
as all zeros in its one-hot block.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from training.errors import DatasetError

MAX_CATEGORIES = 100
SEPARATOR = "="  # one-hot column names are "<column>=<category>", e.g. "job=admin."


def _is_numeric(column: pd.Series) -> bool:
    return bool(ptypes.is_numeric_dtype(column))


def _as_text(column: pd.Series) -> pd.Series:
    """Categories compared as text, so 1 and "1" are one category; missing stays missing."""
    return column.astype(object).where(column.notna(), None).map(lambda v: v if v is None else str(v))


def _numbers(column: pd.Series) -> np.ndarray:
    """Integers stay integers (shorter CSV); anything else becomes float, NaN where missing."""
    if ptypes.is_bool_dtype(column) or ptypes.is_integer_dtype(column):
        integers: np.ndarray = column.to_numpy(dtype=np.int64)
        return integers
    floats: np.ndarray = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    return floats


@dataclass(frozen=True)
class FeatureEncoding:
    """Which raw columns are numeric, and the categories (sorted) of the others."""

    raw_columns: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]]

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> "FeatureEncoding":
        """Learn the encoding from the training rows' raw feature columns."""
        categories: dict[str, tuple[str, ...]] = {}
        for name in frame.columns:
            if _is_numeric(frame[name]):
                continue
            levels = tuple(sorted(_as_text(frame[name]).dropna().unique()))
            if len(levels) > MAX_CATEGORIES:
                raise DatasetError(
                    f"column {name!r} has {len(levels)} distinct text values; a categorical feature may have "
                    f"at most {MAX_CATEGORIES} (one-hot encoded) - drop the column or make it numeric"
                )
            categories[str(name)] = levels
        encoding = cls(tuple(str(c) for c in frame.columns), categories)
        duplicates = sorted({n for n in encoding.feature_names if encoding.feature_names.count(n) > 1})
        if duplicates:
            raise DatasetError(f"encoded feature names collide: {duplicates} - rename those columns")
        return encoding

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        """Raw columns passed through as numbers."""
        return tuple(c for c in self.raw_columns if c not in self.categories)

    @property
    def feature_names(self) -> list[str]:
        """Encoded column names, in the order of the CSV columns after the label."""
        names: list[str] = []
        for column in self.raw_columns:
            if column in self.categories:
                names.extend(f"{column}{SEPARATOR}{level}" for level in self.categories[column])
            else:
                names.append(column)
        return names

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Encode raw rows: numeric columns (float NaN when missing) and int8 one-hot columns."""
        missing = [c for c in self.raw_columns if c not in frame.columns]
        if missing:
            raise DatasetError(f"rows to encode lack the columns {missing}")
        blocks: list[pd.DataFrame] = []
        for column in self.raw_columns:
            values = frame[column]
            if column not in self.categories:
                blocks.append(pd.DataFrame({column: _numbers(values)}))
                continue
            levels = self.categories[column]
            codes = pd.Categorical(_as_text(values), categories=list(levels)).codes
            onehot = (codes[:, None] == np.arange(len(levels))[None, :]).astype(np.int8)
            blocks.append(pd.DataFrame(onehot, columns=[f"{column}{SEPARATOR}{level}" for level in levels]))
        encoded = pd.concat(blocks, axis=1) if blocks else pd.DataFrame(index=range(len(frame)))
        return encoded.set_axis(range(len(frame)), axis=0)

    def to_manifest(self) -> dict[str, Any]:
        """The encoding as manifest keys."""
        return {
            "numeric_columns": list(self.numeric_columns),
            "categories": {column: list(levels) for column, levels in self.categories.items()},
        }

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> "FeatureEncoding":
        """Rebuild the encoding a manifest recorded."""
        categories = {str(c): tuple(str(v) for v in levels) for c, levels in manifest["categories"].items()}
        return cls(tuple(manifest["raw_columns"]), categories)
