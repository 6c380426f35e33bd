"""Explore a raw table before encoding: per-column types, missing and unique values, statistics, warnings.

Everything here is computed on the raw columns, the target's rows without a value included (they are
counted, then dropped by preparation). The single-feature models behind the leakage warning are fitted
on a seeded sample of at most LEAKAGE_MAX_ROWS rows with a target value, so the result is the same for
the same table and seed, and a table of a few hundred thousand rows takes seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from contracts.dataset_layout import (
    EXPLORATION_FORMAT_VERSION,
    EXPLORATION_WARNINGS,
    Exploration,
    ExplorationCategorical,
    ExplorationColumn,
    ExplorationCount,
    ExplorationLeakageCheck,
    ExplorationNumeric,
    ExplorationSingleFeature,
    ExplorationTarget,
    ExplorationWarning,
)
from training.labels import Labels

TOP_VALUES = 10
HISTOGRAM_BINS = 20
QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
MOSTLY_MISSING = 0.5  # share of rows
# A text or integer column with a distinct value in this share of its rows names rows, not a property.
ID_LIKE_SHARE = 0.95
ID_LIKE_MIN_VALUES = 20  # fewer rows than this prove nothing
IMBALANCE_RATIO = 10.0  # largest class / smallest class
# Leakage: a one-feature model (the mean target per quantile bin or category, fitted on 70% of the
# sample) scored on the other 30%; or, in classification, a category that names its rows' class.
LEAKAGE_MAX_ROWS = 50_000
LEAKAGE_HOLDOUT = 0.3
LEAKAGE_BINS = 32
LEAKAGE_AUC = 0.99
LEAKAGE_R2 = 0.95
PURITY_THRESHOLD = 0.99
PURITY_MIN_ROWS = 5  # categories with fewer rows are left out of the purity (too few to tell)
SIGNIFICANT_DIGITS = 6


def _round(value: float | None) -> float | None:
    """Six significant digits: the JSON stays readable, and no finer than the statistics mean anything."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _share(part: int, whole: int) -> float:
    return float(_round(part / whole) or 0.0) if whole else 0.0


def column_type(column: pd.Series) -> str:
    """numeric, categorical or boolean: how preparation will treat the column (encoding.py's rule)."""
    if ptypes.is_bool_dtype(column):
        return "boolean"
    if ptypes.is_numeric_dtype(column):
        return "numeric"
    return "categorical"


def _as_text(column: pd.Series) -> pd.Series:
    """Non-missing values as text, so 1 and "1" are one category, as the encoding compares them."""
    return column.dropna().astype(str)


def _counts(text: pd.Series, limit: int | None) -> tuple[list[ExplorationCount], int]:
    """The most frequent values (ties by value, so the order is stable), and the rows of the others."""
    counts = text.value_counts(sort=False)
    order = sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0])))
    total = len(text)
    shown = order if limit is None else order[:limit]
    top = [ExplorationCount(value=str(v), count=int(n), share=_share(int(n), total)) for v, n in shown]
    return top, total - sum(c["count"] for c in top)


def _histogram(finite: np.ndarray) -> dict[str, list[Any]]:
    if finite.size == 0:
        return {"edges": [], "counts": []}
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        return {"edges": [low, high], "counts": [int(finite.size)]}
    if bool(np.all(np.mod(finite, 1) == 0)) and high - low < HISTOGRAM_BINS:
        edges = np.arange(low - 0.5, high + 1.0)  # one bar per integer value
    else:
        edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    counts, _ = np.histogram(finite, bins=edges)
    return {"edges": [_round(float(e)) for e in edges], "counts": [int(c) for c in counts]}


def _numeric(column: pd.Series) -> ExplorationNumeric:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    values = values[~np.isnan(values)]
    finite = values[np.isfinite(values)]
    empty = finite.size == 0
    quantiles = np.quantile(finite, list(QUANTILES.values())) if not empty else [math.nan] * len(QUANTILES)
    return ExplorationNumeric(
        min=None if empty else _round(float(finite.min())),
        max=None if empty else _round(float(finite.max())),
        mean=None if empty else _round(float(finite.mean())),
        std=None if finite.size < 2 else _round(float(finite.std(ddof=1))),
        quantiles={name: _round(float(q)) for name, q in zip(QUANTILES, quantiles, strict=True)},
        zeros=int(np.count_nonzero(finite == 0)),
        infinite=int(values.size - finite.size),
        histogram=_histogram(finite),  # type: ignore[typeddict-item]
    )


