"""What a local Autopilot candidate is and how it behaves, read from the fitted AutoGluon predictor.

Runs inside the AutoML job process (automl_worker), after the search: each candidate's definition
(the preprocessing its rows go through, its algorithm and the hyperparameters it was fit with), its
metrics on the validation rows, and a permutation feature importance; automl.py publishes them as
contracts.reports' CandidateInsights and CandidateExplainability.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from contracts.reports import (
    CandidateDefinition,
    CandidateExplainability,
    FeatureImportance,
    PreprocessingStep,
)

# AutoGluon model class -> the algorithm in words.
ALGORITHMS = {
    "LGBModel": "LightGBM gradient-boosted trees",
    "XGBoostModel": "XGBoost gradient-boosted trees",
    "RFModel": "scikit-learn random forest",
    "XTModel": "scikit-learn extremely randomized trees (extra trees)",
    "LinearModel": "scikit-learn linear model (logistic regression for classes, ridge for values)",
    "WeightedEnsembleModel": "a weighted average of other candidates' predictions (ensemble selection)",
}
# Autopilot metric -> AutoGluon metric, per problem type: the metrics SageMaker lists for a candidate.
CANDIDATE_METRICS = {
    "binary": {
        "Accuracy": "accuracy",
        "BalancedAccuracy": "balanced_accuracy",
        "F1": "f1",
        "Precision": "precision",
        "Recall": "recall",
        "AUC": "roc_auc",
        "LogLoss": "log_loss",
    },
    "multiclass": {
        "Accuracy": "accuracy",
        "BalancedAccuracy": "balanced_accuracy",
        "F1macro": "f1_macro",
        "PrecisionMacro": "precision_macro",
        "RecallMacro": "recall_macro",
        "LogLoss": "log_loss",
    },
    "regression": {
        "MSE": "mean_squared_error",
        "RMSE": "root_mean_squared_error",
        "MAE": "mean_absolute_error",
        "R2": "r2",
    },
}
EXPLAIN_ROWS = 200  # validation rows the permutation importance shuffles (seeded)
HYPERPARAMETER_CHARS = 200  # a value longer than this is cut: a definition, not a dump


def _first_sentence(doc: str | None) -> str:
    text = " ".join((doc or "").split())
    end = text.find(". ")
    return text[: end + 1] if end >= 0 else text


def _text(value: Any) -> str:
    text = str(value)
    return text if len(text) <= HYPERPARAMETER_CHARS else text[: HYPERPARAMETER_CHARS - 1] + "…"


def job_preprocessing(predictor: Any) -> list[PreprocessingStep]:
    """The feature generator every candidate's rows went through, stage by stage, as AutoGluon fit it."""
    generator = predictor._learner.feature_generator
    steps: list[PreprocessingStep] = []
    for stage in generator.generators:
        for step in stage:
            columns = [str(c) for c in step.features_in]
            if not columns:
                continue
            does = _first_sentence(type(step).__doc__)
            dropped = [c for c in columns if c not in set(step.features_out)]
            if dropped:
                does += f" Dropped: {', '.join(dropped)}."
            steps.append(PreprocessingStep(step=type(step).__name__, does=does, columns=columns))
    booleans = generator.feature_metadata.get_features(required_special_types=["bool"])
    if booleans:
        steps.insert(
            0,
            PreprocessingStep(
                step="AsTypeFeatureGenerator (booleans)",
                does="Columns with exactly two values are recoded as 0/1.",
                columns=[str(c) for c in booleans],
            ),
        )
    return steps


