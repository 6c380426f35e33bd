"""The execution input's keys: which stage settings a run may override, and which only a run gives."""

from __future__ import annotations

# The stack passes the stage's values as defaults (STAGE_DEFAULTS); an execution may override each.
STAGE_KEYS = (
    "training_instance_type",
    "endpoint_instance_type",
    "tuning_max_jobs",
    "tuning_max_parallel_jobs",
    "tuning_strategy",
    "use_spot_training",
    "training_max_runtime_s",
    "autopilot_max_candidates",
    "autopilot_max_runtime_s",
    "autopilot_mode",
    "poll_seconds",
    "endpoint_ttl_hours",
)
# Keys only an execution gives.
INPUT_KEYS = ("dataset", "tuning_ranges", "objective", "keep_endpoint")

# The limits a stage default (checked at synth) and an execution override (checked by ValidateInput)
# must both respect: one table, so a stage that synthesizes can also run.
STRATEGIES = ("Bayesian", "Random", "Grid", "Hyperband")
AUTOPILOT_MODES = ("ENSEMBLING", "HYPERPARAMETER_TUNING", "AUTO")
MIN_RUNTIME_S = 60
MAX_TRAINING_RUNTIME_S = 28 * 24 * 3600  # SageMaker's limit for one training job
MAX_JOB_RUNTIME_S = 30 * 24 * 3600  # tuning and AutoML jobs
