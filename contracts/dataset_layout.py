"""The prepared dataset's layout: what `mlstack data prepare` writes and the pipeline reads.

A dataset is one S3 prefix (or local folder) holding five channels and a manifest:

- numeric channels (train, validation, test): CSV without a header, the label in the first column and
  the encoded features after it, as built-in XGBoost reads them; the label is the class index
  (classification) or the target value (regression).
- raw channels (test_raw, autopilot): CSV with a header row and the raw target column under its own
  name, as Autopilot reads them. test_raw holds the same rows as test, in the same order; autopilot
  holds the train rows and then the validation rows, each in its numeric channel's order (so its last
  rows are the validation rows, raw: what Evaluate sends Autopilot to choose its decision threshold).

manifest.json says where each channel is (`channels`, prefixes relative to the dataset root) and what a
run needs to know (`ManifestFields`); it is written last, so a reader that finds it finds the channels.
"""

from __future__ import annotations

from typing import TypedDict

FORMAT_VERSION = 1
# The manifest versions ValidateInput accepts.
SUPPORTED_FORMAT_VERSIONS = (FORMAT_VERSION,)
MANIFEST = "manifest.json"


# channel -> its prefix, relative to the dataset root.
CHANNELS = {
    "train": "train/",
    "validation": "validation/",
    "test": "test/",
    "test_raw": "test-raw/",
    "autopilot": "autopilot/",
}
# channel -> its one file, relative to the dataset root.
FILES = {
    "train": "train/train.csv",
    "validation": "validation/validation.csv",
    "test": "test/test.csv",
    "test_raw": "test-raw/test.csv",
    "autopilot": "autopilot/train.csv",
}
CHANNEL_NAMES: tuple[str, ...] = tuple(CHANNELS)
NUMERIC_CHANNELS = ("train", "validation", "test")
# The content types SageMaker is told for each kind of channel.
# SageMaker refuses an Autopilot job whose training data has fewer rows (CreateAutoMLJob's and
# CreateAutoMLJobV2's input data: "a minimum of 500 rows"); the autopilot channel is train + validation.
AUTOPILOT_MIN_ROWS = 500
NUMERIC_CONTENT_TYPE = "text/csv"
RAW_CONTENT_TYPE = "text/csv;header=present"


class Channels(TypedDict):
    """One value per channel (the keys of CHANNELS, as the tests check): a prefix, a file or an S3 URI."""

    train: str
    validation: str
    test: str
    test_raw: str
    autopilot: str


class ManifestRows(TypedDict):
    """Rows per numeric channel (each at least 1)."""

    train: int
    validation: int
    test: int


# numeric channel -> class name -> rows of that class (classification; {} for regression).
ClassCounts = dict[str, dict[str, int]]


class _RequiredManifestFields(TypedDict):
    format_version: int
    problem_type: str  # binary, multiclass or regression
    target: str  # the raw channels' target column
    classes: list[str]  # the class names, in label order (binary: exactly 2; regression: none)
    rows: ManifestRows
    channels: Channels


# Optional through total=False (see contracts/run.py on NotRequired under Python 3.11).
class ManifestFields(_RequiredManifestFields, total=False):
    """The manifest fields a run relies on; `mlstack data prepare` writes more, for people and tools.

    class_counts sets a binary run's scale_pos_weight; without it the tuning job trains unweighted.
    """

    class_counts: ClassCounts