def _column(frame: pd.DataFrame, name: str, target: str) -> ExplorationColumn:
    column = frame[name]
    kind = column_type(column)
    text = _as_text(column)
    present = len(text)
    missing = len(column) - present
    unique = int(column.nunique()) if kind == "numeric" else int(text.nunique())
    categorical = None
    if kind != "numeric":
        top, other = _counts(text, TOP_VALUES)
        categorical = ExplorationCategorical(top=top, other_count=other)
    return ExplorationColumn(
        name=name,
        role="target" if name == target else "feature",
        type=kind,
        dtype=str(column.dtype),
        missing=missing,
        missing_share=_share(missing, len(column)),
        unique=unique,
        unique_share=_share(unique, present),
        numeric=_numeric(column) if kind == "numeric" else None,
        categorical=categorical,
        single_feature=None,
        target_purity=None,
    )


# --- single-feature models -------------------------------------------------------------------------


def _bin_codes(column: pd.Series, train: np.ndarray) -> tuple[np.ndarray, int]:
    """Each row's bin: quantile bins of the training rows (numeric) or its category; the last is 'missing'."""
    if column_type(column) == "numeric":
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
        fitted = values[train]
        fitted = fitted[np.isfinite(fitted)]
        if fitted.size == 0:
            return np.zeros(len(values), dtype=np.int64), 1
        edges = np.unique(np.quantile(fitted, np.linspace(0, 1, LEAKAGE_BINS + 1))[1:-1])
        codes = np.searchsorted(edges, values, side="right").astype(np.int64)
        bins = len(edges) + 1
        codes[np.isnan(values)] = bins
        return codes, bins + 1
    codes, levels = pd.factorize(column.astype(object).where(column.notna(), None).map(_text_or_none))
    codes = codes.astype(np.int64)
    codes[codes < 0] = len(levels)
    return codes, len(levels) + 1


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _auc(positive: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties at half; None without both kinds of row."""
    positives = int(positive.sum())
    negatives = len(positive) - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = pd.Series(scores).rank().to_numpy()  # ties share their average rank
    return float((ranks[positive].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _single_feature_score(
    codes: np.ndarray, bins: int, y: np.ndarray, train: np.ndarray, k: int
) -> float | None:
    """Holdout AUC (macro one-vs-rest over classes) or R² of predicting each bin's smoothed mean target."""
    test = ~train
    if k == 0:
        prior = float(y[train].mean())
        sums = np.bincount(codes[train], weights=y[train], minlength=bins)
        rows = np.bincount(codes[train], minlength=bins)
        predicted = ((sums + prior) / (rows + 1))[codes[test]]  # one pseudo-row at the prior
        residual = float(np.sum((y[test] - predicted) ** 2))
        total = float(np.sum((y[test] - y[test].mean()) ** 2))
        return 1.0 - residual / total if total > 0 else None
    priors = np.bincount(y[train], minlength=k) / max(int(train.sum()), 1)
    table = np.bincount(codes[train] * k + y[train], minlength=bins * k).reshape(bins, k).astype(float)
    table = (table + priors) / (table.sum(axis=1, keepdims=True) + 1)
    probabilities = table[codes[test]]
    if k == 2:
        return _auc(y[test] == 1, probabilities[:, 1])
    scores = [_auc(y[test] == c, probabilities[:, c]) for c in range(k)]
    valid = [s for s in scores if s is not None]
    return float(np.mean(valid)) if valid else None


def _purity(column: pd.Series, y: np.ndarray, k: int) -> float | None:
    """Balanced accuracy of naming each row's class by the most common class of its category.

    1.0 when the category maps to the class one-to-one. Categories with fewer than PURITY_MIN_ROWS rows
    are left out (an identifier would be trivially pure); None when too few rows remain to tell.
    """
    present = column.notna().to_numpy()
    codes, levels = pd.factorize(column[present].astype(str))
    if len(levels) < 2:
        return None
    labels = y[present]
    table = np.bincount(codes * k + labels, minlength=len(levels) * k).reshape(len(levels), k)
    kept = table.sum(axis=1) >= PURITY_MIN_ROWS
    if table[kept].sum() < 0.5 * present.sum() or kept.sum() < 2:
        return None
    table = table[kept]
    named = np.argmax(table, axis=1)
    recalls = []
    for c in range(k):
        rows = int(table[:, c].sum())
        if rows:
            recalls.append(float(table[named == c, c].sum()) / rows)
    return float(np.mean(recalls)) if len(recalls) >= 2 else None


def _sample(rows: int, seed: int) -> np.ndarray:
    if rows <= LEAKAGE_MAX_ROWS:
        return np.arange(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, LEAKAGE_MAX_ROWS, replace=False))


