"""Prepare a dataset for the pipeline: split 70/15/15, encode, write the channel layout, optionally upload."""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import numpy as np
import pandas as pd

from contracts.dataset_layout import (
    CHANNELS,
    EXPLORATION,
    EXPLORATION_HTML,
    FILES,
    FORMAT_VERSION,
    MANIFEST,
    Exploration,
)
from training.datasets import Dataset, load_dataset
from training.encoding import FeatureEncoding
from training.errors import DatasetError
from training.exploration import explore
from training.exploration_html import render_exploration
from training.labels import Labels, encode_labels
from training.s3_upload import parse_s3_uri, upload_dataset
from training.splits import FRACTIONS, MIN_ROWS, Split, split_rows

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_SEED = 42
MAX_MISSING_TARGET = 0.5
_LAYOUT_ENTRIES = {*(p.rstrip("/") for p in CHANNELS.values()), MANIFEST, EXPLORATION, EXPLORATION_HTML}


@dataclass(frozen=True)
class Prepared:
    """Where a prepared dataset was written (and uploaded), with its manifest."""

    out_dir: Path
    manifest: dict[str, Any]
    uri: str | None = None
    exploration: Exploration | None = None


def _clear_out_dir(out_dir: Path) -> None:
    """Make `out_dir` ready for a fresh layout, refusing to touch a directory that is not ours."""
    if out_dir.exists() and not out_dir.is_dir():
        raise DatasetError(f"output path {out_dir} is a file; choose a directory")
    if out_dir.is_dir():
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in _LAYOUT_ENTRIES)
        if foreign:
            raise DatasetError(
                f"output directory {out_dir} holds files that are not a prepared dataset "
                f"({', '.join(foreign[:5])}); choose an empty or new directory"
            )
        for entry in _LAYOUT_ENTRIES:
            path = out_dir / entry
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    for channel in CHANNELS.values():
        (out_dir / channel).mkdir(parents=True, exist_ok=True)


def _write_encoded(path: Path, labels: np.ndarray, features: pd.DataFrame) -> None:
    """Headerless CSV, label first: what built-in XGBoost reads."""
    table = pd.concat([pd.DataFrame({"label": labels}), features], axis=1)
    # pandas' default float text is the shortest round-tripping repr, and fast (float_format is not).
    table.to_csv(path, header=False, index=False, na_rep="", lineterminator="\n")


def _write_raw(path: Path, rows: pd.DataFrame) -> None:
    """CSV with a header and the raw target: what Autopilot and the evaluation read."""
    rows.to_csv(path, index=False, lineterminator="\n")


def _check_input(dataset: Dataset, target: str | None) -> str:
    frame = dataset.frame
    columns = [str(c) for c in frame.columns]
    if len(frame) == 0 or not columns:
        raise DatasetError(f"input is empty: {dataset.source} has no rows")
    if target is None:
        raise DatasetError(
            f"choose the column to predict with --target; available columns: {', '.join(columns)}"
        )
    if target not in columns:
        raise DatasetError(f"unknown target column {target!r}; available columns: {', '.join(columns)}")
    if len(columns) < 2:
        raise DatasetError(f"{dataset.source} has no feature columns besides the target {target!r}")
    return target


def _class_counts(labels: Labels, split: Split) -> dict[str, dict[str, int]]:
    if labels.problem_type == "regression":
        return {}
    counts = {}
    for part in FRACTIONS:
        codes = labels.values[getattr(split, part)]
        bins = np.bincount(codes, minlength=len(labels.classes))
        counts[part] = {name: int(n) for name, n in zip(labels.classes, bins, strict=True)}
    return counts


