"""The sweeper's metric, emitted by handlers/sweeper and watched by the stack's alarm."""

from __future__ import annotations

METRIC_NAMESPACE = "MLStack"
EXPIRED_METRIC = "ExpiredEndpoints"
STACK_DIMENSION = "stack"
# Powertools adds it as the `service` dimension; fixed so the alarm never depends on the environment.
METRIC_SERVICE = "sweeper"
