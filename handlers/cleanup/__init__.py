"""Cleanup: stop this run's jobs and delete its endpoint, endpoint config and models, idempotently."""
