"""The test set, twice: the test channel's rows for XGBoost, the test_raw channel's for Autopilot.

Both formats are the dataset layout's (contracts.dataset_layout): numeric CSV without a header, label
first; raw CSV with a header naming the target column. The validation set (binary problems, to choose
each finalist's decision threshold) likewise: the validation channel, and the autopilot channel's last rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contracts.dataset_layout import CHANNELS
from handlers.common.errors import EvaluationFailed
from handlers.common.s3io import data_files, read_bytes
from handlers.common.s3uri import parse_s3_uri
from handlers.evaluate.responses import ResponseError, class_index

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class TestSet:
    """Labels (as in the numeric file: class index or target value) and each variant's request rows.

    Also the shape of the validation set.
    """

    labels: list[float]
    tuning_rows: list[str]  # CSV features, label column dropped
    autopilot_rows: list[str]  # raw CSV features, header and target column dropped

    __test__ = False  # not a pytest test class


def parse_numeric(text: str, channel: str = CHANNELS["test"]) -> tuple[list[float], list[str]]:
    """Labels and feature lines of headerless label-first CSV (features kept verbatim)."""
    labels: list[float] = []
    rows: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label, sep, features = line.partition(",")
        try:
            labels.append(float(label))
        except ValueError:
            raise EvaluationFailed(
                f"{channel}: line {number} does not start with a numeric label: {label!r}"
            ) from None
        if not sep or not features:
            raise EvaluationFailed(f"{channel}: line {number} has no feature columns")
        rows.append(features.strip())
    return labels, rows


def parse_raw_records(text: str, target: str, channel: str) -> list[tuple[str, str]]:
    """(row without the header and the target column, re-serialized; its target value) per CSV record."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return []
    if target not in header:
        raise EvaluationFailed(f"{channel}: the header has no target column {target!r}")
    drop = header.index(target)
    records: list[tuple[str, str]] = []
    for record in reader:
        if not record or all(not cell.strip() for cell in record):
            continue
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(record[:drop] + record[drop + 1 :])
        records.append((out.getvalue(), record[drop] if drop < len(record) else ""))
    return records


def parse_raw(text: str, target: str) -> list[str]:
    """Rows of CSV with a header, re-serialized without the header and the target column."""
    return [row for row, _ in parse_raw_records(text, target, CHANNELS["test_raw"])]


def _read_channel(s3: S3Client, uri: str) -> list[str]:
    files = data_files(s3, parse_s3_uri(uri))
    if not files:
        raise EvaluationFailed(f"{uri} holds no data")
    return [read_bytes(s3, f).decode("utf-8") for f in files]


def load_test_set(s3: S3Client, test_uri: str, test_raw_uri: str, target: str) -> TestSet:
    """Read both test channels (every file, in key order) and check they hold the same rows."""
    labels: list[float] = []
    tuning_rows: list[str] = []
    for text in _read_channel(s3, test_uri):
        file_labels, file_rows = parse_numeric(text)
        labels.extend(file_labels)
        tuning_rows.extend(file_rows)
    autopilot_rows = [row for text in _read_channel(s3, test_raw_uri) for row in parse_raw(text, target)]
    if len(autopilot_rows) != len(tuning_rows):
        raise EvaluationFailed(
            f"{CHANNELS['test']} has {len(tuning_rows)} rows but {CHANNELS['test_raw']} has "
            f"{len(autopilot_rows)}; "
            "prepare the dataset again with mlstack data prepare"
        )
    if not labels:
        raise EvaluationFailed(f"{test_uri} holds no rows")
    return TestSet(labels, tuning_rows, autopilot_rows)


def load_validation_set(
    s3: S3Client, validation_uri: str, autopilot_uri: str, target: str, classes: Sequence[str]
) -> TestSet:
    """The validation channel's rows, and the same rows raw: the autopilot channel's last ones.

    Each raw row's target must name the class of its numeric twin, or the layout is not the one
    contracts.dataset_layout describes.
    """
    channel, raw_channel = CHANNELS["validation"], CHANNELS["autopilot"]
    labels: list[float] = []
    tuning_rows: list[str] = []
    for text in _read_channel(s3, validation_uri):
        file_labels, file_rows = parse_numeric(text, channel)
        labels.extend(file_labels)
        tuning_rows.extend(file_rows)
    if not labels:
        raise EvaluationFailed(f"{validation_uri} holds no rows")
    records = [
        r for text in _read_channel(s3, autopilot_uri) for r in parse_raw_records(text, target, raw_channel)
    ]
    if len(records) < len(labels):
        raise EvaluationFailed(
            f"{raw_channel} has {len(records)} rows, fewer than the {len(labels)} of {channel}; "
            "prepare the dataset again with mlstack data prepare"
        )
    tail = records[len(records) - len(labels) :]
    for number, (label, (_, value)) in enumerate(zip(labels, tail, strict=True), start=1):
        try:
            same = class_index(value, classes) == int(label)
        except ResponseError:
            same = False
        if not same:
            raise EvaluationFailed(
                f"{raw_channel} does not end with the rows of {channel}: validation row {number} is "
                f"class {int(label)}, its raw twin says {value!r}; prepare the dataset again with "
                "mlstack data prepare"
            )
    return TestSet(labels, tuning_rows, [row for row, _ in tail])
