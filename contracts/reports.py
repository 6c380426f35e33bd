"""Where a run's reports live: planned by ValidateInput, written by Evaluate and Cleanup.

Also the shapes evaluation.json gives what report.html and `mlstack report` draw: each finalist's
insight on the test set and the dataset's exploration summary. Both are bounded (curves and samples
have a fixed number of points, the data summary one row per raw column).
"""

from __future__ import annotations

from typing import TypedDict


def report_key(run_id: str, name: str = "") -> str:
    """`reports/<run_id>/<name>` (the prefix itself when `name` is empty)."""
    return f"reports/{run_id}/{name}"


# --- a finalist's insight on the test set (evaluation.json: variants.<variant>.insight) -----------------


class Curve(TypedDict):
    """Points of a curve, in order; thresholds[i] is the score cut at point i (None: the curve's end)."""

    x: list[float]
    y: list[float]
    thresholds: list[float | None]


class BinaryInsight(TypedDict):
    """ROC (x false positive rate, y true positive rate) and precision-recall (x recall, y precision).

    None, with the reason, when the variant returned labels without a probability.
    """

    kind: str  # "binary"
    roc: Curve | None
    pr: Curve | None
    average_precision: float | None
    reason: str | None


class ClassScores(TypedDict):
    """One class on the test set: precision, recall and F1 of it against the rest."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int  # test rows of this class
    predicted: int  # test rows predicted as this class


class MulticlassInsight(TypedDict):
    kind: str  # "multiclass"
    classes: list[ClassScores]


class RegressionInsight(TypedDict):
    """Actual and predicted values of an evenly spread sample of the test rows, and the residuals' spread."""

    kind: str  # "regression"
    rows: int  # test rows in all (the sample has at most contracts' bound of them)
    actual: list[float]
    predicted: list[float]
    residual_mean: float | None  # actual - predicted, over every test row
    residual_quantiles: dict[str, float | None]  # "p05", "p50", "p95"


Insight = BinaryInsight | MulticlassInsight | RegressionInsight


# --- the dataset as mlstack data prepare explored it (evaluation.json: data) ---------------------------


class DataColumn(TypedDict):
    """One raw column of exploration.json, in a line: its type, missing and distinct values, a summary."""

    name: str
    role: str  # feature or target
    type: str  # numeric, categorical or boolean
    missing: int
    missing_share: float
    unique: int
    summary: str  # numeric: min / median / max; otherwise the most frequent value and its share
    single_feature: float | None  # the one-feature model's held-out score (features only)
    warnings: list[str]  # warning codes about this column


class DataWarning(TypedDict):
    code: str
    column: str | None
    message: str
    action: str


class DataSummary(TypedDict):
    """What evaluation.json keeps of the dataset's exploration.json, or why it has none."""

    source: str  # the exploration.json it was read from
    status: str  # "read", "missing" (a dataset prepared before explorations) or "unreadable"
    reason: str | None  # missing or unreadable: what happened and what to do
    name: str | None
    rows: int | None
    target: str | None
    classes: list[dict[str, object]]  # {value, count, share} per class (classification)
    single_feature_metric: str | None  # "auc" or "r2"
    column_count: int  # raw columns in the exploration; `columns` keeps at most a bounded number of them
    columns: list[DataColumn]
    warnings: list[DataWarning]


# --- what the local Autopilot writes where a candidate's CandidateArtifactLocations point ---------------
# SageMaker's own reports there are PDFs and notebooks; the local Autopilot writes these JSON documents,
# which Evaluate reads for the report (and notes their absence for a candidate that has none).
MODEL_INSIGHTS_FILE = "model_insights.json"  # under CandidateArtifactLocations.ModelInsights
EXPLAINABILITY_FILE = "explainability.json"  # under CandidateArtifactLocations.Explainability


class PreprocessingStep(TypedDict):
    """One step a candidate's rows go through before its algorithm: what it does and to which columns."""

    step: str  # the transformer's name, as the library calls it
    does: str
    columns: list[str]


class CandidateDefinition(TypedDict):
    """A candidate as its candidate definition would state it: preprocessing, algorithm, hyperparameters."""

    algorithm: str  # in words, e.g. "LightGBM gradient-boosted trees"
    model_type: str  # the library's class, e.g. "LGBModel"
    library: str  # e.g. "AutoGluon-Tabular 1.6.3"
    preprocessing: list[PreprocessingStep]
    hyperparameters: dict[str, str]  # as set, then as fitted (e.g. the boosting rounds early stopping kept)
    ensemble: dict[str, float] | None  # member -> weight, for an ensemble
    features: int


class CandidateInsights(TypedDict):
    """model_insights.json: the candidate's definition and its metrics on the validation rows."""

    candidate: str
    job: str
    problem_type: str
    objective: str
    definition: CandidateDefinition
    validation_rows: int
    metrics: dict[str, float]  # Autopilot's metric names (AutoMLMetricExtendedEnum)


class FeatureImportance(TypedDict):
    feature: str
    importance: float  # the objective lost when the feature's values are shuffled


class CandidateExplainability(TypedDict):
    """explainability.json: which features the candidate relies on, most first."""

    candidate: str
    method: str
    rows: int
    features: list[FeatureImportance]