# --- warnings ------------------------------------------------------------------------------------


def _warning(code: str, column: str | None, message: str, action: str) -> ExplorationWarning:
    assert code in EXPLORATION_WARNINGS, code
    return ExplorationWarning(code=code, column=column, message=message, action=action)


def _column_warnings(
    entry: ExplorationColumn, rows: int, target: str, metric: str
) -> list[ExplorationWarning]:
    name = entry["name"]
    found: list[ExplorationWarning] = []
    if entry["role"] == "target":
        return found
    present = rows - entry["missing"]
    if entry["missing_share"] > MOSTLY_MISSING:
        found.append(
            _warning(
                "mostly_missing",
                name,
                f"{name!r} is missing in {entry['missing']} of {rows} rows ({entry['missing_share']:.0%}).",
                "Drop it, or fill it in where the values can be recovered; if being missing means "
                "something, keep that as a yes/no column of its own.",
            )
        )
    if entry["unique"] <= 1:
        only = "has no value in any row" if present == 0 else "has the same value in every row that has one"
        found.append(
            _warning(
                "constant",
                name,
                f"{name!r} {only}.",
                "Drop it: a column that never changes tells the model nothing.",
            )
        )
    elif _is_id_like(entry, present):
        found.append(
            _warning(
                "id_like",
                name,
                f"{name!r} has {entry['unique']} distinct values in {present} rows: "
                "it looks like an identifier.",
                "Drop it: an identifier names rows rather than describing them, so nothing a model learns "
                "from it carries over to new rows (and a text one with many values stops preparation).",
            )
        )
    score = single_feature_score(entry)
    predicts = score is not None and score >= (LEAKAGE_R2 if metric == "r2" else LEAKAGE_AUC)
    purity = entry["target_purity"]
    names_class = purity is not None and purity >= PURITY_THRESHOLD
    if predicts or names_class:
        if names_class:
            evidence = (
                f"each of its values goes with a single class of {target!r} "
                f"(balanced accuracy {purity:.3f} when a value names its most common class)"
            )
        else:
            shown = "R²" if metric == "r2" else "AUC"
            evidence = f"a model on {name!r} alone scores {shown} {score:.3f} on held-out rows"
        found.append(
            _warning(
                "suspected_leakage",
                name,
                f"{name!r} alone predicts {target!r} almost perfectly: {evidence}.",
                f"Check that {name!r} is known when a prediction is made and is not derived from "
                f"{target!r} or recorded after the outcome; if it is, drop it - the models would lean on "
                "it and fail on new data.",
            )
        )
    return found


def _is_id_like(entry: ExplorationColumn, present: int) -> bool:
    # Continuous measurements are naturally all distinct: only text and integer columns count.
    integer = entry["type"] == "numeric" and "int" in entry["dtype"]
    return (
        (entry["type"] == "categorical" or integer)
        and entry["unique"] >= ID_LIKE_MIN_VALUES
        and entry["unique_share"] >= ID_LIKE_SHARE
    )


def _target_warnings(summary: ExplorationTarget, rows: int) -> list[ExplorationWarning]:
    name = summary["name"]
    found: list[ExplorationWarning] = []
    if summary["missing"]:
        found.append(
            _warning(
                "target_missing",
                name,
                f"{summary['missing']} of {rows} rows have no value for the target {name!r}; "
                "preparation drops them.",
                "Fill the target in where it is known; rows left without one are neither trained nor "
                "tested on.",
            )
        )
    ratio = summary["imbalance_ratio"]
    if ratio is not None and ratio >= IMBALANCE_RATIO:
        classes = sorted(summary["classes"], key=lambda c: c["count"])
        rare, common = classes[0], classes[-1]
        if summary["problem_type"] == "binary":
            advice = (
                "Judge models by AUC, F1 or recall rather than accuracy (always answering "
                f"{common['value']!r} is {common['share']:.0%} accurate). Runs already weight the rare "
                "class (scale_pos_weight) and choose a decision threshold on the validation set; more "
                "rows of the rare class help most."
            )
        else:
            advice = (
                "Judge models by macro-F1 rather than accuracy; collect more rows of the rare classes, "
                "or merge them if the distinction does not matter."
            )
        found.append(
            _warning(
                "class_imbalance",
                name,
                f"class {rare['value']!r} has {rare['count']} rows ({rare['share']:.1%}), "
                f"{common['value']!r} has {common['count']}: {ratio:.0f} times as many.",
                advice,
            )
        )
    return found


