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


# What `mlstack data prepare` writes beside the manifest about the raw data, before any encoding: for
# people (the HTML page) and for a run's report (the JSON). A run does not need them.
EXPLORATION = "exploration.json"
EXPLORATION_HTML = "exploration.html"
EXPLORATION_FORMAT_VERSION = 1
# warning code -> what it flags; every warning also says what to do about it.
EXPLORATION_WARNINGS = {
    "mostly_missing": "a column is missing in most rows",
    "constant": "a column has at most one distinct value",
    "id_like": "a column has a distinct value in (almost) every row, like an identifier",
    "suspected_leakage": "one feature alone predicts the target almost perfectly",
    "class_imbalance": "the largest class outnumbers the smallest many times over",
    "target_missing": "rows without a target value, which preparation drops",
}


class ExplorationCount(TypedDict):
    """One category or class: its value (as text), its rows and their share of the counted rows."""

    value: str
    count: int
    share: float


class ExplorationHistogram(TypedDict):
    """Equal-width bins over the finite values: len(edges) == len(counts) + 1."""

    edges: list[float]
    counts: list[int]


class ExplorationNumeric(TypedDict):
    """Statistics of a numeric column's finite values (None when it has none)."""

    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    quantiles: dict[str, float | None]  # "p05", "p25", "p50", "p75", "p95"
    zeros: int
    infinite: int
    histogram: ExplorationHistogram


class ExplorationCategorical(TypedDict):
    """The most frequent values of a non-numeric column, most frequent first, and the rows of the rest."""

    top: list[ExplorationCount]
    other_count: int


class ExplorationSingleFeature(TypedDict):
    """A one-feature model's score on held-out rows: AUC (classification) or R² (regression)."""

    metric: str
    score: float | None


class ExplorationColumn(TypedDict):
    """One raw column. type: numeric, categorical or boolean (the target's too)."""

    name: str
    role: str  # feature or target
    type: str
    dtype: str
    missing: int
    missing_share: float
    unique: int
    unique_share: float  # of the non-missing rows
    numeric: ExplorationNumeric | None
    categorical: ExplorationCategorical | None
    single_feature: ExplorationSingleFeature | None  # features only
    target_purity: float | None  # non-numeric features in classification: see ExplorationLeakageCheck


class ExplorationTarget(TypedDict):
    """The target: its problem type, rows without a value, and the class balance (classification)."""

    name: str
    problem_type: str
    missing: int
    classes: list[ExplorationCount]  # [] for regression
    imbalance_ratio: float | None  # largest class / smallest class; None for regression


class ExplorationWarning(TypedDict):
    """Something a user can act on: `code` is a key of EXPLORATION_WARNINGS; column is None for the table."""

    code: str
    column: str | None
    message: str
    action: str


class ExplorationLeakageCheck(TypedDict):
    """How single_feature was measured (on a seeded sample when the data is larger than max_rows)."""

    metric: str
    threshold: float
    purity_threshold: float
    rows: int
    max_rows: int
    sampled: bool
    holdout_share: float
    model: str


class Exploration(TypedDict):
    """exploration.json."""

    format_version: int
    name: str
    source: str
    rows: int
    target: ExplorationTarget
    columns: list[ExplorationColumn]  # the raw columns, in their order, the target included
    warnings: list[ExplorationWarning]
    leakage_check: ExplorationLeakageCheck
