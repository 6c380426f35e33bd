"""Problem type inference and label encoding (classes as 0..K-1, regression as floats)."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from training.errors import DatasetError
from training.tuning_ranges import PROBLEM_TYPES

MAX_CLASSES = 100
# An integer target with at most this many distinct values is taken for classes, not a quantity.
MAX_INFERRED_CLASSES = 20
MIN_ROWS_PER_CLASS = 3  # one row for each of train, validation and test


@dataclass(frozen=True)
class Labels:
    """A target column encoded for XGBoost: `values[i]` is the label of row i."""

    problem_type: str
    classes: tuple[str, ...]
    values: np.ndarray


def _is_numeric(target: pd.Series) -> bool:
    return bool(ptypes.is_numeric_dtype(target) and not ptypes.is_bool_dtype(target))


def _class_name(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _infer(target: pd.Series) -> str:
    distinct = target.nunique()
    if distinct == 2:
        return "binary"
    if not _is_numeric(target):
        return "multiclass"
    values = target.to_numpy(dtype=float)
    if distinct <= MAX_INFERRED_CLASSES and bool(np.all(np.mod(values, 1) == 0)):
        return "multiclass"
    return "regression"


def _examples(values: pd.Series) -> str:
    return ", ".join(repr(_class_name(v)) for v in values.drop_duplicates().head(3))


def encode_labels(target: pd.Series, problem_type: str | None = None) -> Labels:
    """Choose or check the problem type of a target without missing values, and encode it."""
    name = target.name
    if problem_type is not None and problem_type not in PROBLEM_TYPES:
        raise DatasetError(f"unknown problem type {problem_type!r}: use one of {', '.join(PROBLEM_TYPES)}")
    if target.nunique() < 2:
        kind = "a constant value" if problem_type == "regression" else "a single class"
        raise DatasetError(
            f"target {name!r} has {kind} ({_examples(target)}); it needs at least two distinct values "
            "- check the target column or the input rows"
        )
    resolved = problem_type or _infer(target)
    if resolved == "regression":
        if not _is_numeric(target):
            raise DatasetError(
                f"target {name!r} is not numeric (values like {_examples(target)}); regression needs "
                "a numeric target - use --problem-type binary or multiclass, or another target column"
            )
        return Labels("regression", (), target.to_numpy(dtype=np.float64))
    return _encode_classes(target, resolved)


def _encode_classes(target: pd.Series, problem_type: str) -> Labels:
    name = target.name
    # Numeric classes sort by value (2 before 10); others by their text, so "no" < "yes".
    keys = target.astype(float) if _is_numeric(target) else target.map(_class_name)
    order = pd.Series(keys.unique()).sort_values(kind="stable")
    classes = tuple(_class_name(value) for value in order)
    if problem_type == "binary" and len(classes) != 2:
        raise DatasetError(
            f"binary needs exactly 2 classes; target {name!r} has {len(classes)} "
            f"({', '.join(classes[:10])}) - use --problem-type multiclass"
        )
    if problem_type == "multiclass" and len(classes) == 2:
        raise DatasetError(
            f"target {name!r} has 2 classes ({', '.join(classes)}) - use --problem-type binary"
        )
    if len(classes) > MAX_CLASSES:
        raise DatasetError(
            f"target {name!r} has {len(classes)} distinct values, more than the {MAX_CLASSES} classes "
            "allowed - use --problem-type regression if it is a quantity"
        )
    codes = pd.Categorical(keys, categories=order.to_numpy()).codes.astype(np.int64)
    counts = np.bincount(codes, minlength=len(classes))
    rare = [f"{classes[i]!r} ({counts[i]})" for i in np.flatnonzero(counts < MIN_ROWS_PER_CLASS)]
    if rare:
        raise DatasetError(
            f"target {name!r}: each class needs at least {MIN_ROWS_PER_CLASS} rows for a "
            f"train/validation/test split; too few rows for {', '.join(rare)} - drop or merge those classes"
        )
    return Labels(problem_type, classes, codes)
