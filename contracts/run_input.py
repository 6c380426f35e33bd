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
