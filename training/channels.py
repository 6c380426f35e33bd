"""Read a training channel as built-in XGBoost does: every file, CSV, label first, no header."""

from pathlib import Path

import numpy as np
import pandas as pd

from training.container import channel_env
from training.csvio import sniff_file_delimiter
from training.errors import ChannelError


def channel_files(path: Path, name: str) -> list[Path]:
    """Every non-hidden file under a channel directory, in a stable order."""
    if not path.is_dir():
        raise ChannelError(
            f"channel {name!r} is missing: {path} does not exist (add a {name!r} channel to the job "
            f"or set {channel_env(name)})"
        )
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    if not files:
        raise ChannelError(f"channel {name!r} is empty: no files in {path}")
    return files


def read_channel(path: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features (float32, NaN = missing) and labels of every CSV file in a channel."""
    files = channel_files(path, name)
    frames = []
    for file in files:
        try:
            frame = pd.read_csv(file, header=None, sep=sniff_file_delimiter(file), dtype=np.float32)
        except pd.errors.EmptyDataError:
            continue
        except ValueError as exc:
            raise ChannelError(
                f"channel {name!r}: cannot read {file.name} as numeric CSV with the label first "
                f"and no header ({exc})"
            ) from None
        frames.append(frame)
    widths = {frame.shape[1] for frame in frames}
    if not frames or sum(len(f) for f in frames) == 0:
        raise ChannelError(f"channel {name!r} has no rows in {path}")
    if len(widths) > 1:
        raise ChannelError(f"channel {name!r}: files have different column counts {sorted(widths)}")
    if widths == {1}:
        raise ChannelError(f"channel {name!r} has a label column but no feature columns")
    labels = np.concatenate([frame.iloc[:, 0].to_numpy(copy=True) for frame in frames])
    unlabeled = np.flatnonzero(np.isnan(labels))
    if unlabeled.size:
        raise ChannelError(
            f"channel {name!r}: {unlabeled.size} rows have no label (first at row {unlabeled[0] + 1})"
        )
    # One C-contiguous copy of the features, filled file by file; the frames go when this returns, so
    # the job holds the channel once (and XGBoost its own copy).
    features = np.empty((len(labels), widths.pop() - 1), dtype=np.float32)
    start = 0
    for frame in frames:
        features[start : start + len(frame)] = frame.iloc[:, 1:].to_numpy()
        start += len(frame)
    return features, labels