# --- the whole table ------------------------------------------------------------------------------


def explore(
    frame: pd.DataFrame,
    target: str,
    labels: Labels,
    *,
    name: str,
    source: str,
    seed: int,
) -> Exploration:
    """Explore `frame` (every raw row); `labels` encodes the target of the rows that have one, in order."""
    columns = [str(c) for c in frame.columns]
    has_target = frame[target].notna().to_numpy()
    rows = len(frame)
    entries = [_column(frame, column, target) for column in columns]

    classification = labels.problem_type != "regression"
    k = len(labels.classes)
    metric = "auc" if classification else "r2"
    y = labels.values
    sample = _sample(len(y), seed)
    rng = np.random.default_rng(seed)
    train = rng.random(len(sample)) >= LEAKAGE_HOLDOUT
    labelled = frame.loc[has_target].reset_index(drop=True)
    for entry in entries:
        if entry["role"] == "target" or entry["unique"] <= 1:
            continue
        column = labelled[entry["name"]]
        codes, bins = _bin_codes(column.iloc[sample].reset_index(drop=True), train)
        score = _single_feature_score(codes, bins, y[sample], train, k if classification else 0)
        entry["single_feature"] = ExplorationSingleFeature(metric=metric, score=_round(score))
        if classification and entry["type"] != "numeric":
            entry["target_purity"] = _round(_purity(column, y, k))

    counts = np.bincount(y, minlength=k) if classification else np.array([], dtype=np.int64)
    summary = ExplorationTarget(
        name=target,
        problem_type=labels.problem_type,
        missing=int(rows - has_target.sum()),
        classes=[
            ExplorationCount(value=c, count=int(n), share=_share(int(n), len(y)))
            for c, n in zip(labels.classes, counts, strict=True)
        ],
        imbalance_ratio=_round(float(counts.max() / counts.min()))
        if classification and counts.min()
        else None,
    )
    warnings = _target_warnings(summary, rows)
    for entry in entries:
        warnings.extend(_column_warnings(entry, rows, target, metric))
    return Exploration(
        format_version=EXPLORATION_FORMAT_VERSION,
        name=name,
        source=source,
        rows=rows,
        target=summary,
        columns=entries,
        warnings=warnings,
        leakage_check=ExplorationLeakageCheck(
            metric=metric,
            threshold=LEAKAGE_R2 if metric == "r2" else LEAKAGE_AUC,
            purity_threshold=PURITY_THRESHOLD,
            rows=len(sample),
            max_rows=LEAKAGE_MAX_ROWS,
            sampled=len(sample) < len(y),
            holdout_share=LEAKAGE_HOLDOUT,
            model=(
                f"per feature: the mean target of each of up to {LEAKAGE_BINS} quantile bins (numeric) or "
                f"each category, missing values in a bin of their own, fitted on {1 - LEAKAGE_HOLDOUT:.0%} "
                f"of the rows and scored on the other {LEAKAGE_HOLDOUT:.0%}"
            ),
        ),
    )


def warnings_by_column(exploration: Exploration) -> dict[str | None, list[ExplorationWarning]]:
    """The warnings grouped by the column they are about (None: the table)."""
    grouped: dict[str | None, list[ExplorationWarning]] = {}
    for warning in exploration["warnings"]:
        grouped.setdefault(warning["column"], []).append(warning)
    return grouped


def single_feature_score(entry: ExplorationColumn) -> float | None:
    """The column's single-feature score, if it was scored."""
    single = entry["single_feature"]
    return None if single is None else single["score"]


def by_single_feature_score(entries: Sequence[ExplorationColumn]) -> list[tuple[str, float]]:
    """(feature, single-feature score), best predictor first; unscored columns left out."""
    scored = [(e["name"], single_feature_score(e)) for e in entries]
    return sorted(((n, s) for n, s in scored if s is not None), key=lambda item: -item[1])