def prepare_dataset(
    dataset: Dataset,
    out_dir: Path | str,
    *,
    target: str | None = None,
    problem_type: str | None = None,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Write the channel layout and manifest.json for `dataset` under `out_dir`; return the manifest."""
    out = Path(out_dir)
    target = _check_input(dataset, target or dataset.target)
    raw = dataset.frame.set_axis([str(c) for c in dataset.frame.columns], axis=1)
    missing = raw[target].isna()
    dropped = int(missing.sum())
    if dropped > MAX_MISSING_TARGET * len(raw):
        raise DatasetError(
            f"target {target!r} is missing in {dropped} of {len(raw)} rows (more than "
            f"{MAX_MISSING_TARGET:.0%}); fill it in or choose another target column"
        )
    frame = raw.loc[~missing].reset_index(drop=True)
    if len(frame) < MIN_ROWS:
        raise DatasetError(f"need at least {MIN_ROWS} rows with a target value, got {len(frame)}")
    if problem_type is None and target == dataset.target:
        problem_type = dataset.problem_type
    labels = encode_labels(frame[target], problem_type)
    exploration = explore(raw, target, labels, name=dataset.name, source=dataset.source, seed=seed)
    classification = labels.problem_type != "regression"
    split = split_rows(len(frame), seed=seed, classes=labels.values if classification else None)
    features = [c for c in frame.columns if c != target]
    encoding = FeatureEncoding.fit(frame.loc[split.train, features])

    _clear_out_dir(out)
    for part in FRACTIONS:
        rows = getattr(split, part)
        encoded = encoding.transform(frame.loc[rows, features])
        _write_encoded(out / FILES[part], labels.values[rows], encoded)
    _write_raw(out / FILES["test_raw"], frame.loc[split.test])
    _write_raw(out / FILES["autopilot"], frame.loc[np.concatenate([split.train, split.validation])])
    write_exploration(out, exploration)

    manifest: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "name": dataset.name,
        "source": dataset.source,
        "target": target,
        "problem_type": labels.problem_type,
        "classes": list(labels.classes),
        "positive_class": labels.classes[1] if labels.problem_type == "binary" else None,
        "raw_columns": features,
        "feature_names": encoding.feature_names,
        **encoding.to_manifest(),
        "missing_values": {
            "numeric": "empty CSV field (XGBoost: missing)",
            "categorical": "all-zero one-hot",
        },
        "rows": {part: len(getattr(split, part)) for part in FRACTIONS},
        "dropped_rows": {"missing_target": dropped},
        "class_counts": _class_counts(labels, split),
        "channels": dict(CHANNELS),
        "files": dict(FILES),
        "split": {**FRACTIONS, "stratified": classification},
        "seed": seed,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def write_exploration(out_dir: Path, exploration: Exploration) -> None:
    """exploration.json and exploration.html, beside the manifest."""
    text = json.dumps(exploration, indent=2, ensure_ascii=False) + "\n"
    (out_dir / EXPLORATION).write_text(text, encoding="utf-8")
    (out_dir / EXPLORATION_HTML).write_text(render_exploration(exploration), encoding="utf-8")


def read_exploration(dataset_dir: Path | str) -> Exploration:
    """Load the exploration.json of a prepared dataset directory."""
    exploration: Exploration = json.loads((Path(dataset_dir) / EXPLORATION).read_text(encoding="utf-8"))
    return exploration


def _upload_exploration(out_dir: Path, uri: str, client: "S3Client") -> None:
    """Put the exploration beside the uploaded manifest; a run does not read it, so it may come last."""
    bucket, prefix = parse_s3_uri(uri, default_prefix="")
    for name, content_type in ((EXPLORATION, "application/json"), (EXPLORATION_HTML, "text/html")):
        client.upload_file(
            str(out_dir / name), bucket, prefix + name, ExtraArgs={"ContentType": content_type}
        )


def read_manifest(dataset_dir: Path | str) -> dict[str, Any]:
    """Load the manifest.json of a prepared dataset directory."""
    manifest: dict[str, Any] = json.loads((Path(dataset_dir) / MANIFEST).read_text(encoding="utf-8"))
    return manifest


def prepare(
    source: str | Dataset,
    out_dir: Path | str,
    *,
    target: str | None = None,
    rows: int | None = None,
    seed: int = DEFAULT_SEED,
    problem_type: str | None = None,
    upload: str | None = None,
    s3_client: "S3Client | None" = None,
) -> Prepared:
    """Load (a dataset name or CSV path), prepare, and when `upload` is an s3:// URI, upload."""
    dataset = source if isinstance(source, Dataset) else load_dataset(source, rows=rows, seed=seed)
    default_prefix = f"datasets/{dataset.name}"
    if upload is not None:
        parse_s3_uri(upload, default_prefix=default_prefix)  # fail on a bad URI before writing anything
    manifest = prepare_dataset(dataset, out_dir, target=target, problem_type=problem_type, seed=seed)
    uri = None
    if upload is not None:
        client = s3_client or boto3.client("s3")
        uri = upload_dataset(Path(out_dir), upload, default_prefix=default_prefix, s3_client=client)
        _upload_exploration(Path(out_dir), uri, client)
    return Prepared(Path(out_dir), manifest, uri, read_exploration(out_dir))
