"""Endpoint responses → predictions: one line per row, values as CSV cells or JSON lists (pure)."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class ResponseError(ValueError):
    """A response this evaluation cannot read."""


@dataclass(frozen=True)
class Predictions:
    """One variant's predictions: class indices (+ positive-class scores for binary) or values."""

    labels: list[int] | None = None
    scores: list[float] | None = None
    values: list[float] | None = None
    # Whether every binary score is a probability (else some are the predicted label itself).
    probabilities: bool = True


Cell = str | float | list[Any]


def _cells(line: str) -> list[Cell]:
    line = line.strip()
    if line.startswith("["):
        try:
            parsed = json.loads(line)
        except json.JSONDecodeError:
            pass
        else:
            return [parsed] if isinstance(parsed, list) else [str(parsed)]
    out: list[Cell] = []
    for cell in next(csv.reader([line])):
        cell = cell.strip()
        if cell.startswith("["):
            try:
                out.append(list(json.loads(cell)))
                continue
            except json.JSONDecodeError:
                pass
        out.append(cell)
    return out


def _json_rows(body: Any) -> list[list[Cell]]:
    if isinstance(body, dict) and isinstance(body.get("predictions"), list):
        body = body["predictions"]
    if not isinstance(body, list):
        raise ResponseError("a JSON response must be a list or {predictions: [...]}")
    rows: list[list[Cell]] = []
    for item in body:
        if isinstance(item, dict):
            keys = ("predicted_label", "probability", "probabilities", "score")
            rows.append([item[k] for k in keys if k in item])
        else:
            rows.append([item])
    return rows


def split_rows(text: str, expected: int) -> list[list[Cell]]:
    """The response cut into one list of cells per request row."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return _check(_json_rows(json.loads(stripped)), expected)
    lines = [line for line in stripped.splitlines() if line.strip()]
    if len(lines) == 1 and expected > 1:
        # Older containers answer a batch on one line: a JSON list of rows, or one value per row.
        cells = _cells(lines[0])
        if len(cells) == 1 and isinstance(cells[0], list):
            return _check([v if isinstance(v, list) else [v] for v in cells[0]], expected)
        return _check([[c] for c in cells], expected)
    return _check([_cells(line) for line in lines], expected)


def _check(rows: list[list[Cell]], expected: int) -> list[list[Cell]]:
    if len(rows) != expected:
        raise ResponseError(f"expected {expected} predictions, got {len(rows)}")
    return rows


def _numbers(row: Sequence[Cell]) -> list[float]:
    flat: list[float] = []
    for cell in row:
        for value in cell if isinstance(cell, list) else [cell]:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ResponseError(f"not a number: {value!r}") from None
            if math.isnan(number):
                raise ResponseError("the model returned NaN")
            flat.append(number)
    return flat


def class_index(label: Any, classes: Sequence[str]) -> int:
    """The index of a predicted label among the manifest's classes (text, or numerically equal)."""
    text = str(label).strip()
    if text in classes:
        return classes.index(text)
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    for i, name in enumerate(classes):
        try:
            if float(name) == number:
                return i
        except ValueError:
            continue
        if name.lower() == text.lower():
            return i
    raise ResponseError(f"predicted label {text!r} is not one of the classes {list(classes)}")


def from_scores(rows: list[list[Cell]], problem_type: str, k: int) -> Predictions:
    """Built-in XGBoost output: P(class 1), a probability per class, a class index or a value."""
    numbers = [_numbers(r) for r in rows]
    if any(not n for n in numbers):
        raise ResponseError("an empty prediction")
    if problem_type == "regression":
        return Predictions(values=[n[0] for n in numbers])
    if problem_type == "binary":
        scores = [n[1] if len(n) == 2 else n[0] for n in numbers]
        return Predictions(labels=[int(s >= 0.5) for s in scores], scores=scores)
    labels = [max(range(len(n)), key=n.__getitem__) if len(n) > 1 else round(n[0]) for n in numbers]
    if any(not 0 <= label < k for label in labels):
        raise ResponseError(f"a predicted class index is outside 0..{k - 1}")
    return Predictions(labels=labels)


def from_labels(rows: list[list[Cell]], problem_type: str, classes: Sequence[str]) -> Predictions:
    """Autopilot output: 'predicted_label[,probability|,probabilities]' per row, or a value (regression)."""
    if problem_type == "regression":
        return Predictions(values=[_numbers(r[:1])[0] for r in rows])
    labels = [class_index(r[0], classes) for r in rows]
    if problem_type != "binary":
        return Predictions(labels=labels)
    scores: list[float] = []
    every = True
    for row, label in zip(rows, labels, strict=True):
        if len(row) < 2 or isinstance(row[1], list):
            scores.append(float(label))  # no probability returned: the label itself is the score
            every = False
            continue
        probability = _numbers(row[1:2])[0]  # the probability of the predicted label
        scores.append(probability if label == 1 else 1.0 - probability)
    return Predictions(labels=labels, scores=scores, probabilities=every)