def _model_preprocessing(model: Any) -> list[PreprocessingStep]:
    """What the model itself does to its inputs (AutoGluon's per-model _preprocess)."""
    kind = type(model).__name__
    categorical = [
        str(c) for c in model._feature_metadata.get_features(valid_raw_types=["category", "object"])
    ]
    if kind == "LGBModel":
        return [
            PreprocessingStep(
                step="LightGBM categorical features",
                does="Category columns are split on natively by LightGBM; missing values go their own way.",
                columns=categorical,
            )
        ]
    if kind == "XGBoostModel":
        if getattr(model, "_ohe", False):
            does = "Category columns are one-hot encoded (rare levels merged, unseen ones ignored)."
        else:
            does = "Category columns are coded as integers for XGBoost's native categorical splits."
        return [PreprocessingStep(step="XGBoost category encoding", does=does, columns=categorical)]
    if kind in ("RFModel", "XTModel"):
        return [
            PreprocessingStep(
                step="Label encoding, missing as 0",
                does="Category columns become integer codes and missing values 0 before the trees see them.",
                columns=[str(c) for c in model.features],
            )
        ]
    if kind == "LinearModel":
        pipeline = getattr(model, "_pipeline", None)
        steps = []
        for name, transformer, columns in getattr(pipeline, "transformers_", []):
            if name == "remainder" or not len(columns):
                continue
            inner = [type(t).__name__ for _, t in getattr(transformer, "steps", [])] or [
                type(transformer).__name__
            ]
            steps.append(
                PreprocessingStep(
                    step=" -> ".join(inner), does=f"the {name} columns", columns=[str(c) for c in columns]
                )
            )
        return steps
    return []


def definition(predictor: Any, name: str, shared: list[PreprocessingStep]) -> CandidateDefinition:
    """One candidate's preprocessing, algorithm and hyperparameters, from the fitted model."""
    model = predictor._trainer.load_model(name)
    info = model.get_info()
    kind = type(model).__name__
    hyperparameters = {k: _text(v) for k, v in sorted((info.get("hyperparameters") or {}).items())}
    hyperparameters |= {
        f"{k} (fitted)": _text(v) for k, v in sorted((info.get("hyperparameters_fit") or {}).items())
    }
    ensemble = None
    if hasattr(model, "_get_model_weights"):
        ensemble = {str(k): round(float(v), 4) for k, v in model._get_model_weights().items()}
    return CandidateDefinition(
        algorithm=ALGORITHMS.get(kind, kind),
        model_type=kind,
        library=f"AutoGluon-Tabular {version('autogluon.tabular')}",
        # An ensemble's members saw the shared preprocessing; it only weighs their predictions.
        preprocessing=[]
        if ensemble is not None
        else [*shared, *(step for step in _model_preprocessing(model) if step["columns"])],
        hyperparameters=hyperparameters,
        ensemble=ensemble,
        features=int(info.get("num_features") or 0),
    )


def validation_metrics(predictor: Any, valid: Any, problem: str) -> dict[str, dict[str, float]]:
    """model -> Autopilot metric -> its value on the validation rows (as the metric reads)."""
    from autogluon.core.metrics import get_metric

    wanted = CANDIDATE_METRICS[problem]
    board = predictor.leaderboard(valid, extra_metrics=list(wanted.values()), silent=True)
    out: dict[str, dict[str, float]] = {}
    for _, row in board.iterrows():
        values = {}
        for name, metric in wanted.items():
            scorer = get_metric(metric, problem_type=problem)
            value = float(scorer.convert_score_to_original(float(row[metric])))
            values[name] = round(value, 6)
        out[str(row["model"])] = values
    return out


def explainability(
    predictor: Any, valid: Any, name: str, seed: int, time_limit_s: float
) -> CandidateExplainability:
    """Permutation importance on a seeded sample of the validation rows: how much the objective drops."""
    sample = valid.sample(n=min(EXPLAIN_ROWS, len(valid)), random_state=seed)
    table = predictor.feature_importance(
        sample,
        model=name,
        num_shuffle_sets=1,
        include_confidence_band=False,
        time_limit=max(0.5, time_limit_s),
        silent=True,
    )
    features = [
        FeatureImportance(feature=str(feature), importance=round(float(row["importance"]), 6))
        for feature, row in table.iterrows()
    ]
    return CandidateExplainability(
        candidate=name,
        method=(
            f"permutation importance on {len(sample)} validation rows, one shuffle per feature: the drop in "
            "the objective when a feature's values are shuffled"
        ),
        rows=len(sample),
        features=features,
    )
